import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { checkKeyPair, errorMessage, type KeyPair } from './certificates.js';

/** The log methods the watcher uses; a pino Logger fits. */
export type TlsLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface WatchCertificatesOptions {
  /** Quiet period after the last file event before the files are read. Default 250 ms. */
  debounceMs?: number;
  /** Interval of the stat fallback that catches changes the file watcher missed. Default 10 s. */
  pollIntervalMs?: number;
  /** Clock used for the expiry check. Default the system clock. */
  now?: () => Date;
  /** The pair the server is serving now; default the files' content at the time of the call. */
  current?: KeyPair;
}

const DEFAULT_DEBOUNCE_MS = 250;
const DEFAULT_POLL_INTERVAL_MS = 10_000;

/**
 * Watches the serving certificate and key and calls `onChange` with the new pair whenever their content
 * changes to a valid, matching, unexpired pair (the pair present at start is taken as the current one and
 * not reported). It watches the directories rather than the files, so it also sees Kubernetes Secret volume
 * updates, which swap a `..data` symlink instead of writing the files; a periodic re-read catches anything
 * the directory watch misses. A pair that does not parse or does not match (for instance half-way through
 * a non-atomic update) is logged once and ignored: the previous pair stays in use. Timers and watchers do
 * not keep the process alive. Returns a function that stops watching.
 */
export function watchCertificates(
  paths: { certPath: string; keyPath: string },
  onChange: (pair: KeyPair) => void,
  logger: TlsLogger,
  options: WatchCertificatesOptions = {},
): () => void {
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const now = options.now ?? (() => new Date());
  const directories = [...new Set([dirname(paths.certPath), dirname(paths.keyPath)])];

  let stopped = false;
  /** Digest of the pair currently in use. */
  let appliedDigest = digestOf(options.current ?? readPairNow(paths));
  /** Digest of the last pair we refused, so an unchanged bad pair is logged only once. */
  let rejectedDigest: string | undefined;
  let checking = false;
  let checkAgain = false;
  let debounceTimer: NodeJS.Timeout | undefined;
  const watchers = new Map<string, FSWatcher>();

  const readPair = async (): Promise<KeyPair> => {
    const [cert, key] = await Promise.all([readFile(paths.certPath, 'utf8'), readFile(paths.keyPath, 'utf8')]);
    return { cert, key };
  };

  const check = async (): Promise<void> => {
    if (checking) {
      checkAgain = true;
      return;
    }
    checking = true;
    try {
      do {
        checkAgain = false;
        await checkOnce();
      } while (checkAgain && !stopped);
    } finally {
      checking = false;
    }
  };

  const checkOnce = async (): Promise<void> => {
    let pair: KeyPair;
    try {
      pair = await readPair();
    } catch (error) {
      if (!stopped) logger.warn({ certPath: paths.certPath, keyPath: paths.keyPath, err: errorMessage(error) }, 'certificate files unreadable; keeping the current certificate');
      return;
    }
    const digest = digestOf(pair);
    if (stopped || digest === appliedDigest || digest === rejectedDigest) return;
    try {
      checkKeyPair(pair, { cert: paths.certPath, key: paths.keyPath }, now());
    } catch (error) {
      rejectedDigest = digest;
      logger.warn({ certPath: paths.certPath, keyPath: paths.keyPath, err: errorMessage(error) }, 'new certificate rejected; keeping the current certificate');
      return;
    }
    try {
      onChange(pair);
    } catch (error) {
      rejectedDigest = digest;
      logger.error({ certPath: paths.certPath, err: errorMessage(error) }, 'applying the new certificate failed; keeping the current certificate');
      return;
    }
    appliedDigest = digest;
    rejectedDigest = undefined;
    logger.info({ certPath: paths.certPath, keyPath: paths.keyPath }, 'certificate reloaded');
  };

  const scheduleCheck = (): void => {
    if (stopped) return;
    if (debounceTimer !== undefined) clearTimeout(debounceTimer);
    debounceTimer = setTimeout(() => {
      debounceTimer = undefined;
      void check();
    }, debounceMs);
    debounceTimer.unref();
  };

  const watchDirectories = (): void => {
    for (const directory of directories) {
      if (watchers.has(directory)) continue;
      try {
        const watcher = watch(directory, { persistent: false }, scheduleCheck);
        watcher.on('error', (error) => {
          // The directory may have been replaced; the poll re-establishes the watch.
          watcher.close();
          watchers.delete(directory);
          logger.warn({ directory, err: errorMessage(error) }, 'certificate directory watch failed; relying on polling');
        });
        watchers.set(directory, watcher);
      } catch (error) {
        logger.warn({ directory, err: errorMessage(error) }, 'certificate directory watch failed; relying on polling');
      }
    }
  };

  const poll = setInterval(() => {
    watchDirectories();
    void check();
  }, pollIntervalMs);
  poll.unref();

  watchDirectories();

  return () => {
    stopped = true;
    clearInterval(poll);
    if (debounceTimer !== undefined) clearTimeout(debounceTimer);
    for (const watcher of watchers.values()) watcher.close();
    watchers.clear();
  };
}

function readPairNow(paths: { certPath: string; keyPath: string }): KeyPair {
  try {
    return { cert: readFileSync(paths.certPath, 'utf8'), key: readFileSync(paths.keyPath, 'utf8') };
  } catch {
    return { cert: '', key: '' }; // unreadable now: the first readable, valid pair counts as a change
  }
}

const digestOf = (pair: KeyPair): string => createHash('sha256').update(pair.cert).update('\0').update(pair.key).digest('hex');
