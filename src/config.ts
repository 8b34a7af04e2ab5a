/**
 * The only reader of the process environment. Flags (from the CLI) override environment variables,
 * which override defaults; the result is validated once and frozen.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface WebhookConfig {
  readonly host: string;
  readonly port: number;
  /** Directory holding ca.crt, tls.crt and tls.key; generated there when absent. */
  readonly certDir: string;
  /** Explicit serving certificate / key files; both or neither. */
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  /** Service name and namespace the serving certificate is issued for. */
  readonly serviceName: string;
  readonly namespace: string;
}

/** The environment variables the Kubernetes adapter reads to find a cluster. */
export interface KubeEnvironment {
  readonly [name: string]: string | undefined;
  readonly KUBECONFIG?: string;
  readonly KUBERNETES_SERVICE_HOST?: string;
  readonly KUBERNETES_SERVICE_PORT?: string;
  readonly HOME?: string;
}

/** The embedded control plane `serve` starts when no cluster is configured (or when asked to). */
export interface EmbeddedConfig {
  /** auto: when no cluster is configured; always: even when one is; never: run with an empty cluster view. */
  readonly mode: 'auto' | 'always' | 'never';
  readonly dataDir: string;
  readonly port: number;
  /** Keep objects across restarts under dataDir. */
  readonly persist: boolean;
}

export interface ControllerConfig {
  /** Keep a generated BackupConfiguration when its workload loses the annotations or is deleted. */
  readonly keepUnannotated: boolean;
  /** The Lease replicas compete for (in the webhook's namespace). */
  readonly leaseName: string;
  /** The image of backup, restore and maintenance Jobs (`autostash exec …`). */
  readonly executorImage: string;
  /** The ServiceAccount those Jobs run as; unset: the namespace's default. */
  readonly jobServiceAccount: string | undefined;
  /** The ServiceAccount per Job role, each falling back to jobServiceAccount (undefined: the namespace's default). */
  readonly jobServiceAccounts: Readonly<Record<JobRole, string | undefined>>;
  /** Run one backup as soon as a BackupConfiguration is ready (KubeStash does). */
  readonly initialBackup: boolean;
  /** Timings of the leader Lease; leaseDuration > renewDeadline > retryPeriod > 0. */
  readonly leaderElection: LeaderElectionTimings;
}

/** client-go's leader-election timings, in seconds (fractions allowed). */
export interface LeaderElectionTimings {
  /** How long a Lease stays valid without renewal: a standby takes over after it (default 15). */
  readonly leaseDurationSeconds: number;
  /** How long the leader keeps failing to renew before it steps down (default 10). */
  readonly renewDeadlineSeconds: number;
  /** Pause between attempts to acquire or renew (default 2). */
  readonly retryPeriodSeconds: number;
}

/** Where the webhook's serving certificate comes from (docs/decisions/0011-webhook-certificates.md). */
export const CERTIFICATE_SOURCES = ['self-managed', 'cert-manager', 'secret', 'files'] as const;
export type CertificateSource = (typeof CERTIFICATE_SOURCES)[number];

export interface CertificatesConfig {
  /**
   * self-managed: the leader keeps a CA and serving certificate in the Secret; cert-manager / secret:
   * read the Secret someone else writes; files: --cert-dir or --tls-cert/--tls-key. Undefined (not
   * given): self-managed when running in a cluster with its service account, files otherwise.
   */
  readonly source: CertificateSource | undefined;
  /** The Secret (in the webhook's namespace) with ca.crt, tls.crt and tls.key. */
  readonly secretName: string;
  /** Lifetimes of self-managed certificates. */
  readonly caLifetimeMs: number;
  readonly certLifetimeMs: number;
  /** Self-managed certificates are renewed when less than this fraction of their lifetime is left. */
  readonly renewFraction: number;
}

/** How `serve` stops on SIGTERM. */
export interface ShutdownConfig {
  /** How long /readyz fails while requests are still served, so endpoints drop this replica first. */
  readonly drainMs: number;
}

/** When the webhook sheds admission requests with 503 (src/server/load-shedding.ts). */
export interface LoadSheddingConfig {
  /** Mean event-loop delay over a sample above which requests are shed (default 1 s). */
  readonly maxEventLoopDelayMs: number;
  /** Heap in use above which requests are shed; undefined: 90 % of V8's heap limit. */
  readonly maxHeapUsedBytes: number | undefined;
}

