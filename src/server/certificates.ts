import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { generate } from 'selfsigned';
import { writeFileAtomic } from '../util/write-file-atomic.js';

/** PEM strings of a freshly generated CA and a serving certificate signed by it. */
export interface GeneratedCertificates {
  caCert: string;
  caKey: string;
  tlsCert: string;
  tlsKey: string;
}

export interface GenerateCertificatesOptions {
  /** Namespace the webhook Service lives in; used for the default DNS names. Default `autostash`. */
  namespace?: string;
  /** Subject alternative DNS names; default {@link defaultDnsNames}(namespace). */
  dnsNames?: readonly string[];
  /** Subject alternative IP addresses; default `127.0.0.1`. */
  ipAddresses?: readonly string[];
  /** Validity in days for both certificates; default 365. */
  days?: number;
  /** Start of validity (minus a small allowance for clock skew); default the current time. */
  now?: Date;
}

export const DEFAULT_NAMESPACE = 'autostash';
const SERVICE_NAME = 'autostash';
const DEFAULT_DAYS = 365;
/** How far before its issue time a generated certificate's notBefore lies: clock skew between nodes. */
export const CLOCK_SKEW_ALLOWANCE_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The names the API server and local clients use to reach the webhook Service in `namespace`. */
export function defaultDnsNames(namespace: string = DEFAULT_NAMESPACE): string[] {
  return [
    SERVICE_NAME,
    `${SERVICE_NAME}.${namespace}`,
    `${SERVICE_NAME}.${namespace}.svc`,
    `${SERVICE_NAME}.${namespace}.svc.cluster.local`,
    'localhost',
  ];
}

/**
 * Generates a CA (self-signed, `cA: true`) and a serving certificate signed by that CA for the given
 * DNS names and IP addresses (ECDSA P-256, SHA-256). Both are valid from `now` minus one hour (clock
 * skew between nodes) for `days` days. Returns PEM strings.
 */
export async function generateCertificates(options: GenerateCertificatesOptions = {}): Promise<GeneratedCertificates> {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const dnsNames = options.dnsNames ?? defaultDnsNames(namespace);
  const ipAddresses = options.ipAddresses ?? ['127.0.0.1'];
  const days = options.days ?? DEFAULT_DAYS;
  if (!Number.isFinite(days) || days <= 0) {
    throw new Error(`certificate validity must be a positive number of days, got ${days}`);
  }
  const now = options.now ?? new Date();
  const notAfter = new Date(now.getTime() + days * DAY_MS);
  const ca = await generateCa({ now, notAfter });
  const serving = await issueServingCertificate({ ca, dnsNames, ipAddresses, now, notAfter });
  return { caCert: ca.cert, caKey: ca.key, tlsCert: serving.cert, tlsKey: serving.key };
}

export interface CertificateValidity {
  /** Issue time; the certificate is valid from one hour before (clock skew between nodes). */
  now: Date;
  notAfter: Date;
}

/**
 * Generates a self-signed CA (`cA: true`, ECDSA P-256, SHA-256) valid from `now` minus one hour until
 * `notAfter`. Its common name carries the issue time (`autostash-webhook-ca@<unix seconds>`): during a
 * rotation two CAs are trusted together, and TLS clients find a certificate's issuer by subject name.
 */
