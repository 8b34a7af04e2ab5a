/**
 * Wiring of `autostash serve`: configuration, certificates (with hot reload), the cluster view
 * (informers when a cluster is configured, an empty view otherwise) and the HTTPS webhook.
 * This is the one place that connects the adapters.
 */
import { existsSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { pino, type Logger } from 'pino';
import { loadConfig, type Config, type ServeFlags } from '../config.js';
import { emptyClusterView, type ClusterView } from '../domain/cluster-view.js';
import { kubeStashRules } from '../domain/kubestash-rules.js';
import { startInformerView, type InformerView } from '../kube/informer-view.js';
import { loadKubeConfigWithSource } from '../kube/kubeconfig.js';
import { buildApp, type AutostashApp } from '../server/app.js';
import { CertificateError, defaultDnsNames, ensureCertificates, type LoadedCertificates } from '../server/certificates.js';
import { webhookLoggerOptions } from '../server/logger.js';
import { watchCertificates } from '../server/tls.js';

export interface RunningServer {
  app: AutostashApp;
  /** https://host:port the webhook listens on. */
  url: string;
  certificates: LoadedCertificates;
  /** Stops the certificate watcher, the informers and the server; safe to call twice. */
  close(): Promise<void>;
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

function startClusterView(config: Config, logger: Logger): InformerView | undefined {
  const loaded = loadKubeConfigWithSource({ kubeconfigPath: config.kubeconfigPath, env: config.kubeEnv });
  if (loaded === undefined) {
    logger.warn('no cluster configured: cross-object rules see an empty cluster');
    return undefined;
  }
  logger.info({ source: loaded.source, server: loaded.kubeConfig.getCurrentCluster()?.server }, 'watching cluster');
  return startInformerView(loaded.kubeConfig, logger.child({ component: 'informers' }));
}

/** Starts the webhook with an already loaded configuration; resolves once it listens. */
export async function startServer(config: Config, logger: Logger = pino(webhookLoggerOptions(config.logLevel))): Promise<RunningServer> {
  const certificates = await loadServingCertificates(config);
  const informers = startClusterView(config, logger);
  const clusterView: () => ClusterView = informers ? () => informers.view : () => emptyClusterView;

  const app = buildApp({
    rules: kubeStashRules,
    clusterView,
    isReady: () => (informers === undefined || informers.hasSynced() ? { ready: true } : { ready: false, reason: 'cluster caches have not synced yet' }),
    logger,
    https: { key: certificates.key, cert: certificates.cert },
  });
  const stopWatching = watchCertificates(
    { certPath: certificates.paths.certPath, keyPath: certificates.paths.keyPath },
    (pair) => app.server.setSecureContext(pair),
    logger.child({ component: 'certificates' }),
    { current: { key: certificates.key, cert: certificates.cert } },
  );

  try {
    await app.listen({ host: config.webhook.host, port: config.webhook.port });
  } catch (error) {
    stopWatching();
    await informers?.stop();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.webhook.port;
  const url = `https://${config.webhook.host.includes(':') ? `[${config.webhook.host}]` : config.webhook.host}:${port}`;
  logger.info(
    { url, certDir: certificates.paths.dir, generated: certificates.generated, notAfter: certificates.notAfter.toISOString(), caBundle: certificates.caBundle },
    'webhook serving',
  );

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      stopWatching();
      await app.close();
      await informers?.stop();
    })();
    return closed;
  };
  return { app, url, certificates, close };
}

/** `autostash serve`: runs until SIGINT or SIGTERM, then shuts down cleanly. */
export async function runServe(flags: ServeFlags): Promise<void> {
  const config = loadConfig(flags);
  const logger = pino(webhookLoggerOptions(config.logLevel));
  const server = await startServer(config, logger);
  if (server.certificates.caBundle !== undefined) {
    process.stderr.write(`autostash: webhook listening on ${server.url}; caBundle for webhook configurations:\n${server.certificates.caBundle}\n`);
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      server.close().then(resolve, (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
}