export interface Config {
  readonly certificates: CertificatesConfig;
  readonly shutdown: ShutdownConfig;
  readonly loadShedding: LoadSheddingConfig;
  readonly webhook: WebhookConfig;
  readonly embedded: EmbeddedConfig;
  readonly controller: ControllerConfig;
  readonly kubeconfigPath: string | undefined;
  readonly kubeEnv: KubeEnvironment;
  readonly logLevel: LogLevel;
}

/** Flags accepted by `autostash serve`; every one is optional. */
export interface ServeFlags {
  host?: string;
  port?: string;
  certDir?: string;
  tlsCert?: string;
  tlsKey?: string;
  kubeconfig?: string;
  namespace?: string;
  logLevel?: string;
  embedded?: boolean;
  dataDir?: string;
  embeddedPort?: string;
  persist?: boolean;
  keepUnannotated?: boolean;
  image?: string;
  jobServiceAccount?: string;
  backupJobServiceAccount?: string;
  restoreJobServiceAccount?: string;
  kubedumpBackupServiceAccount?: string;
  kubedumpRestoreServiceAccount?: string;
  maintenanceJobServiceAccount?: string;
  initialBackup?: boolean;
  leaseDuration?: string;
  renewDeadline?: string;
  retryPeriod?: string;
  certSource?: string;
  certSecret?: string;
  caLifetime?: string;
  certLifetime?: string;
  certRenewFraction?: string;
  shutdownDrain?: string;
  maxEventLoopDelay?: string;
  maxHeapUsed?: string;
}

/** A configuration value that cannot be used; `source` names the flag or variable. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    reason: string,
  ) {
    super(`${source}: ${reason}`);
    this.name = 'ConfigError';
  }
}

import { parseGoDuration, parseLeaseTiming } from './domain/duration.js';
import { DEFAULT_EXECUTOR_IMAGE } from './version.js';
import type { JobRole } from './api/install/values.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function pick(flag: string | undefined, flagName: string, env: NodeJS.ProcessEnv, envName: string): [string | undefined, string] {
  if (flag !== undefined) return [flag, flagName];
  const fromEnv = env[envName];
  return [fromEnv === '' ? undefined : fromEnv, envName];
}

function parsePort(value: string, source: string): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(source, `"${value}" is not a port number (0-65535; 0 picks a free port)`);
  const port = Number(value);
  if (port > 65535) throw new ConfigError(source, `${port} is outside the port range 0-65535`);
  return port;
}

function parseLogLevel(value: string, source: string): LogLevel {
  const level = LOG_LEVELS.find((l) => l === value);
  if (level === undefined) throw new ConfigError(source, `"${value}" is not a log level; use one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

function parseEmbeddedMode(value: string, source: string): EmbeddedConfig['mode'] {
  const modes = { auto: 'auto', always: 'always', true: 'always', never: 'never', false: 'never' } as const;
  const mode = modes[value as keyof typeof modes];
  if (mode === undefined) throw new ConfigError(source, `"${value}" is not one of auto, always (true), never (false)`);
  return mode;
}

function parseDnsLabel(value: string, source: string): string {
  if (value.length > 63 || !DNS_LABEL.test(value)) {
    throw new ConfigError(source, `"${value}" is not a valid DNS label (lowercase letters, digits and '-', at most 63 characters)`);
  }
  return value;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function parseDnsSubdomain(value: string, source: string): string {
  if (value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    throw new ConfigError(source, `"${value}" is not a valid object name (lowercase letters, digits, '-' and '.', at most 253 characters)`);
  }
  return value;
}

function leaseTimingSeconds(value: string, source: string): number {
  const parsed = parseLeaseTiming(value);
  if (!parsed.ok) throw new ConfigError(source, `"${value}" ${parsed.reason}`);
  return parsed.value;
}

/** One timing: its value in seconds, the flag or variable it came from, and whether it was set at all. */
interface LeaseTiming {
  text: string;
  seconds: number;
  source: string;
  explicit: boolean;
}

function leaseTiming(flag: string | undefined, flagName: string, env: NodeJS.ProcessEnv, envName: string, fallback: string): LeaseTiming {
  const [given, source] = pick(flag, flagName, env, envName);
  const text = given ?? fallback;
  return { text, seconds: leaseTimingSeconds(text, source), source: given === undefined ? flagName : source, explicit: given !== undefined };
}

/**
 * `shorter` must be below `longer`; the error names the one the user set (the shorter one when both
 * were). The defaults are in order, so at least one of a failing pair was set.
 */
