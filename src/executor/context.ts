/**
 * What every `autostash exec` verb shares: the options it is called with, container-path translation
 * (AUTOSTASH_VOLUME_MAP), reading Secrets and the objects behind a Repository, opening the restic
 * repository of one component, status writes retried on conflict, and failure messages without secrets.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BackupStorage, Repository } from '../api/index.js';
import { resticTarget } from '../domain/backend/restic-repository.js';
import type { KubeObject } from '../domain/kube-object.js';
import { isConflict, isNotFound, type KubeClient, type TypeRef } from '../kube/client.js';
import { writeFileAtomic } from '../util/write-file-atomic.js';
import { createRestic, ResticError, type Restic } from './restic.js';

export const STORAGE_API_VERSION = 'storage.kubestash.com/v1alpha1';
export const CORE_API_VERSION = 'core.kubestash.com/v1alpha1';
export const BACKUP_STORAGE_TYPE: TypeRef = { apiVersion: STORAGE_API_VERSION, kind: 'BackupStorage' };
export const REPOSITORY_TYPE: TypeRef = { apiVersion: STORAGE_API_VERSION, kind: 'Repository' };
export const SNAPSHOT_TYPE: TypeRef = { apiVersion: STORAGE_API_VERSION, kind: 'Snapshot' };
export const RETENTION_POLICY_TYPE: TypeRef = { apiVersion: STORAGE_API_VERSION, kind: 'RetentionPolicy' };
export const BACKUP_SESSION_TYPE: TypeRef = { apiVersion: CORE_API_VERSION, kind: 'BackupSession' };
export const BACKUP_CONFIGURATION_TYPE: TypeRef = { apiVersion: CORE_API_VERSION, kind: 'BackupConfiguration' };
export const RESTORE_SESSION_TYPE: TypeRef = { apiVersion: CORE_API_VERSION, kind: 'RestoreSession' };
export const SECRET_TYPE: TypeRef = { apiVersion: 'v1', kind: 'Secret' };
export const JOB_TYPE: TypeRef = { apiVersion: 'batch/v1', kind: 'Job' };

/** The key of the encryption Secret that holds the restic password. */
export const RESTIC_PASSWORD_KEY = 'RESTIC_PASSWORD';

/** What every verb is called with; the commander action builds it from flags and the environment. */
export interface ExecOptions {
  client: KubeClient;
  /** Namespace of the object the verb works for (`--namespace`). */
  namespace: string;
  /** Container mount path → path on this machine (AUTOSTASH_VOLUME_MAP); absent in a real pod. */
  volumeMap?: Record<string, string>;
  logger: Logger;
  now?: () => Date;
  /** The restic executable; default `restic` from PATH. */
  resticBinary?: string;
  /** This pod's name (HOSTNAME), used to recognise our own Job and our own restic locks. */
  podName?: string;
  /** Scratch directory (container path, default /kubestash-tmp) for credential files and the restic cache. */
  scratchDir?: string;
  /** Keep a restic cache in the scratch directory (default true). */
  enableCache?: boolean;
}

/** A failure of a verb, with a one-line reason fit for status, Events and stderr (never a secret). */
export class ExecError extends Error {
  override readonly name = 'ExecError';
}

/**
 * Translates a container path to this machine through the volume map: the longest mount path that equals
 * the path or is followed by `/` in it is replaced by its host path. Without a map (a real pod) the path is unchanged.
 */
export function translatePath(volumeMap: Record<string, string> | undefined, containerPath: string): string {
  let best: { bare: string; host: string } | undefined;
  for (const [mountPath, host] of Object.entries(volumeMap ?? {})) {
    const bare = mountPath.replace(/\/+$/, '') || '/';
    const matches = containerPath === bare || containerPath.startsWith(bare === '/' ? '/' : `${bare}/`);
    if (matches && (best === undefined || bare.length > best.bare.length)) best = { bare, host };
  }
  if (best === undefined) return containerPath;
  return `${best.host.replace(/\/+$/, '')}${containerPath.slice(best.bare === '/' ? 0 : best.bare.length)}` || '/';
}

