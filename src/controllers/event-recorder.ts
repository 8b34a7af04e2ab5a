/**
 * Records core/v1 Events on objects, best-effort: a failed write is logged (without the message)
 * and never thrown. The same event on the same object repeated within the aggregation window bumps
 * the existing Event's count and lastTimestamp instead of creating another, as kubectl users expect.
 *
 * Messages end up readable by anyone who can list Events: callers must never put secret data
 * (credentials, keys, tokens, Secret contents) in them. The recorder does not log messages.
 */
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../domain/kube-object.js';
import { isNotFound, KubeApiError, type CoreEvent, type KubeClient } from '../kube/client.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Queues an Event about `object`; returns at once. */
  record(object: KubeObject, type: EventType, reason: string, message: string): void;
  normal(object: KubeObject, reason: string, message: string): void;
  warning(object: KubeObject, reason: string, message: string): void;
  /** Resolves when every queued write has finished (for shutdown and tests). */
  flush(): Promise<void>;
}

export interface EventRecorderOptions {
  client: KubeClient;
  logger: { warn(fields: object, message: string): void };
  /** source.component and reportingComponent. Default `autostash`. */
  component?: string;
  /** source.host and reportingInstance (e.g. the leader identity). */
  instance?: string;
  /** Repeats within this window are counted on one Event. Default 10 minutes (client-go's). */
  aggregationWindowMs?: number;
  /** Distinct events remembered for aggregation. Default 4,096. */
  maxRemembered?: number;
  now?: () => Date;
}

/** Kubernetes caps Event messages; longer ones are cut. */
const MAX_MESSAGE_LENGTH = 1024;

interface Remembered {
  namespace: string;
  name: string;
  count: number;
  firstTimestamp: string;
  lastRecordedMs: number;
}

/** A recorder writing through `client`. */
export function createEventRecorder(options: EventRecorderOptions): EventRecorder {
  const { client, logger } = options;
  const component = options.component ?? 'autostash';
  const windowMs = options.aggregationWindowMs ?? 10 * 60_000;
  const maxRemembered = options.maxRemembered ?? 4096;
  const now = options.now ?? (() => new Date());
  // Insertion order doubles as recency: a touched entry is re-inserted.
  const remembered = new Map<string, Remembered>();
  // Writes for one key run in order, so repeats aggregate even when recorded back to back.
  const chains = new Map<string, Promise<void>>();

  const remember = (key: string, entry: Remembered): void => {
    remembered.delete(key);
    remembered.set(key, entry);
    while (remembered.size > maxRemembered) remembered.delete(remembered.keys().next().value as string);
  };

  const write = async (key: string, object: KubeObject, type: EventType, reason: string, message: string): Promise<void> => {
    const metadata = object.metadata ?? {};
    const namespace = metadata.namespace || 'default';
    const objectName = metadata.name ?? 'unknown';
    const date = now();
    const time = date.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const previous = remembered.get(key);
    if (previous !== undefined && date.getTime() - previous.lastRecordedMs <= windowMs) {
      try {
        await client.patch(
          { apiVersion: 'v1', kind: 'Event', namespace: previous.namespace, name: previous.name },
          { type: 'merge', patch: { count: previous.count + 1, lastTimestamp: time } },
        );
        remember(key, { ...previous, count: previous.count + 1, lastRecordedMs: date.getTime() });
        return;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        // The Event expired or was deleted: start a new one.
      }
    }
    const name = `${objectName}.${randomBytes(8).toString('hex')}`;
    const event: CoreEvent = {
      metadata: { namespace, name },
      involvedObject: {
        ...(object.apiVersion ? { apiVersion: object.apiVersion } : {}),
        ...(object.kind ? { kind: object.kind } : {}),
        ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
        name: objectName,
        ...(metadata.uid ? { uid: metadata.uid } : {}),
        ...(metadata.resourceVersion ? { resourceVersion: metadata.resourceVersion } : {}),
      },
      reason,
      message: message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 3)}...` : message,
      type,
      source: { component, ...(options.instance ? { host: options.instance } : {}) },
      count: 1,
      firstTimestamp: time,
      lastTimestamp: time,
      reportingComponent: component,
      reportingInstance: options.instance ?? '',
    };
    await client.createEvent(event);
    remember(key, { namespace, name, count: 1, firstTimestamp: time, lastRecordedMs: date.getTime() });
  };

  const record = (object: KubeObject, type: EventType, reason: string, message: string): void => {
    const metadata = object.metadata ?? {};
    const key = JSON.stringify([object.apiVersion, object.kind, metadata.namespace, metadata.name, metadata.uid, type, reason, message]);
    const previous = chains.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => write(key, object, type, reason, message))
      .catch((error: unknown) => {
        // An API error's message may quote the Event (and so its message): log only its code.
        const cause = error instanceof KubeApiError ? { status: error.code, statusReason: error.reason } : { err: error instanceof Error ? error.message : String(error) };
        logger.warn({ kind: object.kind, namespace: metadata.namespace, name: metadata.name, reason, ...cause }, 'event not recorded');
      })
      .finally(() => {
        if (chains.get(key) === next) chains.delete(key);
      });
    chains.set(key, next);
  };

  return {
    record,
    normal: (object, reason, message) => record(object, 'Normal', reason, message),
    warning: (object, reason, message) => record(object, 'Warning', reason, message),
    async flush() {
      while (chains.size > 0) await Promise.all([...chains.values()]);
    },
  };
}
