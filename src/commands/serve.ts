/**
 * Wiring of `autostash serve`: configuration, certificates (with hot reload), the cluster view
 * (informers when a cluster is configured, an empty view otherwise) and the HTTPS webhook.
 * This is the one place that connects the adapters.
 */
import { existsSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { ConfigError, loadConfig, type CertificateSource, type Config, type ServeFlags } from '../config.js';
import { emptyClusterView, type ClusterView } from '../domain/cluster-view.js';
import { admissionRules } from '../domain/admission-rules.js';
import { startControlPlane, type ControlPlane } from '../embedded/control-plane.js';
import { ensureNamespace, installCrds, installWebhookConfigurations } from '../embedded/install-autostash.js';
import { autoBackupController } from '../controllers/auto-backup/controller.js';
import { policyAuditController } from '../controllers/policy-audit/controller.js';
import { addonInstaller } from '../controllers/addons/addon-installer.js';
import { schedulerController } from '../controllers/scheduler/scheduler-controller.js';
import { backupSessionController } from '../controllers/session/controller.js';
import { restoreSessionController } from '../controllers/restore/controller.js';
import { storageController } from '../controllers/storage/storage-controller.js';
import { repositoryController } from '../controllers/repository/repository-controller.js';
import { configurationController } from '../controllers/configuration/configuration-controller.js';
import { snapshotController } from '../controllers/snapshot/snapshot-controller.js';
import { startManager, type Manager } from '../controllers/manager.js';
import { selfManagedCertificatesController } from '../controllers/certificates/self-managed-controller.js';
import { createKubeClient } from '../kube/client.js';
import { watchCertificateSecret, type CertificateSecretWatch } from '../server/certificate-secret.js';
import { startInformerView, type InformerView } from '../kube/informer-view.js';
import { loadKubeConfigWithSource, type LoadedKubeConfig } from '../kube/kubeconfig.js';
import { buildApp, type AutostashApp } from '../server/app.js';
import { CertificateError, defaultDnsNames, ensureCertificates, generateCertificates, type LoadedCertificates } from '../server/certificates.js';
import { webhookLoggerOptions } from '../server/logger.js';
import { watchCertificates } from '../server/tls.js';
import { configuredRoleAccounts } from '../domain/execution/job-account-provisioning.js';

export interface RunningServer {
  app: AutostashApp;
  /** https://host:port the webhook listens on. */
  url: string;
  /** Where the serving certificate comes from (`files` without a cluster, unless told otherwise). */
  certificateSource: CertificateSource;
  /** The certificate files in use; undefined when the certificate comes from a Secret. */
  certificates: LoadedCertificates | undefined;
  /** What the webhook's cross-object rules currently see. */
  clusterView: () => ClusterView;
  /** The leader-elected controllers, when a cluster is attached. */
  manager: Manager | undefined;
  /** The embedded control plane, when serve started one. */
  controlPlane: ControlPlane | undefined;
  /** Stops the certificate watcher, the informers and the server; safe to call twice. */
  close(): Promise<void>;
  /**
   * Graceful stop (SIGTERM): /readyz fails at once, requests are still served for the drain period
   * (--shutdown-drain) so endpoints drop this replica, then the server closes letting in-flight requests
   * finish, then the manager stops (releasing the Lease) and the rest closes. Safe to call twice.
   */
  shutdown(): Promise<void>;
}

async function loadServingCertificates(config: Config): Promise<LoadedCertificates> {
  const { certFile, keyFile, certDir, namespace } = config.webhook;
  if (certFile === undefined || keyFile === undefined) {
    return ensureCertificates(certDir, { namespace, dnsNames: [...defaultDnsNames(namespace)] });
  }
  // Explicit files are the user's: never generate in their place.
  for (const [file, flag] of [[certFile, '--tls-cert'], [keyFile, '--tls-key']] as const) {
    if (!existsSync(file)) throw new CertificateError(file, `does not exist (given with ${flag})`);
  }
  const dir = dirname(certFile);
  return ensureCertificates(dir, { certFile: relative(dir, certFile), keyFile: relative(dir, keyFile) });
}

/** A throwaway pair served until the Secret's certificate loads; readiness stays false meanwhile. */
async function placeholderPair(namespace: string): Promise<{ key: string; cert: string }> {
  const generated = await generateCertificates({ namespace, days: 1 });
  return { key: generated.tlsKey, cert: generated.tlsCert };
}

/** The running CLI's entry file, which Jobs of the embedded control plane run for `autostash …`. */
/** The CLI entry next to this module once built (dist/cli.js): what `autostash` in a Job runs on the embedded plane. */
const builtCliPath = fileURLToPath(new URL('../cli.js', import.meta.url));

/** What tests change about a server: running from sources, Jobs must run the built CLI. */
export interface ServerOverrides {
  cliPath?: string;
  /** Clock of the certificate checks (a fake one in rotation tests). */
  now?: () => Date;
  /** Longest real wait between two self-managed certificate checks. Default 1 h. */
  certificateRecheckMs?: number;
}

/**
 * The certificate source when none is configured: self-managed when running in a cluster (the in-cluster
 * service account is the kubeconfig source) and no certificate files are given; files otherwise.
 */
export function defaultCertificateSource(kubeconfigSource: LoadedKubeConfig['source'] | undefined, explicitFiles: boolean): CertificateSource {
  return kubeconfigSource === 'in-cluster' && !explicitFiles ? 'self-managed' : 'files';
}

/** The configured certificate source, or {@link defaultCertificateSource}; a Secret source needs a real cluster. */
function certificateSourceFor(config: Config, cluster: Cluster): CertificateSource {
  const source = config.certificates.source ?? defaultCertificateSource(cluster.loaded?.source, config.webhook.certFile !== undefined);
  if (source === 'files') return source;
  if (cluster.controlPlane !== undefined) {
    throw new ConfigError('--cert-source', `${source} needs a cluster: the embedded control plane uses the certificates of --cert-dir (--cert-source files)`);
  }
  if (cluster.loaded === undefined) throw new ConfigError('--cert-source', `${source} reads the certificate from a Secret and needs a cluster: give --kubeconfig or run in a cluster`);
  return source;
}

interface Cluster {
  loaded: LoadedKubeConfig | undefined;
  controlPlane: ControlPlane | undefined;
}

/** A configured cluster, else (unless told not to) the embedded control plane with our CRDs installed. */
async function connectCluster(config: Config, logger: Logger, cliPath: string): Promise<Cluster> {
  if (config.embedded.mode !== 'always') {
    const loaded = loadKubeConfigWithSource({ kubeconfigPath: config.kubeconfigPath, env: config.kubeEnv });
    if (loaded !== undefined || config.embedded.mode === 'never') return { loaded, controlPlane: undefined };
  }
  const controlPlane = await startControlPlane({ dataDir: config.embedded.dataDir, port: config.embedded.port, persist: config.embedded.persist, logger, cliPath });
  try {
    await installCrds(controlPlane.api);
    await ensureNamespace(controlPlane.api, config.webhook.namespace);
    return { loaded: loadKubeConfigWithSource({ kubeconfigPath: controlPlane.kubeconfigPath, env: {} }), controlPlane };
  } catch (error) {
    await controlPlane.close();
    throw error;
  }
}

function startClusterView(loaded: LoadedKubeConfig | undefined, logger: Logger): InformerView | undefined {
  if (loaded === undefined) {
    logger.warn('no cluster configured: cross-object rules see an empty cluster');
    return undefined;
  }
  logger.info({ source: loaded.source, server: loaded.kubeConfig.getCurrentCluster()?.server }, 'watching cluster');
  return startInformerView(loaded.kubeConfig, logger.child({ component: 'informers' }));
}

/** The address the local API server reaches the webhook on. */
const loopbackFor = (host: string): string => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host);