export async function generateCa(validity: CertificateValidity): Promise<KeyPair> {
  const ca = await generate([{ name: 'commonName', value: `${SERVICE_NAME}-webhook-ca@${Math.floor(validity.now.getTime() / 1000)}` }], {
    ...signingOptions(validity),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: ca.cert, key: ca.private };
}

export interface ServingCertificateRequest extends CertificateValidity {
  /** The issuing CA's certificate and key (PEM). */
  ca: KeyPair;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
}

/**
 * Issues a serving certificate (serverAuth, ECDSA P-256) signed by `request.ca` for the given DNS names
 * and IP addresses, valid from `now` minus one hour until `notAfter`. At least one name is required.
 */
export async function issueServingCertificate(request: ServingCertificateRequest): Promise<KeyPair> {
  const { dnsNames, ipAddresses } = request;
  if (dnsNames.length === 0 && ipAddresses.length === 0) {
    throw new Error('a serving certificate needs at least one DNS name or IP address');
  }
  const serving = await generate([{ name: 'commonName', value: dnsNames[2] ?? dnsNames[0] ?? ipAddresses[0] ?? SERVICE_NAME }], {
    ...signingOptions(request),
    ca: { key: request.ca.key, cert: request.ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...dnsNames.map((value) => ({ type: 2 as const, value })),
          ...ipAddresses.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  return { cert: serving.cert, key: serving.private };
}

function signingOptions(validity: CertificateValidity) {
  const notBeforeDate = new Date(validity.now.getTime() - CLOCK_SKEW_ALLOWANCE_MS);
  return { keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notBeforeDate, notAfterDate: validity.notAfter } as const;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The PEM certificate blocks of `text` (a bundle), in order, each ending with a newline. */
export function splitPemCertificates(text: string): string[] {
  return [...text.matchAll(PEM_CERTIFICATE)].map((match) => `${match[0]}\n`);
}

/** A serving key pair as TLS wants it. */
export interface KeyPair {
  key: string;
  cert: string;
}

/** What was wrong with a certificate or key: `file` is the path (or a label) of the offending input. */
export class CertificateError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'CertificateError';
  }
}

export interface PairLabels {
  cert: string;
  key: string;
  ca?: string;
}

/**
 * Checks that `pair.cert` parses as an X.509 certificate, `pair.key` as a private key, that the key belongs
 * to the certificate, that the certificate is valid at `now`, and, when `caPem` is given, that the CA
 * issued it. Throws a {@link CertificateError} naming the offending input (by the labels given) otherwise.
 * Returns the parsed serving certificate.
 */
export function checkKeyPair(pair: KeyPair, labels: PairLabels, now: Date, caPem?: string): X509Certificate {
  const cert = parseCertificate(pair.cert, labels.cert);
  let key;
  try {
    key = createPrivateKey(pair.key);
  } catch (error) {
    throw new CertificateError(labels.key, `is not a PEM private key (${errorMessage(error)})`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new CertificateError(labels.key, `does not match the certificate in ${labels.cert}; replace both with a matching pair`);
  }
  checkValidity(cert, labels.cert, now);
  if (caPem !== undefined) {
    const caLabel = labels.ca ?? 'CA certificate';
    const ca = parseCertificate(caPem, caLabel);
    checkValidity(ca, caLabel, now);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
      throw new CertificateError(caLabel, `did not issue the certificate in ${labels.cert}; replace them with a matching set`);
    }
  }
  return cert;
}

function parseCertificate(pem: string, label: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new CertificateError(label, `is not a PEM X.509 certificate (${errorMessage(error)})`);
  }
}

function checkValidity(cert: X509Certificate, label: string, now: Date): void {
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (now.getTime() > notAfter.getTime()) {
    throw new CertificateError(label, `expired at ${notAfter.toISOString()}; renew it or delete the certificate files to generate new ones`);
  }
  if (now.getTime() < notBefore.getTime()) {
    throw new CertificateError(label, `is not valid before ${notBefore.toISOString()}; check the system clock`);
  }
}

/** Where the serving pair and the CA live. */
export interface CertificatePaths {
  dir: string;
  certPath: string;
  keyPath: string;
  caPath: string;
}

/** The certificate set the webhook serves with. */
export interface LoadedCertificates {
  paths: CertificatePaths;
  cert: string;
  key: string;
  /** CA certificate PEM: ca.crt, or the serving certificate itself when it is self-signed and ca.crt is absent. */
  ca: string | undefined;
  /** base64 of the CA PEM, for `webhooks[].clientConfig.caBundle`; undefined when the CA is unknown. */
  caBundle: string | undefined;
  /** True when the files were generated by this call. */
  generated: boolean;
  notAfter: Date;
}

export interface EnsureCertificatesOptions extends GenerateCertificatesOptions {
  /** File names inside the directory; defaults tls.crt, tls.key, ca.crt. */
  certFile?: string;
  keyFile?: string;
  caFile?: string;
}

export const DEFAULT_CERT_DIR = 'certs';

/** The paths of the certificate files in `dir`. */
export function certificatePaths(dir: string = DEFAULT_CERT_DIR, options: Pick<EnsureCertificatesOptions, 'certFile' | 'keyFile' | 'caFile'> = {}): CertificatePaths {
  const absolute = resolve(dir);
  return {
    dir: absolute,
    certPath: join(absolute, options.certFile ?? 'tls.crt'),
    keyPath: join(absolute, options.keyFile ?? 'tls.key'),
    caPath: join(absolute, options.caFile ?? 'ca.crt'),
  };
}

/**
 * Loads the serving certificate, key and (optional) CA from `dir`; when none of the three exists,
 * generates a CA and a serving certificate ({@link generateCertificates}) and writes ca.crt, tls.crt
 * and tls.key (keys mode 0600, each written to a temporary file and renamed into place). The CA key
 * is not written: nothing here signs again, and a new set means a new caBundle anyway.
 *
 * Never overwrites existing files: when only some exist, or they do not parse, do not match, or have
 * expired, it throws a {@link CertificateError} naming the file and the problem.
 */
export async function ensureCertificates(dir: string = DEFAULT_CERT_DIR, options: EnsureCertificatesOptions = {}): Promise<LoadedCertificates> {
  const paths = certificatePaths(dir, options);
  const now = options.now ?? new Date();
  const [certExists, keyExists, caExists] = await Promise.all([paths.certPath, paths.keyPath, paths.caPath].map(fileExists));

  if (!certExists && !keyExists && !caExists) {
    const generated = await generateCertificates({ ...options, now });
    await mkdir(paths.dir, { recursive: true });
    await writeFileAtomic(paths.caPath, generated.caCert, 0o644);
    await writeFileAtomic(paths.keyPath, generated.tlsKey, 0o600);
    await writeFileAtomic(paths.certPath, generated.tlsCert, 0o644);
    const cert = new X509Certificate(generated.tlsCert);
    return {
      paths,
      cert: generated.tlsCert,
      key: generated.tlsKey,
      ca: generated.caCert,
      caBundle: toCaBundle(generated.caCert),
      generated: true,
      notAfter: new Date(cert.validTo),
    };
  }

  if (!certExists || !keyExists) {
    const missing = [certExists ? undefined : paths.certPath, keyExists ? undefined : paths.keyPath].filter(Boolean).join(' and ');
    const present = [certExists && paths.certPath, keyExists && paths.keyPath, caExists && paths.caPath].filter(Boolean).join(', ');
    throw new CertificateError(
      missing,
      `missing while ${present} exists; provide the complete set (tls.crt and tls.key, optionally ca.crt) or remove all of them to generate new certificates`,
    );
  }

  const [cert, key, ca] = await Promise.all([
    readPem(paths.certPath),
    readPem(paths.keyPath),
    caExists ? readPem(paths.caPath) : Promise.resolve(undefined),
  ]);
  const parsed = checkKeyPair({ cert, key }, { cert: paths.certPath, key: paths.keyPath, ca: paths.caPath }, now, ca);
  const caPem = ca ?? (parsed.checkIssued(parsed) ? cert : undefined);
  return {
    paths,
    cert,
    key,
    ca: caPem,
    caBundle: caPem === undefined ? undefined : toCaBundle(caPem),
    generated: false,
    notAfter: new Date(parsed.validTo),
  };
}

/** The `caBundle` form of a CA PEM: base64 of the PEM text. */
export const toCaBundle = (caPem: string): string => Buffer.from(caPem, 'utf8').toString('base64');

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isErrnoCode(error, 'ENOENT')) return false;
    throw new CertificateError(path, `cannot be inspected (${errorMessage(error)})`);
  }
}

async function readPem(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CertificateError(path, `cannot be read (${errorMessage(error)})`);
  }
}


export const isErrnoCode = (error: unknown, code: string): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;

export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
