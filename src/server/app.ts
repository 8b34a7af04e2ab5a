import type { Server as HttpsServer, ServerOptions as HttpsServerOptions } from 'node:https';
import fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { LoggerOptions } from 'pino';
import type { Registry } from 'prom-client';
import { mutate, validate, type AdmissionOutcome } from '../admission/handler.js';
import { decodeAdmissionReview, encodeAdmissionReview, type AdmissionRequest } from '../admission/review.js';
import { emptyClusterView, type ClusterView } from '../domain/cluster-view.js';
import type { KindRules } from '../domain/kind-rules.js';
import { groupKindKey } from '../domain/kube-object.js';
import { requestIdGenerator, webhookLoggerOptions } from './logger.js';
import { lazyChildLoggerFactory } from './lazy-child-logger.js';
import { createAdmissionMetrics } from './metrics.js';
import { defaultLoadShedding, exemptFromShedding, pressureOf, registerLoadShedding, type LoadSheddingOptions } from './load-shedding.js';
import { keepTlsPolicyOnReload, withTlsPolicy } from './tls-policy.js';

/** Largest AdmissionReview accepted: the API server's own request limit is larger, but no KubeStash object comes near. */
export const defaultBodyLimit = 7 * 1024 * 1024;

export type Webhook = 'mutate' | 'validate';

/** Readiness with the reason /readyz reports when not ready. */
export interface Readiness {
  ready: boolean;
  reason?: string;
}

/** What the app reports after answering an admission request (dry runs included; check `outcome.dryRun`). */
export interface AdmissionEvent {
  webhook: Webhook;
  request: AdmissionRequest;
  outcome: AdmissionOutcome;
}

export interface AppOptions {
  /** Rules per kind, keyed by `groupKindKey`. */
  rules: ReadonlyMap<string, KindRules>;
  /** The current cluster view, read once per request (the view may be swapped at runtime). Default: an empty cluster. */
  clusterView?: () => ClusterView;
  /** Readiness for /readyz. Default: always ready. */
  isReady?: () => boolean | Readiness;
  /** A pino logger to use as is, or pino options merged over `webhookLoggerOptions()`, or false for no logs. Default: info to stdout. */
  logger?: FastifyBaseLogger | LoggerOptions | false;
  /** Where metrics are registered. Default: a new Registry per app (never prom-client's global one). */
  registry?: Registry;
  /**
   * TLS for the server (key, cert, ...). Without it the app serves plain HTTP, which only tests and the bench use.
   * Certificate reload is done by the caller with `app.server.setSecureContext(...)`. The protocol and cipher
   * policy of tls-policy.ts is forced over these options.
   */
  https?: HttpsServerOptions;
  /**
   * Load shedding: limits over `defaultLoadShedding()`, or false for none. While over a limit, /mutate and
   * /validate answer 503 with Retry-After; /healthz and /metrics still answer; /readyz reports the pressure.
   */
  loadShedding?: Partial<LoadSheddingOptions> | false;
  /** Largest body accepted, in bytes. Default `defaultBodyLimit` (7 MiB). */
  bodyLimit?: number;
  /**
   * Called after each admission answer is computed. Later issues hand work to the controller here and must
   * skip side effects when `outcome.dryRun`. A throw is logged and does not change the answer.
   */
  onAdmitted?: (event: AdmissionEvent) => void;
}

/** The webhook app. `server` is an https.Server when `https` was given (a plain http.Server otherwise). */
export type AutostashApp = FastifyInstance<HttpsServer>;

interface TransportErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

const isPinoLogger = (logger: AppOptions['logger']): logger is FastifyBaseLogger =>
  typeof logger === 'object' && logger !== null && typeof (logger as { child?: unknown }).child === 'function';

const mebibytes = (bytes: number): string => `${Number((bytes / (1024 * 1024)).toFixed(2))} MiB`;

/** Routes whose wrong-method requests get 405 rather than 404. */
const admissionPath = /^\/(mutate|validate)(\/|\?|$)/;

/** Turns Fastify's transport errors into the clear 400 messages the webhook promises. */
function transportMessage(error: FastifyError, request: FastifyRequest, bodyLimit: number): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `body is larger than the ${mebibytes(bodyLimit)} limit (${bodyLimit} bytes): an AdmissionReview must be smaller`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      if (request.headers['content-type'] === undefined) return 'content type is missing: send the AdmissionReview as application/json';
      return `content type ${JSON.stringify(request.headers['content-type'])} is not supported: send the AdmissionReview as application/json`;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'body is empty: expected an AdmissionReview (admission.k8s.io/v1) as application/json';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return `body is not valid JSON${error.cause instanceof Error ? `: ${error.cause.message}` : ''}`;
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'body length does not match the Content-Length header';
    default:
      return error.message;
  }
}

const forbiddenKeyMessage = 'body contains a "__proto__" or "constructor.prototype" key: an AdmissionReview never does';

const badRequest = (message: string): TransportErrorBody => ({ statusCode: 400, error: 'Bad Request', message });

/** Longest 400 message (and logged reason) we send: a reason may quote what the client sent, which can be megabytes. */
export const MAX_REASON_LENGTH = 1024;

/** `message` cut to MAX_REASON_LENGTH characters, saying how much was cut. */
export function clipReason(message: string): string {
  if (message.length <= MAX_REASON_LENGTH) return message;
  return `${message.slice(0, MAX_REASON_LENGTH)}… (${message.length - MAX_REASON_LENGTH} more characters cut)`;
}

/**
 * Builds the webhook app without listening: `POST /mutate`, `POST /validate` (and `/mutate/<anything>`,
 * `/validate/<anything>`, which dispatch the same way — on request.kind, never on the path), `GET /healthz`,
 * `GET /readyz`, `GET /metrics`. Malformed requests get 400 with a message; a wrong method on the webhook
 * paths gets 405. The caller listens (`app.listen`) and closes it.
 */