function requireShorter(shorter: LeaseTiming, longer: LeaseTiming, shorterName: string, longerName: string, why: string): void {
  if (shorter.seconds < longer.seconds) return;
  const describe = (timing: LeaseTiming): string => (timing.explicit ? `${timing.text} from ${timing.source}` : `${timing.text}, the default of ${timing.source}`);
  if (shorter.explicit) {
    throw new ConfigError(shorter.source, `${shorter.text} must be shorter than the ${longerName} (${describe(longer)}): ${why}`);
  }
  throw new ConfigError(longer.source, `${longer.text} must be longer than the ${shorterName} (${describe(shorter)}): ${why}`);
}

/** The three timings, each from its flag or variable, checked against each other as client-go does. */
function loadLeaderElection(flags: ServeFlags, env: NodeJS.ProcessEnv): LeaderElectionTimings {
  const lease = leaseTiming(flags.leaseDuration, '--lease-duration', env, 'AUTOSTASH_LEASE_DURATION', '15s');
  const renew = leaseTiming(flags.renewDeadline, '--renew-deadline', env, 'AUTOSTASH_RENEW_DEADLINE', '10s');
  const retry = leaseTiming(flags.retryPeriod, '--retry-period', env, 'AUTOSTASH_RETRY_PERIOD', '2s');
  requireShorter(renew, lease, 'renew deadline', 'lease duration', 'a leader must give up before a standby may take over');
  requireShorter(retry, renew, 'retry period', 'renew deadline', 'the leader needs more than one attempt to renew');
  return Object.freeze({ leaseDurationSeconds: lease.seconds, renewDeadlineSeconds: renew.seconds, retryPeriodSeconds: retry.seconds });
}

/** A go duration in milliseconds within [min, max]. */
function parseDurationMs(value: string, source: string, minMs: number, maxMs: number, bounds: string): number {
  const parsed = parseGoDuration(value);
  if (!parsed.ok) throw new ConfigError(source, `"${value}" is not a duration such as 8760h or 30m (${parsed.reason})`);
  const ms = Number(parsed.value) / 1e6;
  if (ms < minMs || ms > maxMs) throw new ConfigError(source, `"${value}" is outside ${bounds}`);
  return ms;
}

const HOUR_MS = 3_600_000;

function loadCertificates(flags: ServeFlags, env: NodeJS.ProcessEnv, explicitFiles: boolean): CertificatesConfig {
  const [sourceText, sourceFrom] = pick(flags.certSource, '--cert-source', env, 'AUTOSTASH_CERT_SOURCE');
  const source = sourceText === undefined ? undefined : CERTIFICATE_SOURCES.find((candidate) => candidate === sourceText);
  if (sourceText !== undefined && source === undefined) throw new ConfigError(sourceFrom, `"${sourceText}" is not one of ${CERTIFICATE_SOURCES.join(', ')}`);
  if (explicitFiles && source !== undefined && source !== 'files') {
    throw new ConfigError(sourceFrom, `${source} reads the certificate from a Secret: drop --tls-cert/--tls-key, or use --cert-source files`);
  }
  const [secretName = 'autostash-webhook-tls', secretSource] = pick(flags.certSecret, '--cert-secret', env, 'AUTOSTASH_CERT_SECRET');
  parseDnsSubdomain(secretName, secretSource);
  const lifetime = (flag: string | undefined, flagName: string, envName: string, fallback: string): [number, string] => {
    const [text = fallback, from] = pick(flag, flagName, env, envName);
    return [parseDurationMs(text, from, 10 * 60_000, 100 * 8760 * HOUR_MS, 'the range 10m to 876000h (100 years)'), from];
  };
  const [caLifetimeMs] = lifetime(flags.caLifetime, '--ca-lifetime', 'AUTOSTASH_CA_LIFETIME', '43800h');
  const [certLifetimeMs, certLifetimeSource] = lifetime(flags.certLifetime, '--cert-lifetime', 'AUTOSTASH_CERT_LIFETIME', '8760h');
  if (certLifetimeMs > caLifetimeMs) throw new ConfigError(certLifetimeSource, 'must not be longer than the CA lifetime (--ca-lifetime): a serving certificate never outlives its CA');
  const [fractionText = '0.3333', fractionSource] = pick(flags.certRenewFraction, '--cert-renew-fraction', env, 'AUTOSTASH_CERT_RENEW_FRACTION');
  const renewFraction = Number(fractionText);
  if (!/^(0?\.\d+|0)$/.test(fractionText) || !(renewFraction > 0 && renewFraction < 1)) {
    throw new ConfigError(fractionSource, `"${fractionText}" is not a fraction between 0 and 1 (e.g. 0.3333: renew when less than a third of the lifetime is left)`);
  }
  return Object.freeze({ source, secretName, caLifetimeMs, certLifetimeMs, renewFraction });
}

