/**
 * The HTTPS front of the embedded control plane.
 *
 * What kubectl v1.32 asks of it (observed with -v=8 against this server, and pinned by
 * test/embedded/http/kubectl.test.ts):
 * - every command: `GET /version`, then `GET /api` and `GET /apis` with an Accept preferring aggregated
 *   discovery (`as=APIGroupDiscoveryList`); the legacy APIVersions/APIGroupList answer in plain JSON
 *   makes it read `/api/v1` and each `/apis/<group>/<version>` instead.
 * - `apply` (client-side or `--server-side`, validation on): `GET /openapi/v3`, then the group/version
 *   document. A PATCH operation tagged with the kind's `x-kubernetes-group-version-kind` and a
 *   `fieldValidation` query parameter makes kubectl leave validation to the server (it sends
 *   `fieldValidation=Strict`), so no schema validation happens client-side and `/openapi/v2` is not needed.
 * - a second client-side `apply`: it looks for `application/strategic-merge-patch+json` on that PATCH
 *   operation; not finding it, it asks `GET /openapi/v2` (a 404 is fine) and computes the patch from its
 *   compiled-in types (strategic merge, `$setElementOrder` directives) or, for custom resources, a JSON
 *   merge patch.
 * - `get`: `Accept: application/json;as=Table;v=v1;g=meta.k8s.io,…` with `?limit=500`; `delete` waits
 *   with a GET (404 when gone); `create namespace|configmap|secret|serviceaccount` send protobuf bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { EmbeddedApi } from '../api-types.js';
import { asApiError, httpErrors } from './api-errors.js';
import { anonymousPaths, hasBearerToken } from './bearer-auth.js';
import { apiGroup, apiGroupList, apiResourceList, coreApiVersions, versionInfo } from './discovery.js';
import { OpenapiDocuments } from './openapi.js';
import { parseApiPath, type ApiPath } from './resource-path.js';
import { sendJson, sendRawJson, sendStatus } from './responses.js';
import { handleResourceRequest, type RestContext } from './rest-handler.js';
import { OpenWatches } from './watch-stream.js';
import { withTlsPolicy } from '../../server/tls-policy.js';

export interface ApiServerOptions {
  api: EmbeddedApi;
  /** Only loopback is supported: the plane is for one machine. Default 127.0.0.1. */
  host?: '127.0.0.1';
  /** Default 6443; 0 picks a free port. */
  port?: number;
  /** Serving key pair (PEM), signed by `caCert`. */
  tls: { key: string; cert: string };
  caCert: string;
  /** The bearer token every request except health and version probes must carry. */
  token: string;
  logger: Pick<Logger, 'debug' | 'warn' | 'error'>;
  /** Clock for table ages; default Date.now. */
  now?: () => number;
}

export interface RunningApiServer {
  /** `https://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Ends every open watch stream now (clients see the stream end and reconnect, as after an apiserver restart). */
  endWatches(): void;
  /** Ends open watches, closes every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts the HTTPS front of the embedded control plane: Kubernetes discovery, OpenAPI v3 and REST
 * (with watch streaming and server-side tables) on top of `api`, with bearer-token auth. Resolves
 * once listening.
 */
export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const host = options.host ?? '127.0.0.1';
  const open = new OpenWatches();
  const openapi = new OpenapiDocuments();
  const context: RestContext = { api: options.api, open, now: options.now ?? Date.now };
  let serverAddress = `${host}:${options.port ?? 6443}`;

  const server = createServer(withTlsPolicy({ key: options.tls.key, cert: options.tls.cert, keepAlive: true }), (request, response) => {
    handle(request, response).catch((error: unknown) => {
      const apiError = asApiError(error);
      if (apiError.code >= 500) options.logger.error({ err: error, method: request.method, path: pathOf(request) }, 'embedded api request failed');
      sendStatus(response, apiError);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'https://embedded.invalid');
    const path = parseApiPath(url.pathname);
    options.logger.debug({ method: request.method, path: url.pathname, query: url.search }, 'embedded api request');
    if (!anonymousPaths.has(url.pathname) && !hasBearerToken(request.headers.authorization, options.token)) {
      request.resume();
      throw httpErrors.unauthorized();
    }
    if (path === undefined) {
      request.resume();
      throw httpErrors.notFound();
    }
    if (path.kind === 'resource') return handleResourceRequest(context, request, response, path, url.searchParams);
    request.resume();
    if (request.method !== 'GET' && request.method !== 'HEAD') throw httpErrors.methodNotAllowed(request.method ?? '', url.pathname);
    return serveDocument(path, response);
  }

  function serveDocument(path: Exclude<ApiPath, { kind: 'resource' }>, response: ServerResponse): void {
    const types = options.api.resourceTypes();
    const found = (document: unknown): void => {
      if (document === undefined) throw httpErrors.notFound();
      sendJson(response, 200, document);
    };
    switch (path.kind) {
      case 'health':
        response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2 });
        response.end('ok');
        return;
      case 'version':
        return found(versionInfo());
      case 'coreVersions':
        return found(coreApiVersions(types, serverAddress));
      case 'groupList':
        return found(apiGroupList(types));
      case 'group':
        return found(apiGroup(types, path.group));
      case 'resourceList':
        return found(apiResourceList(types, path.group, path.version));
      case 'openapiIndex':
        return found(openapi.index(types));
      case 'openapiGroupVersion': {
        const document = openapi.document(types, path.group, path.version);
        if (document === undefined) throw httpErrors.notFound();
        return sendRawJson(response, 200, document);
      }
      case 'openapiV2':
        // kubectl reads OpenAPI v3 first and needs v2 only when v3 is missing (see the report in docs).
        throw httpErrors.notFound('OpenAPI v2 is not served; use /openapi/v3');
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 6443, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  serverAddress = `${host}:${port}`;

  return {
    url: `https://${host}:${port}`,
    port,
    endWatches: () => open.endAll(),
    async close() {
      open.endAll();
      // Let the final chunks of ended watches flush before sockets are destroyed.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

const pathOf = (request: IncomingMessage): string => (request.url ?? '/').split('?')[0] ?? '/';
