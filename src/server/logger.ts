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

/** How deep below a log line's top level a sensitive field is still found (pino paths have no `**`). */
const redactionDepth = 4;

/** The pino redaction paths: each sensitive field at every depth up to `redactionDepth`, plus credential headers. */
export const redactedPaths: readonly string[] = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["proxy-authorization"]',
  'headers.cookie',
  ...sensitiveFieldNames.flatMap((name) =>
    Array.from({ length: redactionDepth + 1 }, (_, depth) => [...Array<string>(depth).fill('*'), name].join('.')),
  ),
];

export const redactionCensor = '[REDACTED]';

/**
 * pino options for the webhook: JSON lines, ISO timestamps, credentials redacted.
 * The webhook logs constant messages with fields and never whole objects; redaction is the safety net.
 */
export function webhookLoggerOptions(level = 'info'): LoggerOptions {
  return {
    level,
    base: { service: 'autostash' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    redact: { paths: [...redactedPaths], censor: redactionCensor },
    formatters: { level: (label) => ({ level: label }) },
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
