/**
 * `exec init-storage` and `exec init-repository`: check a backend and write its metadata files.
 * metadata.yaml (BackendMeta) and repository.yaml are written for local backends only; for s3/gcs/azure
 * there is no blob client besides restic here, so only the credentials mapping is validated (decision 0009).
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { BackupStorage, Repository } from '../api/index.js';
import { resticTarget } from '../domain/backend/restic-repository.js';
import { setCondition } from '../domain/schedule/session-status.js';
import { writeFileAtomic } from '../util/write-file-atomic.js';
import {
  BACKUP_STORAGE_TYPE,
  ExecError,
  getRequired,
  hasParentSegment,
  joinFieldErrors,
  localMount,
  readSecretData,
  REPOSITORY_TYPE,
  rfc3339,
  storageAsMounted,
  storageSecretName,
  updateStatusRetrying,
  type ExecOptions,
} from './context.js';

export const BackendConditions = {
  secretFound: 'BackendSecretFound',
  secretAvailable: 'BackendSecretAvailable',
  secretNotAvailable: 'BackendSecretNotAvailable',
  initialized: 'BackendInitialized',
  initSucceeded: 'BackendInitializationSucceeded',
  initFailed: 'BackendInitializationFailed',
} as const;

export const RepositoryConditions = {
  initialized: 'RepositoryInitialized',
  succeeded: 'RepositoryInitializationSucceeded',
  failed: 'RepositoryInitializationFailed',
} as const;

export const METADATA_FILE = 'metadata.yaml';
export const REPOSITORY_FILE = 'repository.yaml';
const FILE_MODE = 0o644;

export interface InitResult {
  ok: boolean;
  /** One line: what was done, or why it failed. */
  message: string;
  /** The file written on this machine (local backends). */
  file?: string;
}

/** A file-system error as a reason naming the path (never the data). */
export function fileFailure(error: unknown, what: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return `${what} does not exist`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `${what} is not writable (${code})`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `${what} has no space left (${code})`;
    case 'ENOTDIR':
      return `${what} is not a directory`;
    default:
      return `${what}: ${(error as Error).message}`;
  }
}

/** Checks that a local root exists and is a directory; returns a failure reason or undefined. */
async function checkDirectory(path: string, what: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    return info.isDirectory() ? undefined : `${what} is not a directory`;
  } catch (error) {
    return fileFailure(error, what);
  }
}

/**
 * `exec init-storage`: checks the storage Secret (condition BackendSecretFound, absent for backends without
 * one), validates the credentials mapping, and for a local backend writes `<root>/metadata.yaml` (BackendMeta,
 * keeping the creationTimestamp of an existing file). Writes BackendSecretFound/BackendInitialized on the
 * BackupStorage status and returns ok=false (after writing) when the backend is not usable.
 */
export async function initStorage(options: ExecOptions & { storage: string; operatorVersion: string }): Promise<InitResult> {
  const { client, namespace, logger } = options;
  const now = options.now ?? (() => new Date());
  const storage = await getRequired<BackupStorage>(client, BACKUP_STORAGE_TYPE, namespace, options.storage, 'BackupStorage');
  const secretName = storageSecretName(storage);
  let secretFound: boolean | undefined;
  let secretData: Record<string, string> = {};
  if (secretName !== '') {
    const data = await readSecretData(client, namespace, secretName);
    secretFound = data !== undefined;
    secretData = data ?? {};
  }

  const result = await (async (): Promise<InitResult> => {
    if (secretFound === false) return { ok: false, message: `storage Secret ${namespace}/${secretName} not found` };
    const local = localMount(storage, options.volumeMap);
    const target = resticTarget(storageAsMounted(storage), '', '', secretData, local?.root);
    if (!target.ok) return { ok: false, message: joinFieldErrors(target.errors) };
    // resticTarget accepts a local backend only with a mount path, so no mount here means another provider.
    if (local === undefined) {
      return { ok: true, message: `the ${storage.spec?.storage?.provider as string} credentials are complete; metadata.yaml is written for local backends only` };
    }
    const { mountPath, root } = local;
    const what = `the local backend root ${mountPath}`;
    const missing = await checkDirectory(root, what);
    if (missing !== undefined) return { ok: false, message: missing };
    const file = join(root, METADATA_FILE);
    try {
      const creationTimestamp = (await existingCreationTimestamp(file)) ?? rfc3339(now());
      const meta = { apiVersion: 'config.kubestash.com/v1alpha1', kind: 'BackendMeta', creationTimestamp, operatorVersion: options.operatorVersion };
      await writeFileAtomic(file, stringify(meta), FILE_MODE);
    } catch (error) {
      return { ok: false, message: fileFailure(error, what) };
    }
    return { ok: true, message: `${METADATA_FILE} written at ${mountPath}`, file };
  })();

  await updateStatusRetrying<BackupStorage>(client, BACKUP_STORAGE_TYPE, namespace, options.storage, (current) => {
    const status = (current.status ??= {});
    let conditions = status.conditions;
    if (secretFound !== undefined) {
      conditions = setCondition(
        conditions,
        secretFound
          ? { type: BackendConditions.secretFound, status: 'True', reason: BackendConditions.secretAvailable, message: `Secret ${secretName} found` }
          : { type: BackendConditions.secretFound, status: 'False', reason: BackendConditions.secretNotAvailable, message: `Secret ${namespace}/${secretName} not found` },
        now(),
      );
    }
    conditions = setCondition(
      conditions,
      { type: BackendConditions.initialized, status: result.ok ? 'True' : 'False', reason: result.ok ? BackendConditions.initSucceeded : BackendConditions.initFailed, message: result.message },
      now(),
    );
    if (conditions === status.conditions) return false;
    status.conditions = conditions;
    return true;
  });
  logger.info({ storage: `${namespace}/${options.storage}`, ok: result.ok, reason: result.message }, 'backend initialisation finished');
  return result;
}

