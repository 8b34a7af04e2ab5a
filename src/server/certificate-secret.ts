/**
 * The webhook's serving certificate from a Kubernetes Secret (keys tls.crt, tls.key, optionally
 * ca.crt; type kubernetes.io/tls), as every replica loads it: self-managed (the leader writes it),
 * cert-manager (its Certificate writes it) or a Secret the user provides. Each replica watches that
 * one Secret (a field-selected informer) and swaps the HTTPS secure context in place.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../domain/kube-object.js';
import { createInformer, type InformerLogger, type InformerTimings } from '../controllers/informer.js';
import type { KubeClient } from '../kube/client.js';
import type { Readiness } from './app.js';
import { CertificateError, checkKeyPair, errorMessage, type KeyPair } from './certificates.js';

/** The data keys of the certificate Secret. `ca.key` is written by self-managed certificates only. */
export const SECRET_KEYS = { ca: 'ca.crt', caKey: 'ca.key', cert: 'tls.crt', key: 'tls.key' } as const;

export const SECRET_TYPE = 'kubernetes.io/tls';
export const SECRET_RESOURCE = { type: { apiVersion: 'v1', kind: 'Secret' }, resource: { plural: 'secrets', namespaced: true } } as const;

export interface TlsSecret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

/** How a key of the Secret is named in messages: `Secret <ns>/<name> key <key>`. */
export const secretKeyLabel = (namespace: string, name: string, key: string): string => `Secret ${namespace}/${name} key ${key}`;

/** The decoded (UTF-8) value of `key`, or undefined when the key is absent or empty. */
export function secretValue(secret: TlsSecret, key: string): string | undefined {
  const encoded = secret.data?.[key];
  if (typeof encoded !== 'string' || encoded === '') return undefined;
  return Buffer.from(encoded, 'base64').toString('utf8');
}

/**
 * The serving pair of `secret`: tls.crt and tls.key present, parsable, matching and valid at `now`.
 * Throws a {@link CertificateError} naming the Secret key and the problem otherwise.
 */
export function servingPairFromSecret(secret: TlsSecret, now: Date): KeyPair {
  const namespace = secret.metadata?.namespace ?? '';
  const name = secret.metadata?.name ?? '';
  const labels = { cert: secretKeyLabel(namespace, name, SECRET_KEYS.cert), key: secretKeyLabel(namespace, name, SECRET_KEYS.key) };
  const cert = secretValue(secret, SECRET_KEYS.cert);
  const key = secretValue(secret, SECRET_KEYS.key);
  if (cert === undefined) throw new CertificateError(labels.cert, 'is missing or empty');
  if (key === undefined) throw new CertificateError(labels.key, 'is missing or empty');
  checkKeyPair({ cert, key }, labels, now);
  return { cert, key };
}

export interface CertificateSecretWatchOptions extends InformerTimings {
  client: KubeClient;
  namespace: string;
  name: string;
  /** Applies a new valid pair (e.g. `server.setSecureContext`); a throw keeps the previous pair. */
  onChange(pair: KeyPair): void;
  logger: InformerLogger;
  /** Clock for the validity check. Default the system clock. */
  now?: () => Date;
}

export interface CertificateSecretWatch {
  /** Ready once a valid pair from the Secret is in use; otherwise why not. */
  status(): Readiness;
  /** Stops watching; safe to call twice. */
  stop(): Promise<void>;
}

const digestOf = (pair: KeyPair): string => createHash('sha256').update(pair.cert).update('\0').update(pair.key).digest('hex');

/**
 * Watches the Secret `namespace/name` and hands every new valid serving pair to `onChange`. A Secret
 * that is missing, incomplete, mismatched or expired is reported (once per content) and ignored: the
 * pair in use stays, and {@link CertificateSecretWatch.status} says why none is loaded yet. Never logs
 * key material.
 */
export function watchCertificateSecret(options: CertificateSecretWatchOptions): CertificateSecretWatch {
  const { namespace, name, logger } = options;
  const now = options.now ?? (() => new Date());
  const fields = { secret: `${namespace}/${name}` };
  let appliedDigest: string | undefined;
  let problem: string | undefined;

  const informer = createInformer<TlsSecret>(options.client, SECRET_RESOURCE.type, {
    ...options,
    namespace,
    fieldSelector: `metadata.name=${name}`,
    resource: SECRET_RESOURCE.resource,
    logger,
  });

  const load = (secret: TlsSecret): void => {
    let pair: KeyPair;
    try {
      pair = servingPairFromSecret(secret, now());
    } catch (error) {
      const reason = errorMessage(error);
      if (reason !== problem) logger.warn({ ...fields, err: reason }, 'certificate Secret rejected; keeping the current certificate');
      problem = reason;
      return;
    }
    const digest = digestOf(pair);
    if (digest === appliedDigest) return;
    try {
      options.onChange(pair);
    } catch (error) {
      problem = `applying the certificate from Secret ${namespace}/${name} failed: ${errorMessage(error)}`;
      logger.error({ ...fields, err: errorMessage(error) }, 'applying the certificate failed; keeping the current certificate');
      return;
    }
    appliedDigest = digest;
    problem = undefined;
    logger.info({ ...fields, resourceVersion: secret.metadata?.resourceVersion }, 'certificate loaded from Secret');
  };

  informer.addEventHandler({
    add: load,
    update: (_previous, secret) => load(secret),
    delete: () => {
      problem = `Secret ${namespace}/${name} was deleted`;
      logger.warn(fields, 'certificate Secret deleted; keeping the current certificate');
    },
  });
  informer.start();

  return {
    status(): Readiness {
      if (appliedDigest !== undefined) return { ready: true };
      return { ready: false, reason: problem ?? `waiting for the serving certificate in Secret ${namespace}/${name}` };
    },
    stop: () => informer.stop(),
  };
}
