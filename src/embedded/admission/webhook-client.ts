import { Agent, request } from 'node:https';
import type { WebhookClientConfig } from './webhook-config.js';

/**
 * Maps a `clientConfig.service` reference to a base URL (`https://127.0.0.1:9443`) that reaches it,
 * or undefined when the service is unknown. There is no cluster DNS on the embedded plane; whoever
 * starts both the plane and a webhook knows where the webhook listens.
 */
export type ServiceResolver = (namespace: string, name: string, port: number) => string | undefined;

/** Where one call goes: the URL, the name its certificate must carry, and the only CA trusted. */
export interface WebhookEndpoint {
  url: URL;
  /** Verified against the serving certificate (and sent as SNI); the URL's host when undefined. */
  serverName?: string;
  caPem?: string;
}

/** A failed call: unreachable, timed out, untrusted, non-2xx or unreadable answer. `reason` reads like kube's. */
export class WebhookCallError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'WebhookCallError';
  }
}

/** Largest webhook answer read; far above any sane AdmissionReview. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * The endpoint for a client config: `url` as given (it must be https), or `service` through the
 * resolver, verified as `<name>.<namespace>.svc` like kube-apiserver does. Throws WebhookCallError when
 * neither can be used.
 */
export function resolveEndpoint(config: WebhookClientConfig, resolveService: ServiceResolver | undefined): WebhookEndpoint {
  const ca = config.caPem === undefined ? {} : { caPem: config.caPem };
  if (config.url !== undefined) {
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      throw new WebhookCallError(`clientConfig.url ${JSON.stringify(config.url)} is not a valid URL`);
    }
    if (url.protocol !== 'https:') throw new WebhookCallError(`clientConfig.url ${JSON.stringify(config.url)} must use https`);
    return { url, ...ca };
  }
  if (config.service !== undefined) {
    const { namespace, name, port, path } = config.service;
    const base = resolveService?.(namespace, name, port);
    if (base === undefined) {
      throw new WebhookCallError(
        `service "${namespace}/${name}" cannot be reached: the embedded control plane has no cluster DNS and no address is known for it; use clientConfig.url`,
      );
    }
    const url = new URL(base);
    url.pathname = `${url.pathname.replace(/\/$/, '')}${path}`;
    return { url, serverName: `${name}.${namespace}.svc`, ...ca };
  }
  throw new WebhookCallError('clientConfig has neither url nor service');
}

/**
 * POSTs `body` as JSON to the endpoint over HTTPS, trusting only `caPem` (the system roots when it is
 * absent), and returns the parsed answer. Adds `?timeout=<n>s` as kube-apiserver's client does and gives
 * up after `timeoutSeconds`. Throws WebhookCallError for any failure.
 */
export function postJson(endpoint: WebhookEndpoint, body: unknown, timeoutSeconds: number, agent: Agent): Promise<unknown> {
  const url = new URL(endpoint.url);
  url.searchParams.set('timeout', `${timeoutSeconds}s`);
  const described = `Post "${url.toString()}"`;
  const payload = Buffer.from(JSON.stringify(body), 'utf8');

  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: WebhookCallError | undefined, value?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value);
    };
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        ...(endpoint.caPem !== undefined ? { ca: endpoint.caPem } : {}),
        ...(endpoint.serverName !== undefined ? { servername: endpoint.serverName } : {}),
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': payload.length },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy();
            finish(new WebhookCallError(`${described}: response is larger than ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', (error) => finish(new WebhookCallError(`${described}: ${error.message}`)));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          if (status < 200 || status > 299) {
            const snippet = text.length > 200 ? `${text.slice(0, 200)}…` : text;
            finish(new WebhookCallError(`${described}: the server responded with status ${status}${snippet === '' ? '' : `: ${snippet}`}`));
            return;
          }
          try {
            finish(undefined, JSON.parse(text));
          } catch (error) {
            finish(new WebhookCallError(`${described}: response is not JSON (${(error as Error).message})`));
          }
        });
      },
    );
    const timer = setTimeout(() => {
      finish(new WebhookCallError(`${described}: context deadline exceeded (timeoutSeconds ${timeoutSeconds})`));
      req.destroy();
    }, timeoutSeconds * 1000);
    req.on('error', (error) => finish(new WebhookCallError(`${described}: ${error.message}`)));
    req.end(payload);
  });
}
