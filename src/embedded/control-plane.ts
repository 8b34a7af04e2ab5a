/**
 * Assembles the embedded control plane: the object store behind the in-process API, the
 * admission chain (fed by watches of webhook configurations and namespaces), the HTTPS front
 * with its own CA and bearer token, a kubeconfig for kubectl and client-node, and the emulated
 * controllers.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { KubeObject } from '../domain/kube-object.js';
import { ensureCertificates } from '../server/certificates.js';
import { createAdmissionChain } from './admission/index.js';
import type { GroupVersionResource, WatchHandle } from './api-types.js';
import { startControllers, type Controllers } from './controllers/start-controllers.js';
import { startApiServer, type RunningApiServer } from './http/api-server.js';
import { generateToken, writeKubeconfig } from './http/kubeconfig-file.js';
import { createEmbeddedApi, type EmbeddedApiImplementation } from './store/embedded-api.js';

export interface ControlPlaneOptions {
  /** Holds the kubeconfig, certificates, token, PV directories, job logs and (with persist) state. */
  dataDir: string;
  /** HTTPS port on 127.0.0.1; default 6443, 0 picks a free port. */
  port?: number;
  /** Keep objects across restarts. */
  persist?: boolean;
  logger: Logger;
  /** What `autostash` in a Job's command runs: the running CLI's entry file. */
  cliPath?: string;
  /** Job retry backoff base (tests shorten it). */
  jobBackoffBaseMs?: number;
}

export interface ControlPlane {
  /** `https://127.0.0.1:<port>` */
  url: string;
  kubeconfigPath: string;
  /** PEM of the CA that signed the API server's certificate. */
  caCert: string;
  api: EmbeddedApiImplementation;
  server: RunningApiServer;
  controllers: Controllers;
  /**
   * Closes the HTTPS front (every watch and connection ends) and listens again on the same port with the
   * same certificate and token, as an apiserver restart looks to clients; the store keeps its objects.
   * `whileDown` runs between the two (e.g. writes through `api` that no watch can see). A hook for fault
   * tests, not served by the API.
   */
  restartApiServer(whileDown?: () => Promise<void>): Promise<void>;
  /** Stops controllers (and their Job processes), the server and the store; safe to call twice. */
  close(): Promise<void>;
}

const MUTATING: GroupVersionResource = { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'mutatingwebhookconfigurations' };
const VALIDATING: GroupVersionResource = { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'validatingwebhookconfigurations' };
const NAMESPACES: GroupVersionResource = { group: '', version: 'v1', resource: 'namespaces' };

/** A synchronous mirror of one resource, kept by a watch (the admission chain reads it per request). */
class ResourceMirror {
  readonly objects = new Map<string, KubeObject>();
  private handle: WatchHandle | undefined;

  start(api: EmbeddedApiImplementation, gvr: GroupVersionResource): void {
    this.handle = api.watch(gvr, { resourceVersion: '0' }, (event) => {
      const name = event.object.metadata?.name;
      if (typeof name !== 'string') return;
      if (event.type === 'DELETED') this.objects.delete(name);
      else if (event.type === 'ADDED' || event.type === 'MODIFIED') this.objects.set(name, event.object);
    });
  }

  stop(): void {
    this.handle?.stop();
  }
}

/** The bearer token survives restarts so an existing kubeconfig keeps working. */
async function loadOrCreateToken(path: string): Promise<string> {
  try {
    const token = (await readFile(path, 'utf8')).trim();
    if (token.length >= 32) return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = generateToken();
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Starts the embedded control plane; resolves when it serves and the system namespaces and Node exist. */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const logger = options.logger.child({ component: 'embedded' });
  const certificates = await ensureCertificates(join(dataDir, 'pki'), {
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    ipAddresses: ['127.0.0.1'],
  });
  const token = await loadOrCreateToken(join(dataDir, 'token'));

  const mutating = new ResourceMirror();
  const validating = new ResourceMirror();
  const namespaces = new ResourceMirror();
  const admission = createAdmissionChain({
    mutatingConfigurations: () => [...mutating.objects.values()],
    validatingConfigurations: () => [...validating.objects.values()],
    namespace: (name) => namespaces.objects.get(name),
    logger: logger.child({ module: 'admission' }),
  });
  const api = createEmbeddedApi({ admission, dataDir, persist: options.persist ?? false });
  mutating.start(api, MUTATING);
  validating.start(api, VALIDATING);
  namespaces.start(api, NAMESPACES);

  const serve = (port: number): Promise<RunningApiServer> =>
    startApiServer({
      api,
      port,
      tls: { key: certificates.key, cert: certificates.cert },
      caCert: certificates.ca ?? certificates.cert,
      token,
      logger: logger.child({ module: 'apiserver' }),
    });
  let server: RunningApiServer;
  try {
    server = await serve(options.port ?? 6443);
  } catch (error) {
    for (const mirror of [mutating, validating, namespaces]) mirror.stop();
    admission.close();
    await api.close();
    throw error;
  }
  const kubeconfigPath = join(dataDir, 'kubeconfig');
  const caCert = certificates.ca ?? certificates.cert;
  await writeKubeconfig(kubeconfigPath, { server: server.url, caCert, token });

  const controllers = startControllers({
    api,
    dataDir,
    logger: logger.child({ module: 'controllers' }),
    ...(options.cliPath ? { cliPath: options.cliPath } : {}),
    ...(options.jobBackoffBaseMs !== undefined ? { jobBackoffBaseMs: options.jobBackoffBaseMs } : {}),
    jobEnv: { KUBECONFIG: kubeconfigPath },
  });
  await controllers.ready;
  logger.info({ url: server.url, kubeconfig: kubeconfigPath, persist: options.persist ?? false }, 'embedded control plane serving');

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      await controllers.stop();
      await server.close();
      for (const mirror of [mutating, validating, namespaces]) mirror.stop();
      admission.close();
      await api.close();
    })();
    return closed;
  };
  const restartApiServer = async (whileDown?: () => Promise<void>): Promise<void> => {
    await server.close();
    await whileDown?.();
    server = await serve(server.port);
  };
  return {
    url: server.url,
    kubeconfigPath,
    caCert,
    api,
    get server() {
      return server;
    },
    controllers,
    restartApiServer,
    close,
  };
}