async function existingCreationTimestamp(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = parse(text) as { creationTimestamp?: unknown } | null;
    return typeof parsed?.creationTimestamp === 'string' ? parsed.creationTimestamp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `exec init-repository`: for a local backend writes `<root>/<spec.path>/repository.yaml` (the Repository without
 * status and managedFields); for other backends validates the credentials mapping. Refuses a spec.path that is
 * empty or has `..` segments. Writes condition RepositoryInitialized on the Repository status.
 */
export async function initRepository(options: ExecOptions & { repository: string }): Promise<InitResult> {
  const { client, namespace, logger } = options;
  const now = options.now ?? (() => new Date());
  const repository = await getRequired<Repository>(client, REPOSITORY_TYPE, namespace, options.repository, 'Repository');

  const result = await (async (): Promise<InitResult> => {
    const path = repository.spec?.path ?? '';
    if (path.split('/').every((s) => s === '')) return { ok: false, message: 'Repository spec.path is empty' };
    if (hasParentSegment(path)) return { ok: false, message: `Repository spec.path "${path}" must not contain ".." segments` };
    const storageRef = repository.spec?.storageRef;
    if (storageRef?.name === undefined || storageRef.name === '') return { ok: false, message: 'Repository spec.storageRef is not set' };
    const storageNamespace = storageRef.namespace ?? namespace;
    const storage = await client.find<BackupStorage>({ ...BACKUP_STORAGE_TYPE, namespace: storageNamespace, name: storageRef.name });
    if (storage === undefined) return { ok: false, message: `BackupStorage ${storageNamespace}/${storageRef.name} not found` };
    const secretName = storageSecretName(storage);
    let secretData: Record<string, string> = {};
    if (secretName !== '') {
      const data = await readSecretData(client, storageNamespace, secretName);
      if (data === undefined) return { ok: false, message: `storage Secret ${storageNamespace}/${secretName} not found` };
      secretData = data;
    }
    const local = localMount(storage, options.volumeMap);
    const target = resticTarget(storageAsMounted(storage), path, '', secretData, local?.root);
    if (!target.ok) return { ok: false, message: joinFieldErrors(target.errors) };
    // resticTarget accepts a local backend only with a mount path (and no backend without a provider).
    if (local === undefined) {
      return { ok: true, message: `the ${storage.spec?.storage?.provider as string} credentials are complete; repository.yaml is written for local backends only` };
    }
    const { mountPath, root } = local;
    const missing = await checkDirectory(root, `the local backend root ${mountPath}`);
    if (missing !== undefined) return { ok: false, message: missing };
    const directory = join(root, ...path.split('/').filter((s) => s !== ''));
    const file = join(directory, REPOSITORY_FILE);
    try {
      await mkdir(directory, { recursive: true });
      await writeFileAtomic(file, stringify(repositoryDocument(repository)), FILE_MODE);
    } catch (error) {
      return { ok: false, message: fileFailure(error, `the repository directory ${mountPath}/${path}`) };
    }
    return { ok: true, message: `${REPOSITORY_FILE} written at ${mountPath}/${path}`, file };
  })();

  await updateStatusRetrying<Repository>(client, REPOSITORY_TYPE, namespace, options.repository, (current) => {
    const status = (current.status ??= {});
    const conditions = setCondition(
      status.conditions,
      { type: RepositoryConditions.initialized, status: result.ok ? 'True' : 'False', reason: result.ok ? RepositoryConditions.succeeded : RepositoryConditions.failed, message: result.message },
      now(),
    );
    if (conditions === status.conditions) return false;
    status.conditions = conditions;
    return true;
  });
  logger.info({ repository: `${namespace}/${options.repository}`, ok: result.ok, reason: result.message }, 'repository initialisation finished');
  return result;
}

/** The Repository as stored in repository.yaml: no status, no managedFields or other server bookkeeping. */
export function repositoryDocument(repository: Repository): Record<string, unknown> {
  const { managedFields: _managed, resourceVersion: _rv, uid: _uid, generation: _gen, ...metadata } = repository.metadata ?? {};
  return { apiVersion: repository.apiVersion, kind: repository.kind, metadata, spec: repository.spec ?? {} };
}

export { ExecError };
