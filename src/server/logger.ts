import type { IncomingMessage } from 'node:http';
import type { LoggerOptions } from 'pino';

/**
 * Field names whose values are credentials wherever they appear: Secret payloads, the storage
 * Secret keys of SPEC §3.2, restic's password, and generic password/token fields.
 */
export const sensitiveFieldNames = [
  'data',
  'stringData',
  'password',
  'token',
  'apiKey',
  'privateKey',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'GOOGLE_SERVICE_ACCOUNT_JSON_KEY',
  'AZURE_ACCOUNT_KEY',
  'RESTIC_PASSWORD',
] as const;

/** Credential-carrying HTTP headers, redacted wherever a `headers` object is logged. */
const sensitiveHeaderNames = ['authorization', 'proxy-authorization', 'cookie'] as const;

/** Compared case-insensitively: `aws_secret_access_key`, `APIKEY` and `Password` are credentials too. */
const sensitiveKeys: ReadonlySet<string> = new Set<string>([...sensitiveFieldNames, ...sensitiveHeaderNames].map((name) => name.toLowerCase()));

export const redactionCensor = '[REDACTED]';

/** Deeper than this a log field is replaced whole: the webhook never logs objects that deep, so it is a mistake. */
const maxLoggedDepth = 8;

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
};

/**
 * A copy of a log record with the value of every sensitive key (at any depth) replaced by the censor.
 * Only plain objects and arrays are walked: errors and other class instances keep their serializers.
 * (pino's own `redact` with leading `*` paths would also run on every child logger's bindings, which costs
 * ~9 µs per request; this runs only for lines actually written.)
 */
export function redactSensitive(value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) {
    return depth >= maxLoggedDepth ? redactionCensor : value.map((item) => redactSensitive(item, depth + 1));
  }
  if (!isPlainObject(value)) return value;
  if (depth >= maxLoggedDepth) return redactionCensor;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    copy[key] = sensitiveKeys.has(key.toLowerCase()) ? redactionCensor : redactSensitive(field, depth + 1);
  }
  return copy;
}

/**
 * pino options for the webhook: JSON lines, ISO timestamps, credentials redacted.
 * The webhook logs constant messages with fields and never whole objects; redaction is the safety net.
 */
export function webhookLoggerOptions(level = 'info'): LoggerOptions {
  return {
    level,
    base: { service: 'autostash' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: {
      level: (label) => ({ level: label }),
      log: (record) => redactSensitive(record) as Record<string, unknown>,
    },
  };
}

const acceptableRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request ids: the caller's `x-request-id` when it is a short token, otherwise `req-<n>` from a counter.
 * (The AdmissionReview uid is only known after the body is parsed; handlers log it as the `uid` field.)
 */
export function requestIdGenerator(): (request: IncomingMessage) => string {
  let counter = 0;
  return (request) => {
    const header = request.headers['x-request-id'];
    if (typeof header === 'string' && acceptableRequestId.test(header)) return header;
    counter += 1;
    return `req-${counter.toString(36)}`;
  };
}
