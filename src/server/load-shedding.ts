import { getHeapStatistics } from 'node:v8';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * When the webhook stops taking admission requests. The API server answers a webhook's 503 (or a
 * timeout) with the webhook's failurePolicy: Fail refuses the object, Ignore admits it unchecked. A
 * fast 503 is better than a stalled answer either way: the caller learns it at once instead of after
 * `timeoutSeconds`, and the requests already accepted still finish.
 */
export interface LoadSheddingOptions {
  /** Shed while the mean event-loop delay of the last sample exceeds this many milliseconds. */
  maxEventLoopDelayMs: number;
  /** Shed while the V8 heap in use exceeds this many bytes. */
  maxHeapUsedBytes: number;
  /** How often the delay and the heap are sampled, in milliseconds. */
  sampleIntervalMs: number;
  /** The Retry-After header of a shed request, in seconds. */
  retryAfterSeconds: number;
}

/** The pressure readings and whether they are over the limits. */
export interface PressureReport {
  underPressure: boolean;
  eventLoopDelayMs: number;
  heapUsedBytes: number;
  /** One line naming the limit that is exceeded (when underPressure). */
  reason?: string;
}

/**
 * Defaults: a mean event-loop delay of 1 s is two hundred times the webhook's p99 target and half the 2 s
 * timeoutSeconds of the install's webhook configurations: answers are about to miss the API server's deadline,
 * so a 503 now beats a timeout later (a lower limit sheds requests that would still have been answered in
 * time, and trips on a merely busy, shared node). 90 % of V8's heap limit is the last point before an
 * out-of-memory crash that would take every in-flight request with it.
 */
export function defaultLoadShedding(): LoadSheddingOptions {
  return {
    maxEventLoopDelayMs: 1000,
    maxHeapUsedBytes: Math.floor(getHeapStatistics().heap_size_limit * 0.9),
    sampleIntervalMs: 1000,
    retryAfterSeconds: 5,
  };
}

/** Route config that lets a route through while the server sheds load (health, readiness, metrics). */
export const exemptFromShedding = { pressureHandler: (): undefined => undefined } as const;

const mebibytes = (bytes: number): string => `${Math.round(bytes / (1024 * 1024))} MiB`;

/** Reads the current pressure of an app that registered load shedding. */
export function pressureOf(app: FastifyInstance, limits: LoadSheddingOptions): PressureReport {
  const usage = app.memoryUsage();
  const report = { underPressure: app.isUnderPressure(), eventLoopDelayMs: Math.round(usage.eventLoopDelay), heapUsedBytes: usage.heapUsed };
  if (!report.underPressure) return report;
  // under-pressure reports an infinite delay when the loop was blocked for a whole sample (no tick measured).
  const delay = Number.isFinite(report.eventLoopDelayMs) ? `${report.eventLoopDelayMs} ms` : `over ${limits.sampleIntervalMs} ms (blocked for a whole sample)`;
  const reason =
    usage.eventLoopDelay > limits.maxEventLoopDelayMs
      ? `event loop delay ${delay} is over the ${limits.maxEventLoopDelayMs} ms limit`
      : `heap in use ${mebibytes(usage.heapUsed)} is over the ${mebibytes(limits.maxHeapUsedBytes)} limit`;
  return { ...report, reason };
}

/**
 * Registers @fastify/under-pressure on `app`: while a limit is exceeded every route answers 503 with
 * Retry-After and a JSON body `{statusCode, error, message}` naming the limit, except routes whose config
 * is `exemptFromShedding`. The plugin loads with the app (`ready`/`listen`); sampling stops when the app closes.
 */
export function registerLoadShedding(app: FastifyInstance, limits: LoadSheddingOptions): void {
  const shed = (request: FastifyRequest, reply: FastifyReply): unknown => {
    const { reason } = pressureOf(app, limits);
    request.log.warn({ url: request.url, reason }, 'request shed under load');
    reply.code(503).header('retry-after', String(limits.retryAfterSeconds));
    // Returning the body makes under-pressure send it and stop the request here.
    return { statusCode: 503, error: 'Service Unavailable', message: `autostash is overloaded (${reason}): retry in ${limits.retryAfterSeconds} s` };
  };
  void app.register(underPressure, {
    maxEventLoopDelay: limits.maxEventLoopDelayMs,
    maxHeapUsedBytes: limits.maxHeapUsedBytes,
    sampleInterval: limits.sampleIntervalMs,
    retryAfter: limits.retryAfterSeconds,
    pressureHandler: shed as (request: FastifyRequest, reply: FastifyReply) => void,
  });
}