/** Flag, environment variable and ServeFlags key of each Job role's ServiceAccount (the install passes the flags). */
const JOB_SERVICE_ACCOUNT_SOURCES: ReadonlyArray<[JobRole, keyof ServeFlags, string, string]> = [
  ['backup', 'backupJobServiceAccount', '--backup-job-service-account', 'AUTOSTASH_BACKUP_JOB_SERVICE_ACCOUNT'],
  ['restore', 'restoreJobServiceAccount', '--restore-job-service-account', 'AUTOSTASH_RESTORE_JOB_SERVICE_ACCOUNT'],
  ['kubedumpBackup', 'kubedumpBackupServiceAccount', '--kubedump-backup-service-account', 'AUTOSTASH_KUBEDUMP_BACKUP_SERVICE_ACCOUNT'],
  ['kubedumpRestore', 'kubedumpRestoreServiceAccount', '--kubedump-restore-service-account', 'AUTOSTASH_KUBEDUMP_RESTORE_SERVICE_ACCOUNT'],
  ['maintenance', 'maintenanceJobServiceAccount', '--maintenance-job-service-account', 'AUTOSTASH_MAINTENANCE_JOB_SERVICE_ACCOUNT'],
];

function loadJobServiceAccounts(flags: ServeFlags, env: NodeJS.ProcessEnv, fallback: string | undefined): Readonly<Record<JobRole, string | undefined>> {
  const accounts = {} as Record<JobRole, string | undefined>;
  for (const [role, key, flag, variable] of JOB_SERVICE_ACCOUNT_SOURCES) {
    const [name, source] = pick(flags[key] as string | undefined, flag, env, variable);
    accounts[role] = name === undefined ? fallback : parseDnsSubdomain(name, source);
  }
  return Object.freeze(accounts);
}

/**
 * Builds the validated configuration.
 * @throws ConfigError naming the flag or environment variable that is wrong.
 */
