import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../../util/write-file-atomic.js';

export interface EmbeddedKubeconfig {
  /** API server URL, e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** PEM of the CA that signed the server's certificate. */
  caCert: string;
  /** Bearer token the server accepts. */
  token: string;
  /** Name of the cluster, user and context entries; default `autostash-embedded`. */
  contextName?: string;
  /** Default namespace of the context; default `default`. */
  namespace?: string;
}

/** A fresh bearer token: 32 random bytes, base64url (no padding), safe in a header and in YAML. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The kubeconfig document (one cluster with certificate-authority-data, one token user, one current context). */
export function renderKubeconfig(config: EmbeddedKubeconfig): string {
  const name = config.contextName ?? 'autostash-embedded';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: config.server, 'certificate-authority-data': Buffer.from(config.caCert).toString('base64') } }],
    users: [{ name, user: { token: config.token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: config.namespace ?? 'default' } }],
    'current-context': name,
    preferences: {},
  });
}

/**
 * Writes a kubeconfig kubectl and client-node use unchanged to `path`, atomically (a temporary file
 * in the same directory, renamed over the target) and readable by the owner only (mode 0600), since
 * it carries the bearer token.
 */
export async function writeKubeconfig(path: string, config: EmbeddedKubeconfig): Promise<void> {
  await writeFileAtomic(path, renderKubeconfig(config), 0o600);
}
