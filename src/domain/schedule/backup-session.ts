/**
 * The BackupSession that stands for one run of a BackupConfiguration session, whoever asks for it
 * (the scheduler, the initial backup, `autostash trigger`). Pure: names and times are arguments.
 */
import type { BackupConfiguration, BackupSession, Session } from '../../api/core.js';
import {
  INVOKER_KIND_LABEL,
  INVOKER_NAME_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SCHEDULED_AT_ANNOTATION,
  SESSION_NAME_LABEL,
  TRIGGERED_BY_ANNOTATION,
  type TriggeredBy,
} from '../execution/labels.js';

export const CORE_GROUP = 'core.kubestash.com';
export const CORE_API_VERSION = `${CORE_GROUP}/v1alpha1`;

export interface BackupSessionRequest {
  /** The invoker; it must carry metadata.name, namespace and uid (the owner reference needs the uid). */
  configuration: BackupConfiguration;
  session: Session;
  /** The BackupSession name (generateBackupSessionName). */
  name: string;
  triggeredBy: TriggeredBy;
  /** The slot a scheduled session stands for; recorded in the scheduled-at annotation. */
  scheduledAt?: Date;
  /** spec.retryLeft: the scheduler gives retryConfig.maxRetry, a manual trigger 0 (as kubectl kubestash trigger). */
  retryLeft: number;
}

/** RFC 3339 in UTC without milliseconds (`2025-01-01T02:00:00Z`), as Kubernetes writes times. */
export const formatTimestamp = (time: Date): string => time.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * A BackupSession owned by the configuration (controller reference, so it goes with it), labelled
 * with KubeStash's invoker and session labels (how BackupSessions of a session are found) and
 * annotated with who created it and, when scheduled, for which slot.
 */
export function buildBackupSession(request: BackupSessionRequest): BackupSession {
  const { configuration, session, name, triggeredBy, scheduledAt, retryLeft } = request;
  const metadata = configuration.metadata ?? {};
  const configurationName = metadata.name as string;
  return {
    apiVersion: CORE_API_VERSION,
    kind: 'BackupSession',
    metadata: {
      name,
      namespace: metadata.namespace as string,
      labels: {
        [INVOKER_KIND_LABEL]: 'BackupConfiguration',
        [INVOKER_NAME_LABEL]: configurationName,
        [SESSION_NAME_LABEL]: session.name ?? '',
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
      },
      annotations: {
        [TRIGGERED_BY_ANNOTATION]: triggeredBy,
        ...(scheduledAt !== undefined ? { [SCHEDULED_AT_ANNOTATION]: formatTimestamp(scheduledAt) } : {}),
      },
      ownerReferences: [
        { apiVersion: CORE_API_VERSION, kind: 'BackupConfiguration', name: configurationName, uid: metadata.uid as string, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: {
      invoker: { apiGroup: CORE_GROUP, kind: 'BackupConfiguration', name: configurationName },
      session: session.name ?? '',
      retryLeft,
      ...(session.backupTimeout !== undefined ? { backupTimeout: session.backupTimeout } : {}),
    },
  } as BackupSession;
}
