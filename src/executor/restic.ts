import { spawn } from 'node:child_process';
import type { Logger } from 'pino';

/** How to reach one restic repository. The password travels only through the child's environment. */
export interface ResticOptions {
  repository: string;
  password: string;
  /** Extra environment for restic (backend credentials such as AWS_ACCESS_KEY_ID); values are redacted from errors. */
  env?: Record<string, string>;
  cacheDir?: string;
  /** Global restic flags with no environment variable (`--insecure-tls`, `--option=…`), from resticTarget. */
  globalArgs?: string[];
  /** The restic executable; default `restic` from PATH. */
  binary?: string;
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
}

export type ResticErrorCode = 'WrongPassword' | 'RepositoryNotFound' | 'RepositoryLocked' | 'NoSpace' | 'BackendUnwritable' | 'Unreachable' | 'Failed';

/** A restic run that failed; `stderrTail` is the last ~4 KiB of restic's stderr with secrets redacted. */
export class ResticError extends Error {
  override readonly name = 'ResticError';
  constructor(
    readonly code: ResticErrorCode,
    readonly exitCode: number,
    readonly stderrTail: string,
    message: string,
  ) {
    super(message);
  }
}

/** The operation was cancelled through its AbortSignal; the restic child was sent SIGTERM. */
export class ResticAbortError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(readonly command: string) {
    super(`restic ${command} was aborted`);
  }
}

export interface BackupProgress {
  /** 0..1 as restic reports it. */
  percentDone: number;
  bytesDone: number;
  totalBytes: number;
}

export interface BackupOptions {
  host: string;
  tags?: string[];
  exclude?: string[];
  /** Called on restic status lines, at most once per 500 ms. */
  onProgress?: (progress: BackupProgress) => void;
  signal?: AbortSignal;
  /** Working directory of restic: back up `.` from here so the snapshot tree is relative to it. */
  cwd?: string;
}

export interface BackupResult {
  snapshotId: string;
  filesNew: number;
  filesChanged: number;
  filesUnmodified: number;
  dataAdded: number;
  totalBytesProcessed: number;
  durationSeconds: number;
  /** True when restic exited 3: the snapshot exists but some source files could not be read. */
  incomplete: boolean;
}

export interface SnapshotInfo {
  id: string;
  time: string;
  host: string;
  paths: string[];
  tags: string[];
}

/** A lock file of the repository, as `restic cat lock` shows it. */
export interface ResticLock {
  id: string;
  /** When the lock was created or last refreshed (RFC 3339). */
  time: string;
  hostname: string;
  pid: number;
  exclusive: boolean;
}

export interface Restic {
  init(): Promise<{ created: boolean }>;
  backup(paths: string[], opts: BackupOptions): Promise<BackupResult>;
  snapshots(filter?: { host?: string; tags?: string[] }): Promise<SnapshotInfo[]>;
  restore(snapshotId: string, target: string, opts?: { include?: string[]; exclude?: string[]; signal?: AbortSignal }): Promise<void>;
  /** Forgets the given snapshots; ids restic does not have are ignored (restic prints "Ignoring" and exits 0). */
  forget(snapshotIds: string[], opts?: { prune?: boolean }): Promise<void>;
  /** Removes data no snapshot references any more. */
  prune(): Promise<void>;
  /** Removes the locks restic itself considers stale (dead PID on this host, or not refreshed for 30 min). */
  unlockStale(): Promise<void>;
  /** Removes every lock, live or not: only for callers that proved no other process uses the repository. */
  unlockAll(): Promise<void>;
  /** The repository's current locks (read without taking a lock). */
  listLocks(): Promise<ResticLock[]>;
  check(): Promise<{ ok: boolean }>;
}

export const PROGRESS_INTERVAL_MS = 500;
const STDERR_TAIL_CHARS = 4096;
const KILL_GRACE_MS = 10_000;
const REDACTED = '[REDACTED]';

/**
 * A gate that lets a progress report through at most once per `intervalMs` of the given clock;
 * the first report always passes.
 */
export function createProgressThrottle(intervalMs: number, now: () => number): () => boolean {
  let last: number | undefined;
  return () => {
    const t = now();
    if (last !== undefined && t - last < intervalMs) return false;
    last = t;
    return true;
  };
}

/**
 * restic retries a failed write for up to 15 minutes. Writes into a local backend that became read-only,
 * vanished or lost its permissions never heal by waiting, so such a retry line ends the run at once.
 */
const UNWRITABLE_BACKEND = /Save\(<[^>]*>\) returned error, retrying after[^\n]*(read-only file system|no such file or directory|permission denied)/i;