/**
 * Starts the webhook with an already loaded configuration; resolves once it listens. Without a
 * configured cluster it first starts the embedded control plane and afterwards registers the
 * webhook there.
 */
export async function startServer(
  config: Config,
  logger: Logger = pino(webhookLoggerOptions(config.logLevel)),
  overrides: ServerOverrides = {},
): Promise<RunningServer> {
  const explicitSource = config.certificates.source;
  // Certificate files are checked before a control plane starts, so a bad set fails fast.
  let certificates = explicitSource === undefined || explicitSource === 'files' ? await loadServingCertificates(config) : undefined;
  const cluster = await connectCluster(config, logger, overrides.cliPath ?? builtCliPath);
  let certificateSource: CertificateSource;
  try {
    certificateSource = certificateSourceFor(config, cluster);
  } catch (error) {
    await cluster.controlPlane?.close();
    throw error;
  }
  if (certificateSource !== 'files') certificates = undefined;
  const { namespace, certFile } = config.webhook;
  const dnsNames = certFile === undefined ? defaultDnsNames(namespace) : [];
  // A user's Secret (`secret`) has no cainjector behind it: the leader publishes its ca.crt to the caBundles.
  const certificateControllers =
    certificateSource === 'self-managed' || certificateSource === 'secret'
      ? [
          selfManagedCertificatesController({
            namespace,
            secretName: config.certificates.secretName,
            dnsNames,
            ipAddresses: ['127.0.0.1'],
            policy: { caLifetimeMs: config.certificates.caLifetimeMs, leafLifetimeMs: config.certificates.certLifetimeMs, renewFraction: config.certificates.renewFraction },
            now: overrides.now,
            maxRecheckMs: overrides.certificateRecheckMs,
            mode: certificateSource === 'secret' ? 'publish-only' : 'self-managed',
          }),
        ]
      : [];
  const informers = startClusterView(cluster.loaded, logger);
  const clusterView: () => ClusterView = informers ? () => informers.view : () => emptyClusterView;
  const autoBackup = autoBackupController({ deleteWhenUnannotated: !config.controller.keepUnannotated });
  // One registry for the webhook's /metrics and the controllers' gauges.
  const registry = new Registry();
  // Each Job role runs as its own ServiceAccount (each already falls back to --job-service-account in config).
  const accounts = config.controller.jobServiceAccounts;
  // Explicit per-role accounts are created on demand in a Job's namespace (src/controllers/job-accounts.ts); none without the flags.
  const provisionedJobAccounts = configuredRoleAccounts(accounts, config.controller.jobServiceAccount);
  const jobs = { image: config.controller.executorImage, serviceAccounts: accounts, provisionedJobAccounts };
  const maintenanceJobs = {
    image: config.controller.executorImage,
    provisionedJobAccounts,
    ...(accounts.maintenance === undefined ? {} : { serviceAccountName: accounts.maintenance }),
  };
  const manager: Manager | undefined = cluster.loaded
    ? startManager({
        kubeConfig: cluster.loaded.kubeConfig,
        logger: logger.child({ component: 'controller' }),
        leaderElection: { namespace: config.webhook.namespace, name: config.controller.leaseName, ...config.controller.leaderElection },
        controllers: [
          autoBackup.controller,
          policyAuditController({ registry }),
          addonInstaller({ image: config.controller.executorImage }),
          schedulerController({ registry, initialBackup: config.controller.initialBackup }),
          storageController(maintenanceJobs),
          repositoryController(maintenanceJobs),
          configurationController(),
          snapshotController(maintenanceJobs),
          backupSessionController({ ...jobs, registry }),
          restoreSessionController({ ...jobs, registry }),
          ...certificateControllers,
        ],
      })
    : undefined;

  // Until the Secret's certificate loads, an in-memory one nobody trusts lets the probes connect.
  const initialPair = certificates ?? (await placeholderPair(namespace));
  let draining = false;
  let secretWatch: CertificateSecretWatch | undefined;
  const app = buildApp({
    rules: admissionRules,
    clusterView,
    registry,
    isReady: () => {
      if (draining) return { ready: false, reason: 'shutting down' };
      const tls = secretWatch?.status();
      if (tls !== undefined && !tls.ready) return tls;
      if (informers !== undefined && !informers.hasSynced()) return { ready: false, reason: 'cluster caches have not synced yet' };
      if (manager !== undefined && !manager.hasSynced()) return { ready: false, reason: 'controller caches have not synced yet' };
      return { ready: true };
    },
    logger,
    https: { key: initialPair.key, cert: initialPair.cert },
    loadShedding: {
      maxEventLoopDelayMs: config.loadShedding.maxEventLoopDelayMs,
      ...(config.loadShedding.maxHeapUsedBytes !== undefined ? { maxHeapUsedBytes: config.loadShedding.maxHeapUsedBytes } : {}),
    },
    onAdmitted: (event) => autoBackup.handOver(event),
  });
  const certificateLogger = logger.child({ component: 'certificates' });
  let stopWatching: () => unknown;
  if (certificates !== undefined) {
    stopWatching = watchCertificates(
      { certPath: certificates.paths.certPath, keyPath: certificates.paths.keyPath },
      (pair) => app.server.setSecureContext(pair),
      certificateLogger,
      { current: { key: certificates.key, cert: certificates.cert } },
    );
  } else {
    const secretClient = createKubeClient((cluster.loaded as LoadedKubeConfig).kubeConfig);
    const watch = watchCertificateSecret({
      client: secretClient,
      namespace,
      name: config.certificates.secretName,
      onChange: (pair) => app.server.setSecureContext(pair),
      logger: certificateLogger,
      ...(overrides.now ? { now: overrides.now } : {}),
    });
    secretWatch = watch;
    stopWatching = () => watch.stop().finally(() => secretClient.close());
  }

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      await stopWatching();
      await app.close();
      await manager?.stop();
      await informers?.stop();
      await cluster.controlPlane?.close();
    })();
    return closed;
  };

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    shuttingDown ??= (async () => {
      draining = true;
      logger.info({ drainMs: config.shutdown.drainMs }, 'shutting down: readiness fails, still serving during the drain period');
      await new Promise((resolve) => setTimeout(resolve, config.shutdown.drainMs));
      await close();
      logger.info('shut down');
    })();
    return shuttingDown;
  };

  try {
    await app.listen({ host: config.webhook.host, port: config.webhook.port });
  } catch (error) {
    await close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.webhook.port;
  const url = `https://${config.webhook.host.includes(':') ? `[${config.webhook.host}]` : config.webhook.host}:${port}`;
  if (cluster.controlPlane !== undefined && certificates !== undefined) {
    if (certificates.caBundle === undefined) {
      await close();
      throw new CertificateError(certificates.paths.caPath, 'is needed to register the webhook with the embedded control plane (the caBundle)');
    }
    await installWebhookConfigurations(cluster.controlPlane.api, `https://${loopbackFor(config.webhook.host)}:${port}`, certificates.caBundle);
  }
  if (certificates === undefined) {
    logger.info({ url, certificateSource, secret: `${namespace}/${config.certificates.secretName}` }, 'webhook serving');
  } else {
    logger.info(
      { url, certificateSource, certDir: certificates.paths.dir, generated: certificates.generated, notAfter: certificates.notAfter.toISOString(), caBundle: certificates.caBundle },
      'webhook serving',
    );
  }
  return { app, url, certificateSource, certificates, clusterView, manager, controlPlane: cluster.controlPlane, close, shutdown };
}