export function loadConfig(flags: ServeFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const [host = '0.0.0.0', hostSource] = pick(flags.host, '--host', env, 'AUTOSTASH_HOST');
  if (host.trim() === '') throw new ConfigError(hostSource, 'must not be empty');
  const [portText = '8443', portSource] = pick(flags.port, '--port', env, 'AUTOSTASH_PORT');
  const [certDir = 'certs', certDirSource] = pick(flags.certDir, '--cert-dir', env, 'AUTOSTASH_CERT_DIR');
  if (certDir.trim() === '') throw new ConfigError(certDirSource, 'must not be empty');
  const [certFile] = pick(flags.tlsCert, '--tls-cert', env, 'AUTOSTASH_TLS_CERT');
  const [keyFile] = pick(flags.tlsKey, '--tls-key', env, 'AUTOSTASH_TLS_KEY');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(certFile === undefined ? '--tls-cert' : '--tls-key', 'give --tls-cert and --tls-key together (or neither, to use --cert-dir)');
  }
  const [namespaceText = 'autostash', namespaceSource] = pick(flags.namespace, '--namespace', env, 'POD_NAMESPACE');
  const [levelText = 'info', levelSource] = pick(flags.logLevel, '--log-level', env, 'AUTOSTASH_LOG_LEVEL');
  const [kubeconfigPath] = pick(flags.kubeconfig, '--kubeconfig', {}, '');
  const [dataDir = '.autostash', dataDirSource] = pick(flags.dataDir, '--data-dir', env, 'AUTOSTASH_DATA_DIR');
  if (dataDir.trim() === '') throw new ConfigError(dataDirSource, 'must not be empty');
  const [embeddedPortText = '6443', embeddedPortSource] = pick(flags.embeddedPort, '--embedded-port', env, 'AUTOSTASH_EMBEDDED_PORT');
  const [modeText = 'auto', modeSource] = pick(flags.embedded === undefined ? undefined : flags.embedded ? 'always' : 'never', flags.embedded ? '--embedded' : '--no-embedded', env, 'AUTOSTASH_EMBEDDED');
  const mode = parseEmbeddedMode(modeText, modeSource);
  if (mode === 'always' && kubeconfigPath !== undefined) throw new ConfigError('--embedded', 'cannot be combined with --kubeconfig: choose the embedded control plane or a cluster');

  const [executorImage = DEFAULT_EXECUTOR_IMAGE, imageSource] = pick(flags.image, '--image', env, 'AUTOSTASH_IMAGE');
  if (/\s/.test(executorImage) || executorImage === '') throw new ConfigError(imageSource, `"${executorImage}" is not a container image reference`);
  const [jobServiceAccount, jobServiceAccountSource] = pick(flags.jobServiceAccount, '--job-service-account', env, 'AUTOSTASH_JOB_SERVICE_ACCOUNT');
  if (jobServiceAccount !== undefined) parseDnsSubdomain(jobServiceAccount, jobServiceAccountSource);
  const jobServiceAccounts = loadJobServiceAccounts(flags, env, jobServiceAccount);
  const [initialBackupText = 'true', initialBackupSource] = pick(
    flags.initialBackup === undefined ? undefined : String(flags.initialBackup),
    '--no-initial-backup',
    env,
    'AUTOSTASH_INITIAL_BACKUP',
  );
  if (initialBackupText !== 'true' && initialBackupText !== 'false') throw new ConfigError(initialBackupSource, `"${initialBackupText}" is not true or false`);

  const kubeEnv: KubeEnvironment = Object.freeze({
    ...(env.KUBECONFIG ? { KUBECONFIG: env.KUBECONFIG } : {}),
    ...(env.KUBERNETES_SERVICE_HOST ? { KUBERNETES_SERVICE_HOST: env.KUBERNETES_SERVICE_HOST } : {}),
    ...(env.KUBERNETES_SERVICE_PORT ? { KUBERNETES_SERVICE_PORT: env.KUBERNETES_SERVICE_PORT } : {}),
    ...(env.HOME ? { HOME: env.HOME } : {}),
  });

  const [drainText = '5s', drainSource] = pick(flags.shutdownDrain, '--shutdown-drain', env, 'AUTOSTASH_SHUTDOWN_DRAIN');
  const drainMs = parseDurationMs(drainText, drainSource, 0, 5 * 60_000, 'the range 0s to 5m');

  const [delayText = '1s', delaySource] = pick(flags.maxEventLoopDelay, '--max-event-loop-delay', env, 'AUTOSTASH_MAX_EVENT_LOOP_DELAY');
  const maxEventLoopDelayMs = parseDurationMs(delayText, delaySource, 10, 60_000, 'the range 10ms to 1m');
  const [heapText, heapSource] = pick(flags.maxHeapUsed, '--max-heap-used', env, 'AUTOSTASH_MAX_HEAP_USED');
  let maxHeapUsedBytes: number | undefined;
  if (heapText !== undefined) {
    const mebibytes = /^\d+$/.test(heapText) ? Number(heapText) : Number.NaN;
    if (!(mebibytes >= 32 && mebibytes <= 1_048_576)) throw new ConfigError(heapSource, `"${heapText}" is not a number of MiB between 32 and 1048576`);
    maxHeapUsedBytes = mebibytes * 1024 * 1024;
  }

  return Object.freeze({
    certificates: loadCertificates(flags, env, certFile !== undefined),
    shutdown: Object.freeze({ drainMs }),
    loadShedding: Object.freeze({ maxEventLoopDelayMs, maxHeapUsedBytes }),
    webhook: Object.freeze({
      host,
      port: parsePort(portText, portSource),
      certDir,
      certFile,
      keyFile,
      serviceName: 'autostash',
      namespace: parseDnsLabel(namespaceText, namespaceSource),
    }),
    embedded: Object.freeze({
      mode,
      dataDir,
      port: parsePort(embeddedPortText, embeddedPortSource),
      persist: flags.persist ?? env.AUTOSTASH_PERSIST === 'true',
    }),
    controller: Object.freeze({
      keepUnannotated: flags.keepUnannotated ?? env.AUTOSTASH_KEEP_UNANNOTATED === 'true',
      leaseName: 'autostash-controller',
      executorImage,
      jobServiceAccount,
      jobServiceAccounts,
      initialBackup: initialBackupText === 'true',
      leaderElection: loadLeaderElection(flags, env),
    }),
    kubeconfigPath,
    kubeEnv,
    logLevel: parseLogLevel(levelText, levelSource),
  });
}