const FAILURE_PATTERNS: ReadonlyArray<readonly [ResticErrorCode, RegExp]> = [
  ['WrongPassword', /wrong password or no key found/i],
  ['RepositoryLocked', /repository is already locked/i],
  ['NoSpace', /ENOSPC|no space left on device/i],
  ['BackendUnwritable', UNWRITABLE_BACKEND],
  [
    'Unreachable',
    /connection refused|no such host|network is unreachable|i\/o timeout|connection reset|context deadline exceeded|TLS handshake|certificate signed by unknown authority|unable to start the sftp session|host is down|no route to host/i,
  ],
  // Only a config file that is not there: other reasons restic cannot open it (a malformed bucket name, a
  // denied request) must not read as "no repository", or a wipe would report nothing to delete.
  ['RepositoryNotFound', /unable to open config file:.*(no such file or directory|does not exist|NoSuchKey|not found)/i],
];

/** Classifies a failed restic run by its (redacted) stderr; anything unrecognised is `Failed`. */
export function classifyResticFailure(stderr: string): ResticErrorCode {
  for (const [code, pattern] of FAILURE_PATTERNS) if (pattern.test(stderr)) return code;
  return 'Failed';
}

const FAILURE_HINTS: Record<ResticErrorCode, string> = {
  WrongPassword: 'the repository password is wrong: check the encryption secret',
  RepositoryNotFound: 'no restic repository exists at the configured location: initialise it or fix the backend path',
  RepositoryLocked: 'the repository is locked by another restic process: wait for it or remove stale locks',
  NoSpace: 'the backend has no space left: free space or grow the volume',
  BackendUnwritable: 'the backend cannot be written (read-only, gone or not permitted): check the backend volume',
  Unreachable: 'the backend is unreachable: check the endpoint, network and TLS settings',
  Failed: 'restic failed: see stderrTail',
};

interface RunResult {
  exitCode: number;
  stdoutLines: string[];
  stderrTail: string;
  /** The code a failure of this run has: from the stderr before redaction (see `finish`). */
  failureCode: ResticErrorCode;
}

interface RunOptions {
  signal?: AbortSignal | undefined;
  onJsonLine?: (line: Record<string, unknown>) => void;
  /** Exit codes that count as success (default [0]). */
  okExitCodes?: number[];
  /** Classify-and-throw is skipped; the caller inspects the result. */
  noThrow?: boolean;
  cwd?: string | undefined;
}

/**
 * Wraps the restic CLI for one repository. Every call spawns restic without a shell, with the repository and
 * password in the environment only; failures reject with ResticError (secrets redacted), aborts with ResticAbortError.
 */