/** `autostash serve`: runs until SIGINT or SIGTERM, then shuts down cleanly. */
export async function runServe(flags: ServeFlags): Promise<void> {
  const config = loadConfig(flags);
  const logger = pino(webhookLoggerOptions(config.logLevel));
  const server = await startServer(config, logger);
  if (server.controlPlane !== undefined) {
    process.stderr.write(`autostash: embedded control plane at ${server.controlPlane.url}; use it with: export KUBECONFIG=${server.controlPlane.kubeconfigPath}\n`);
  } else if (server.certificates?.caBundle !== undefined) {
    process.stderr.write(`autostash: webhook listening on ${server.url}; caBundle for webhook configurations:\n${server.certificates.caBundle}\n`);
  }
  await new Promise<void>((resolve) => {
    const removeHandlers = handleShutdownSignals(
      process,
      (signal) => {
        logger.info({ signal }, 'signal received: shutting down gracefully (send it again to exit at once)');
        server.shutdown().then(
          () => {
            removeHandlers();
            resolve();
          },
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            removeHandlers();
            resolve();
          },
        );
      },
      (signal) => {
        logger.warn({ signal }, 'second signal: exiting at once');
        process.exit(1);
      },
    );
  });
}

/** What {@link handleShutdownSignals} listens on; `process` fits. */
export type SignalSource = Pick<NodeJS.EventEmitter, 'on' | 'off'>;

/**
 * Calls `begin` on the first SIGINT or SIGTERM and `force` on any later one (an impatient operator, or
 * the kubelet's grace period running out). Returns a function that removes the listeners.
 */
export function handleShutdownSignals(source: SignalSource, begin: (signal: NodeJS.Signals) => void, force: (signal: NodeJS.Signals) => void): () => void {
  let received = false;
  const listener = (signal: NodeJS.Signals): void => {
    if (received) {
      force(signal);
      return;
    }
    received = true;
    begin(signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const signal of signals) source.on(signal, listener);
  return () => {
    for (const signal of signals) source.off(signal, listener);
  };
}