export function buildApp(options: AppOptions): AutostashApp {
  const bodyLimit = options.bodyLimit ?? defaultBodyLimit;
  const rules = options.rules;
  const clusterView = options.clusterView ?? (() => emptyClusterView);
  const isReady = options.isReady ?? (() => true);
  const metrics = createAdmissionMetrics(options.registry);
  const shedding = options.loadShedding === false ? undefined : { ...defaultLoadShedding(), ...options.loadShedding };

  const loggerSetting = isPinoLogger(options.logger)
    ? { loggerInstance: options.logger }
    : options.logger === false
      ? { logger: false }
      : { logger: { ...webhookLoggerOptions(), ...(options.logger ?? {}) } };

  const app = fastify({
    ...(options.https ? { https: withTlsPolicy(options.https) } : {}),
    ...loggerSetting,
    bodyLimit,
    genReqId: requestIdGenerator(),
    childLoggerFactory: lazyChildLoggerFactory,
    // One line per admission answer (below) says more than Fastify's two generic lines per request.
    logController: new LogController({ disableRequestLogging: true }),
    // The API server gives up after at most 30 s (timeoutSeconds); a client that trickles its body is cut off then too.
    requestTimeout: 30_000,
    return503OnClosing: true,
  }) as unknown as AutostashApp;
  if (options.https) keepTlsPolicyOnReload(app.server);
  if (shedding !== undefined) registerLoadShedding(app, shedding);

  // Only JSON is accepted: without the text/plain parser such bodies fail as unsupported media types.
  app.removeContentTypeParser('text/plain');
  const defaultJsonParser = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (request, body, done) => {
    defaultJsonParser(request, body as string, (error, value) => {
      if (error && (error as FastifyError).code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        // The default parser drops the reason; recover it on this (rare) path only.
        try {
          JSON.parse(String(body));
        } catch (syntaxError) {
          error.cause = syntaxError;
          done(error, undefined);
          return;
        }
        // Valid JSON the default parser refused: it carries a prototype-poisoning key.
        done(Object.assign(new Error(forbiddenKeyMessage), { statusCode: 400, code: 'AUTOSTASH_FORBIDDEN_KEY' }), undefined);
        return;
      }
      done(error, value);
    });
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: 'internal error: see the autostash logs' });
    }
    const message = clipReason(transportMessage(error, request, bodyLimit));
    request.log.info({ code: error.code, reason: message }, 'request rejected');
    return reply.code(400).send(badRequest(message));
  });

  app.setNotFoundHandler((request, reply) => {
    if (admissionPath.test(request.url)) {
      return reply
        .code(405)
        .header('allow', 'POST')
        .send({ statusCode: 405, error: 'Method Not Allowed', message: `${request.method} is not allowed on ${request.url}: send an AdmissionReview with POST` });
    }
    return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${request.url}` });
  });

  const admit = (webhook: Webhook) => (request: FastifyRequest, reply: FastifyReply) => {
    const started = process.hrtime.bigint();
    const decoded = decodeAdmissionReview(request.body);
    if (!decoded.ok) {
      metrics.requests.inc({ webhook, kind: 'none', operation: 'none', result: 'bad_request' });
      const reason = clipReason(decoded.message);
      request.log.info({ webhook, reason }, 'request rejected');
      return reply.code(400).send(badRequest(reason));
    }
    const admission = decoded.request;
    const kindKey = groupKindKey(admission.kind);
    const outcome = (webhook === 'mutate' ? mutate : validate)(admission, { rules, view: clusterView(), log: request.log });

    metrics.requests.inc({
      webhook,
      kind: rules.has(kindKey) ? admission.kind.kind : 'other',
      operation: admission.operation,
      result: outcome.result,
    });
    metrics.duration.observe({ webhook }, Number(process.hrtime.bigint() - started) / 1e9);
    const fields = {
      webhook,
      uid: admission.uid,
      kind: kindKey,
      operation: admission.operation,
      namespace: admission.namespace,
      name: admission.name,
      dryRun: admission.dryRun,
      result: outcome.result,
    };
    if (outcome.result === 'denied' || outcome.result === 'error') request.log.info(fields, 'admission answered');
    else request.log.debug(fields, 'admission answered');

    if (options.onAdmitted) {
      try {
        options.onAdmitted({ webhook, request: admission, outcome });
      } catch (error) {
        request.log.error({ err: error, uid: admission.uid }, 'admission listener threw');
      }
    }
    return reply.send(encodeAdmissionReview(outcome.response));
  };

  for (const webhook of ['mutate', 'validate'] as const) {
    app.post(`/${webhook}`, admit(webhook));
    app.post(`/${webhook}/*`, admit(webhook));
  }

  app.get('/healthz', { config: exemptFromShedding }, (_request, reply) => reply.send({ status: 'ok' }));

  app.get('/readyz', { config: exemptFromShedding }, (_request, reply) => {
    const state = isReady();
    const readiness: Readiness = typeof state === 'boolean' ? { ready: state } : state;
    const pressure = shedding === undefined ? undefined : pressureOf(app, shedding);
    if (readiness.ready && pressure?.underPressure === true) {
      // Not ready while shedding: a Service sends the API server's calls to a replica that can answer them.
      return reply.code(503).send({ status: 'under pressure', reason: pressure.reason });
    }
    if (readiness.ready) return reply.send({ status: 'ready' });
    return reply.code(503).send({ status: 'not ready', reason: readiness.reason ?? 'the webhook is starting: certificates or cluster caches are not loaded yet' });
  });

  app.get('/metrics', { config: exemptFromShedding }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  return app;
}