export function createRestic(options: ResticOptions): Restic {
  const binary = options.binary ?? 'restic';
  const log = options.logger;
  const secrets = [options.password, ...secretEnvValues(options.env)].filter((s) => s.length > 0);
  const redact = (text: string): string => {
    let out = text;
    for (const secret of secrets) out = out.split(secret).join(REDACTED);
    return out;
  };
  const globalArgs = [...(options.cacheDir !== undefined ? ['--cache-dir', options.cacheDir] : []), ...(options.globalArgs ?? [])];

  function childEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    // Inherited RESTIC_* settings (a password file, another repository) must not override ours.
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('RESTIC_')) env[key] = value;
    Object.assign(env, options.env ?? {});
    env.RESTIC_REPOSITORY = options.repository;
    env.RESTIC_PASSWORD = options.password;
    return env;
  }

  function run(command: string, args: string[], runOptions: RunOptions = {}): Promise<RunResult> {
    const { signal } = runOptions;
    if (signal?.aborted) return Promise.reject(new ResticAbortError(command));
    const fullArgs = [command, ...globalArgs, ...args];
    const started = Date.now();
    log.debug({ command, args: fullArgs.map(redact) }, 'restic started');
    return new Promise<RunResult>((resolve, reject) => {
      const child = spawn(binary, fullArgs, { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...(runOptions.cwd !== undefined ? { cwd: runOptions.cwd } : {}) });
      const stdoutLines: string[] = [];
      let stdoutRest = '';
      // Keep the password's length extra so that an occurrence straddling the cut is still redacted whole.
      const keep = STDERR_TAIL_CHARS + Math.max(0, ...secrets.map((s) => s.length));
      let stderrBuffer = '';
      let stderrTruncated = false;
      let aborted = false;
      /** Stopped because its writes cannot succeed (see UNWRITABLE_BACKEND); classified from its stderr. */
      let gaveUp = false;
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;

      const onAbort = (): void => {
        aborted = true;
        log.warn({ command, pid: child.pid }, 'restic aborted, sending SIGTERM');
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
        killTimer.unref();
      };
      signal?.addEventListener('abort', onAbort, { once: true });

      const handleLine = (line: string): void => {
        if (line.trim() === '') return;
        stdoutLines.push(line);
        if (runOptions.onJsonLine === undefined || !line.startsWith('{')) return;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          return;
        }
        if (parsed !== null && typeof parsed === 'object') runOptions.onJsonLine(parsed as Record<string, unknown>);
      };

      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        const parts = (stdoutRest + chunk).split('\n');
        stdoutRest = parts.pop() ?? '';
        for (const part of parts) handleLine(part);
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        const joined = stderrBuffer + chunk;
        if (joined.length > keep) stderrTruncated = true;
        stderrBuffer = joined.slice(-keep);
        if (!gaveUp && UNWRITABLE_BACKEND.test(stderrBuffer)) {
          gaveUp = true;
          log.warn({ command, pid: child.pid }, 'restic keeps retrying writes the backend refuses, stopping it');
          child.kill('SIGTERM');
          killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
          killTimer.unref();
        }
      });

      const finish = (error: Error | undefined, exitCode: number): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (killTimer !== undefined) clearTimeout(killTimer);
        handleLine(stdoutRest);
        const stderrTail = redact(stderrTruncated ? dropCutSecretPrefix(stderrBuffer, secrets) : stderrBuffer).slice(-STDERR_TAIL_CHARS);
        // Classified before redaction: a password that is an ordinary word ("password", "lock") would otherwise
        // be cut out of restic's own message and the failure read as unrecognised. Only the code leaves here.
        // A run stopped for refused writes is BackendUnwritable even if its last words pushed the retry line out.
        const failureCode = gaveUp ? 'BackendUnwritable' : classifyResticFailure(stderrBuffer.slice(-STDERR_TAIL_CHARS));
        const durationMs = Date.now() - started;
        if (aborted) {
          reject(new ResticAbortError(command));
          return;
        }
        if (error !== undefined) {
          log.error({ command, err: redact(error.message) }, 'restic could not be started');
          reject(new ResticError('Failed', -1, '', `restic ${command} could not be started: ${redact(error.message)}`));
          return;
        }
        const result = { exitCode, stdoutLines, stderrTail, failureCode };
        if ((runOptions.okExitCodes ?? [0]).includes(exitCode) || runOptions.noThrow === true) {
          log.debug({ command, exitCode, durationMs }, 'restic finished');
          resolve(result);
          return;
        }
        const code = failureCode;
        log.error({ command, exitCode, code, durationMs, stderrTail }, 'restic failed');
        reject(new ResticError(code, exitCode, stderrTail, `restic ${command} failed (exit ${exitCode}, ${code}): ${FAILURE_HINTS[code]}; ${lastLine(stderrTail)}`));
      };
      child.on('error', (error) => finish(error, -1));
      child.on('close', (exitCode, signalName) => finish(undefined, exitCode ?? (signalName !== null ? 128 : -1)));
    });
  }

  return {
    async init() {
      const created = await run('init', [], { noThrow: true });
      if (created.exitCode === 0) {
        log.info({ repository: redact(options.repository) }, 'restic repository created');
        return { created: true };
      }
      if (!/config file already exists/i.test(created.stderrTail)) {
        const code = created.failureCode;
        throw new ResticError(code, created.exitCode, created.stderrTail, `restic init failed (exit ${created.exitCode}, ${code}): ${FAILURE_HINTS[code]}; ${lastLine(created.stderrTail)}`);
      }
      // An existing repository is only usable if our password opens it.
      await run('cat', ['config']);
      log.info({ repository: redact(options.repository) }, 'restic repository already exists');
      return { created: false };
    },

    async backup(paths, opts) {
      const args = ['--json', '--host', opts.host];
      for (const tag of opts.tags ?? []) args.push('--tag', tag);
      for (const pattern of opts.exclude ?? []) args.push('--exclude', pattern);
      args.push('--', ...paths);
      const throttle = createProgressThrottle(PROGRESS_INTERVAL_MS, () => performance.now());
      let summary: Record<string, unknown> | undefined;
      const result = await run('backup', args, {
        signal: opts.signal,
        cwd: opts.cwd,
        okExitCodes: [0, 3],
        onJsonLine: (line) => {
          if (line.message_type === 'summary') summary = line;
          else if (line.message_type === 'status' && opts.onProgress !== undefined && throttle()) {
            opts.onProgress({ percentDone: num(line.percent_done), bytesDone: num(line.bytes_done), totalBytes: num(line.total_bytes) });
          }
        },
      });
      if (summary === undefined || typeof summary.snapshot_id !== 'string') {
        throw new ResticError('Failed', result.exitCode, result.stderrTail, 'restic backup printed no summary with a snapshot id');
      }
      const incomplete = result.exitCode === 3;
      if (incomplete) log.warn({ snapshotId: summary.snapshot_id, stderrTail: result.stderrTail }, 'restic backup incomplete: some files could not be read');
      return {
        snapshotId: summary.snapshot_id,
        filesNew: num(summary.files_new),
        filesChanged: num(summary.files_changed),
        filesUnmodified: num(summary.files_unmodified),
        dataAdded: num(summary.data_added),
        totalBytesProcessed: num(summary.total_bytes_processed),
        durationSeconds: num(summary.total_duration),
        incomplete,
      };
    },

    async snapshots(filter = {}) {
      const args = ['--json'];
      if (filter.host !== undefined) args.push('--host', filter.host);
      // One --tag with a comma list: a snapshot must carry every tag.
      if (filter.tags !== undefined && filter.tags.length > 0) args.push('--tag', filter.tags.join(','));
      const result = await run('snapshots', args);
      const parsed: unknown = JSON.parse(result.stdoutLines.join('\n') || '[]');
      if (!Array.isArray(parsed)) throw new ResticError('Failed', result.exitCode, result.stderrTail, 'restic snapshots did not print a JSON array');
      return parsed.map((raw: Record<string, unknown>) => ({
        id: String(raw.id),
        time: String(raw.time),
        host: String(raw.hostname ?? ''),
        paths: stringArray(raw.paths),
        tags: stringArray(raw.tags),
      }));
    },

    async restore(snapshotId, target, opts = {}) {
      const args = ['--target', target];
      for (const pattern of opts.include ?? []) args.push('--include', pattern);
      for (const pattern of opts.exclude ?? []) args.push('--exclude', pattern);
      args.push(snapshotId);
      await run('restore', args, { signal: opts.signal });
    },

    async forget(snapshotIds, opts = {}) {
      if (snapshotIds.length === 0) return;
      const args = opts.prune === true ? ['--prune'] : [];
      await run('forget', [...args, '--', ...snapshotIds]);
      log.info({ snapshotIds, prune: opts.prune === true }, 'restic snapshots forgotten');
    },

    async prune() {
      await run('prune', []);
      log.info({}, 'restic repository pruned');
    },

    async unlockStale() {
      await run('unlock', []);
    },

    async unlockAll() {
      await run('unlock', ['--remove-all']);
      log.warn({}, 'restic locks removed');
    },

    async listLocks() {
      const listed = await run('list', ['--no-lock', 'locks']);
      const locks: ResticLock[] = [];
      for (const id of listed.stdoutLines.map((l) => l.trim()).filter((l) => /^[0-9a-f]{64}$/.test(l))) {
        // A lock can vanish between list and cat (its owner finished): skip it.
        const shown = await run('cat', ['--no-lock', 'lock', id], { noThrow: true });
        if (shown.exitCode !== 0) continue;
        let raw: Record<string, unknown>;
        try {
          raw = JSON.parse(shown.stdoutLines.join('\n')) as Record<string, unknown>;
        } catch {
          continue;
        }
        locks.push({ id, time: String(raw.time ?? ''), hostname: String(raw.hostname ?? ''), pid: num(raw.pid), exclusive: raw.exclusive === true });
      }
      return locks;
    },

    async check() {
      const result = await run('check', [], { noThrow: true });
      if (result.exitCode === 0) return { ok: true };
      if (/repository contains errors/i.test(result.stderrTail)) {
        log.warn({ stderrTail: result.stderrTail }, 'restic check found errors');
        return { ok: false };
      }
      const code = result.failureCode;
      throw new ResticError(code, result.exitCode, result.stderrTail, `restic check failed (exit ${result.exitCode}, ${code}): ${FAILURE_HINTS[code]}; ${lastLine(result.stderrTail)}`);
    },
  };
}

const SECRET_ENV_KEY = /KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL/i;

function secretEnvValues(env: Record<string, string> | undefined): string[] {
  return Object.entries(env ?? {})
    .filter(([key, value]) => SECRET_ENV_KEY.test(key) && value.length >= 4)
    .map(([, value]) => value);
}

/** After the buffer was cut, it may start with the tail of a secret that redaction can no longer recognise. */
function dropCutSecretPrefix(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) {
    for (let k = 1; k < secret.length; k++) {
      if (out.startsWith(secret.slice(k))) {
        out = out.slice(secret.length - k);
        break;
      }
    }
  }
  return out;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.find((l) => l.startsWith('Fatal:')) ?? lines[lines.length - 1] ?? 'no stderr';
}