/** True when `containerPath` is a mount path of the volume map or lies under one. */
export function isMountedPath(volumeMap: Record<string, string>, containerPath: string): boolean {
  return Object.keys(volumeMap).some((mountPath) => {
    const bare = mountPath.replace(/\/+$/, '') || '/';
    return containerPath === bare || containerPath.startsWith(bare === '/' ? '/' : `${bare}/`);
  });
}

/** Splits a path into its non-empty segments. */
const segmentsOf = (path: string): string[] => path.split('/').filter((s) => s !== '');

/** True when a path has a `..` segment (a way out of the directory it should stay in). */
export const hasParentSegment = (path: string): boolean => segmentsOf(path).includes('..');

/** Throws unless `path` is an absolute container path without `..` segments; `what` names the flag or field. */
export function requireSafeAbsolutePath(path: string, what: string): void {
  if (!path.startsWith('/')) throw new ExecError(`${what} "${path}" must be an absolute path`);
  if (hasParentSegment(path)) throw new ExecError(`${what} "${path}" must not contain ".." segments`);
}

/** Splits a comma list flag (`a,b`, possibly empty) into its trimmed non-empty items. */
export const splitList = (value: string | undefined): string[] =>
  (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');

/** The Secret's data decoded to strings; undefined when the Secret does not exist. */
export async function readSecretData(client: KubeClient, namespace: string, name: string): Promise<Record<string, string> | undefined> {
  const secret = await client.find<KubeObject & { data?: Record<string, string>; stringData?: Record<string, string> }>({ ...SECRET_TYPE, namespace, name });
  if (secret === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) out[key] = Buffer.from(value, 'base64').toString('utf8');
  return out;
}

/** Reads an object, or fails with a reason that names it. */
export async function getRequired<T extends KubeObject>(client: KubeClient, type: TypeRef, namespace: string, name: string, what = type.kind): Promise<T> {
  if (name === '') throw new ExecError(`no ${what} name was given`);
  const found = await client.find<T>({ ...type, namespace, name });
  if (found === undefined) throw new ExecError(`${what} ${namespace}/${name} not found`);
  return found;
}

const MAX_STATUS_ATTEMPTS = 8;

/**
 * Read-modify-write of an object's status: `mutate` gets the current object and changes only the fields the
 * caller owns (returning false when nothing needs writing); a 409 re-reads and retries. Returns the object as
 * written (or as read when nothing changed, or undefined when the object is gone).
 */
export async function updateStatusRetrying<T extends KubeObject>(
  client: KubeClient,
  type: TypeRef,
  namespace: string,
  name: string,
  mutate: (object: T) => boolean | void,
): Promise<T | undefined> {
  for (let attempt = 1; ; attempt++) {
    const current = await client.find<T>({ ...type, namespace, name });
    if (current === undefined) return undefined;
    if (mutate(current) === false) return current;
    try {
      return await client.updateStatus(current);
    } catch (error) {
      if (!isConflict(error) || attempt >= MAX_STATUS_ATTEMPTS) throw error;
    }
  }
}

/** RFC 3339 without fractional seconds, as Kubernetes writes times. */
export const rfc3339 = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A duration as Go prints one, to a tenth of a second: `12.3s`, `1m2.5s`, `1h0m3s`. */
export function formatDuration(milliseconds: number): string {
  const tenths = Math.max(0, Math.round(milliseconds / 100));
  const hours = Math.floor(tenths / 36_000);
  const minutes = Math.floor((tenths % 36_000) / 600);
  const seconds = (tenths % 600) / 10;
  const secondsText = `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}

/** A failure as one line for status and stderr: restic failures by their code, others by their message. */
export function describeFailure(error: unknown): string {
  if (error instanceof ResticError) {
    const reasons: Record<ResticError['code'], string> = {
      WrongPassword: 'wrong password: the encryption secret does not open this restic repository',
      RepositoryNotFound: 'no restic repository exists at the backend location',
      RepositoryLocked: 'the restic repository is locked by another process',
      NoSpace: 'the backend has no space left',
      BackendUnwritable: 'the backend cannot be written (read-only, gone or not permitted); restic was stopped instead of retrying for 15 minutes',
      Unreachable: 'the backend is unreachable (check endpoint, network and TLS)',
      Failed: 'restic failed',
    };
    const detail = error.code === 'Failed' ? `: ${lastMeaningfulLine(error.stderrTail)}` : error.code === 'BackendUnwritable' ? `: ${refusedWrite(error.stderrTail)}` : '';
    return `${reasons[error.code]}${detail}`;
  }
  if (error instanceof Error) return error.message.replace(/\n[\s\S]*$/, '');
  return String(error);
}

/** Why the backend refused restic's write, from its retry line (e.g. `read-only file system`). */
function refusedWrite(stderr: string): string {
  return /read-only file system|no such file or directory|permission denied/i.exec(stderr)?.[0] ?? 'the write was refused';
}

function lastMeaningfulLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.find((l) => l.startsWith('Fatal:')) ?? lines[lines.length - 1] ?? 'no output';
}

/** resticTarget's field errors as one line. */
export const joinFieldErrors = (errors: ReadonlyArray<{ path: string; message: string }>): string =>
  errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ');

/** The Repository with what it stands on: its BackupStorage, the storage Secret's data and the restic password. */
export interface ResolvedRepository {
  repository: Repository;
  storage: BackupStorage;
  storageSecret: Record<string, string>;
  password: string;
}

/** The name of the storage Secret of a BackupStorage (empty for local and credential-less backends). */
export function storageSecretName(storage: BackupStorage): string {
  const backend = storage.spec?.storage;
  switch (backend?.provider) {
    case 's3':
      return backend.s3?.secretName ?? '';
    case 'gcs':
      return backend.gcs?.secretName ?? '';
    case 'azure':
      return backend.azure?.secretName ?? '';
    default:
      return '';
  }
}

/**
 * Reads a Repository (namespace `namespace`), its BackupStorage, the storage Secret and the encryption password
 * (key RESTIC_PASSWORD of `encryptionSecret ?? repository.spec.encryptionSecret`, namespace defaulting to the
 * Repository's). Fails with a reason naming the missing object or key.
 */
export async function resolveRepository(
  client: KubeClient,
  namespace: string,
  name: string,
  encryptionSecret?: { name: string; namespace?: string | undefined },
): Promise<ResolvedRepository> {
  const repository = await getRequired<Repository>(client, REPOSITORY_TYPE, namespace, name, 'Repository');
  const storageRef = repository.spec?.storageRef;
  if (storageRef?.name === undefined || storageRef.name === '') throw new ExecError(`Repository ${namespace}/${name} has no spec.storageRef`);
  const storageNamespace = storageRef.namespace ?? namespace;
  const storage = await getRequired<BackupStorage>(client, BACKUP_STORAGE_TYPE, storageNamespace, storageRef.name, 'BackupStorage');
  const secretName = storageSecretName(storage);
  let storageSecret: Record<string, string> = {};
  if (secretName !== '') {
    const data = await readSecretData(client, storageNamespace, secretName);
    if (data === undefined) throw new ExecError(`storage Secret ${storageNamespace}/${secretName} of BackupStorage ${storageRef.name} not found`);
    storageSecret = data;
  }
  const encryption = encryptionSecret ?? repository.spec?.encryptionSecret;
  if (encryption?.name === undefined || encryption.name === '') throw new ExecError(`Repository ${namespace}/${name} has no spec.encryptionSecret`);
  const encryptionNamespace = encryption.namespace ?? namespace;
  const encryptionData = await readSecretData(client, encryptionNamespace, encryption.name);
  if (encryptionData === undefined) throw new ExecError(`encryption Secret ${encryptionNamespace}/${encryption.name} not found`);
  const password = encryptionData[RESTIC_PASSWORD_KEY];
  if (password === undefined || password === '') {
    throw new ExecError(`encryption Secret ${encryptionNamespace}/${encryption.name} has no ${RESTIC_PASSWORD_KEY} key`);
  }
  return { repository, storage, storageSecret, password };
}

/**
 * A local backend's mount path and its root on this machine (the mount path, translated). Undefined for other
 * providers and for a local backend without a mount path (resticTarget reports that one).
 */
export function localMount(storage: BackupStorage, volumeMap: Record<string, string> | undefined): { mountPath: string; root: string } | undefined {
  const mountPath = storage.spec?.storage?.provider === 'local' ? storage.spec.storage.local?.mountPath : undefined;
  return mountPath === undefined || mountPath === '' ? undefined : { mountPath, root: translatePath(volumeMap, mountPath) };
}

/** The root of a local backend on this machine: its mount path, translated. Undefined for other providers. */
export const localRoot = (storage: BackupStorage, volumeMap: Record<string, string> | undefined): string | undefined => localMount(storage, volumeMap)?.root;

/**
 * The storage as a Job sees it: a local backend's Job mount already carries `subPath` (the volume at subPath is
 * mounted at mountPath), so the root inside the Job is the mount path alone and subPath must not be added again.
 */
export function storageAsMounted(storage: BackupStorage): BackupStorage {
  const local = storage.spec?.storage?.local;
  if (storage.spec?.storage?.provider !== 'local' || local?.subPath === undefined) return storage;
  const { subPath: _mountedAlready, ...rest } = local;
  return { ...storage, spec: { ...storage.spec, storage: { ...storage.spec.storage, local: rest } } };
}

/** A restic wrapper for one component repository, plus the cleanup of its private credential files. */
export interface OpenedRepository {
  restic: Restic;
  /** RESTIC_REPOSITORY as restic sees it (a path for local backends; never contains credentials). */
  location: string;
  close(): Promise<void>;
}

/** Where credential files and the cache go: the translated scratch dir when it exists, else the OS temp dir. */
export function scratchRoot(options: Pick<ExecOptions, 'scratchDir' | 'volumeMap'>): string {
  const translated = translatePath(options.volumeMap, options.scratchDir ?? '/kubestash-tmp');
  return existsSync(translated) ? translated : tmpdir();
}

/**
 * Opens the restic repository of `componentPath` under `repository.spec.path` of the storage: builds the target with
 * resticTarget (local root = the translated mount path), writes credential files (mode 0600) into a private
 * directory under the scratch dir, and returns a wrapper. Call close() to remove the files.
 */
export async function openComponentRepository(options: ExecOptions, resolved: ResolvedRepository, componentPath: string): Promise<OpenedRepository> {
  const { storage, repository } = resolved;
  const directory = repository.spec?.path ?? '';
  if (hasParentSegment(directory)) throw new ExecError(`Repository spec.path "${directory}" must not contain ".." segments`);
  const root = localRoot(storage, options.volumeMap);
  const result = resticTarget(storageAsMounted(storage), directory, componentPath, resolved.storageSecret, root);
  if (!result.ok) throw new ExecError(joinFieldErrors(result.errors));
  const { target } = result;
  const scratch = scratchRoot(options);
  const privateDir = await mkdtemp(join(scratch, 'restic-'));
  const env = { ...target.env };
  for (const file of target.files ?? []) {
    const path = join(privateDir, file.name);
    await writeFileAtomic(path, file.content, 0o600);
    env[file.env] = path;
  }
  let cacheDir: string | undefined;
  if (options.enableCache !== false) {
    cacheDir = join(scratch, 'restic-cache');
    await mkdir(cacheDir, { recursive: true });
  }
  const restic = createRestic({
    repository: target.repository,
    password: resolved.password,
    env,
    globalArgs: target.args,
    ...(cacheDir !== undefined ? { cacheDir } : {}),
    ...(options.resticBinary !== undefined ? { binary: options.resticBinary } : {}),
    logger: options.logger,
  });
  return { restic, location: target.repository, close: () => rm(privateDir, { recursive: true, force: true }) };
}

/** Runs `body` with an opened repository and always removes its credential files. */
export async function withComponentRepository<T>(
  options: ExecOptions,
  resolved: ResolvedRepository,
  componentPath: string,
  body: (opened: OpenedRepository) => Promise<T>,
): Promise<T> {
  const opened = await openComponentRepository(options, resolved, componentPath);
  try {
    return await body(opened);
  } finally {
    await opened.close();
  }
}

export { isNotFound };
