import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { isIPv6 } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/** Where the kubeconfig came from, in the order they are tried. */
export type KubeConfigSource = 'flag' | 'in-cluster' | 'KUBECONFIG' | 'home';

export interface LoadKubeConfigOptions {
  /** An explicit kubeconfig file (the `--kubeconfig` flag); wins over every other source. */
  kubeconfigPath?: string;
  /** The environment, as read by config.ts (this module never reads process.env). */
  env: Readonly<Record<string, string | undefined>>;
  /** Home directory for `~/.kube/config`; default `env.HOME`, then the OS's idea of it. */
  homeDir?: string;
  /** Where the service account token, CA and namespace are mounted in a pod. */
  serviceAccountDir?: string;
}

export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  source: KubeConfigSource;
  /** The file(s) read: kubeconfig files, or the service account token for in-cluster. */
  paths: string[];
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A kubeconfig that exists but cannot be used. */
export class KubeConfigError extends Error {
  constructor(
    readonly source: KubeConfigSource,
    readonly path: string,
    reason: string,
  ) {
    super(`kubeconfig from ${describeSource(source)} (${path}): ${reason}`);
    this.name = 'KubeConfigError';
  }
}

const describeSource = (source: KubeConfigSource): string =>
  ({ flag: '--kubeconfig', 'in-cluster': 'the in-cluster service account', KUBECONFIG: 'KUBECONFIG', home: '~/.kube/config' })[source];

/**
 * Finds the cluster to talk to, trying in order: the explicit `kubeconfigPath`; in-cluster (both
 * `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` set and a service account token mounted);
 * the files listed in `KUBECONFIG` (merged, the first one's current-context wins); `~/.kube/config`.
 * Returns undefined when none of them is present: autostash then runs without a cluster.
 * A source that is present but unusable (missing file named explicitly, unparsable YAML, no current
 * context, a context without a cluster or server) throws a {@link KubeConfigError} rather than
 * silently falling through to "no cluster".
 */
export function loadKubeConfigWithSource(options: LoadKubeConfigOptions): LoadedKubeConfig | undefined {
  const { env } = options;
  if (options.kubeconfigPath !== undefined && options.kubeconfigPath !== '') {
    return { kubeConfig: loadFiles('flag', [options.kubeconfigPath]), source: 'flag', paths: [options.kubeconfigPath] };
  }

  const serviceAccountDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const tokenPath = join(serviceAccountDir, 'token');
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host && port && existsSync(tokenPath)) {
    return { kubeConfig: inClusterConfig(host, port, serviceAccountDir), source: 'in-cluster', paths: [tokenPath] };
  }

  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((path) => path !== '');
  if (listed.length > 0) {
    return { kubeConfig: loadFiles('KUBECONFIG', listed), source: 'KUBECONFIG', paths: listed };
  }

  const home = options.homeDir ?? env.HOME ?? homedir();
  const homeConfig = join(home, '.kube', 'config');
  if (existsSync(homeConfig)) {
    return { kubeConfig: loadFiles('home', [homeConfig]), source: 'home', paths: [homeConfig] };
  }
  return undefined;
}

/** {@link loadKubeConfigWithSource} without the provenance. */
export function loadKubeConfig(options: LoadKubeConfigOptions): KubeConfig | undefined {
  return loadKubeConfigWithSource(options)?.kubeConfig;
}

function loadFiles(source: KubeConfigSource, paths: readonly string[]): KubeConfig {
  let merged: KubeConfig | undefined;
  for (const path of paths) {
    if (!existsSync(path)) {
      throw new KubeConfigError(source, path, 'file does not exist; fix the path or unset it to run without a cluster');
    }
    const config = new KubeConfig();
    try {
      config.loadFromFile(path);
    } catch (error) {
      throw new KubeConfigError(source, path, `cannot be parsed (${error instanceof Error ? error.message : String(error)})`);
    }
    if (merged === undefined) {
      merged = config;
    } else {
      try {
        merged.mergeConfig(config, Boolean(merged.getCurrentContext())); // the first current-context set wins, as in kubectl
      } catch (error) {
        throw new KubeConfigError(source, path, `cannot be merged (${error instanceof Error ? error.message : String(error)})`);
      }
    }
  }
  // paths is never empty here, so merged is set.
  const config = merged as KubeConfig;
  checkUsable(config, source, paths.join(delimiter));
  return config;
}

function checkUsable(config: KubeConfig, source: KubeConfigSource, path: string): void {
  const contextName = config.getCurrentContext();
  if (!contextName) {
    throw new KubeConfigError(source, path, 'no current-context is set; run `kubectl config use-context NAME`');
  }
  const context = config.getContextObject(contextName);
  if (!context) {
    throw new KubeConfigError(source, path, `current-context "${contextName}" is not among its contexts`);
  }
  if (!config.getCluster(context.cluster)) {
    throw new KubeConfigError(source, path, `context "${contextName}" refers to cluster "${context.cluster}", which is not defined`);
  }
}

/** The service account config a pod gets; the token file is re-read by client-node, so rotation works. */
function inClusterConfig(host: string, port: string, serviceAccountDir: string): KubeConfig {
  const config = new KubeConfig();
  const serverHost = isIPv6(host) ? `[${host}]` : host;
  config.loadFromOptions({
    clusters: [{ name: 'in-cluster', server: `https://${serverHost}:${port}`, caFile: join(serviceAccountDir, 'ca.crt'), skipTLSVerify: false }],
    users: [{ name: 'in-cluster', authProvider: { name: 'tokenFile', config: { tokenFile: join(serviceAccountDir, 'token') } } }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster', namespace: readNamespace(serviceAccountDir) }],
    currentContext: 'in-cluster',
  });
  return config;
}

function readNamespace(serviceAccountDir: string): string | undefined {
  const path = join(serviceAccountDir, 'namespace');
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
