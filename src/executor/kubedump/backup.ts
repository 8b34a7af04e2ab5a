/**
 * `exec backup` for the kubedump Function (component `manifest`): dumps the cluster's manifests into the
 * scratch volume, backs that directory up with the executor's ordinary backup (runBackup, one restic snapshot
 * taken from inside the directory, into every Snapshot of the session), then removes the dump, which holds
 * Secrets in clear text and must live only inside the encrypted restic repository.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { BackupConfiguration, BackupSession } from '../../api/index.js';
import { formatFieldError } from '../../domain/errors.js';
import { parseKubedumpFilter, type KubedumpFilter } from '../../domain/kubedump/filter.js';
import { runBackup, type BackupOptions, type BackupResult } from '../backup.js';
import { CORE_API_VERSION, ExecError, getRequired, translatePath } from '../context.js';
import { dumpResources, type DumpScope } from './dump.js';

const BACKUP_CONFIGURATION_TYPE = { apiVersion: CORE_API_VERSION, kind: 'BackupConfiguration' };

/** The dump directory inside the scratch volume, as KubeStash names it (`/kubestash-tmp/manifest`). */
export const MANIFEST_DUMP_DIRECTORY = 'manifest';

export interface KubedumpBackupOptions extends Omit<BackupOptions, 'paths' | 'exclude' | 'prepare'> {
  /** The kubedump parameters by their SPEC §11 names (ANDedLabelSelectors, IncludeNamespaces, …). */
  filterParams: Readonly<Record<string, string | undefined>>;
}

/** Parses the filter parameters or throws an ExecError naming every bad parameter. */
export function requireKubedumpFilter(params: Readonly<Record<string, string | undefined>>): KubedumpFilter {
  const parsed = parseKubedumpFilter(params);
  if ('errors' in parsed) throw new ExecError(`invalid kubedump parameters: ${parsed.errors.map(formatFieldError).join('; ')}`);
  return parsed.filter;
}

/**
 * What the session's BackupConfiguration target narrows the dump to: no target → the cluster; a Namespace →
 * that namespace; anything else → that application in the target's namespace (default: the configuration's).
 * Throws ExecError when the session is not invoked by a BackupConfiguration that exists, or its target has no kind.
 */
export async function scopeOfSession(options: Pick<BackupOptions, 'client' | 'namespace'>, session: BackupSession): Promise<DumpScope> {
  const invoker = session.spec?.invoker;
  if (invoker?.kind !== 'BackupConfiguration') {
    throw new ExecError(`a manifest backup needs a BackupSession invoked by a BackupConfiguration, not ${invoker?.kind ?? 'nothing'}`);
  }
  const configuration = await getRequired<BackupConfiguration>(options.client, BACKUP_CONFIGURATION_TYPE, options.namespace, invoker.name, 'BackupConfiguration');
  const target = configuration.spec?.target;
  if (target === undefined || target.name === '') return { scope: 'cluster' };
  if (target.kind === undefined || target.kind === '') throw new ExecError(`spec.target of BackupConfiguration ${options.namespace}/${invoker.name} has no kind`);
  const group = target.apiGroup ?? '';
  if (group === '' && target.kind === 'Namespace') return { scope: 'namespace', namespace: target.name };
  return { scope: 'application', namespace: target.namespace || options.namespace, target: { group, kind: target.kind, name: target.name } };
}

/**
 * Dumps into `<scratch-dir>/manifest` (a fresh temporary directory when the scratch dir does not exist on this
 * machine, e.g. outside a Job), backs it up as the component through runBackup, and always removes the dump.
 * A bad parameter, a missing target or a failed listing is recorded as the component's failure in every
 * Snapshot, like any backup failure.
 */
export async function runKubedumpBackup(options: KubedumpBackupOptions): Promise<BackupResult> {
  const scratch = options.scratchDir ?? '/kubestash-tmp';
  const mounted = existsSync(translatePath(options.volumeMap, scratch));
  const containerPath = mounted ? posix.join(scratch, MANIFEST_DUMP_DIRECTORY) : await mkdtemp(join(tmpdir(), 'autostash-kubedump-'));
  const hostPath = translatePath(options.volumeMap, containerPath);
  // runBackup backs up only paths inside the Job's volumes; a private temporary directory is one of this run's.
  const volumeMap = mounted || options.volumeMap === undefined ? options.volumeMap : { ...options.volumeMap, [containerPath]: containerPath };
  try {
    return await runBackup({
      ...options,
      ...(volumeMap !== undefined ? { volumeMap } : {}),
      paths: [containerPath],
      exclude: [],
      prepare: async (session) => {
        const filter = requireKubedumpFilter(options.filterParams);
        const scope = await scopeOfSession(options, session);
        // A dump left by an earlier, interrupted attempt in the same volume must not leak into this one.
        await rm(hostPath, { recursive: true, force: true });
        await dumpResources({ client: options.client, logger: options.logger, filter, outputDir: hostPath, scope });
      },
    });
  } finally {
    await rm(hostPath, { recursive: true, force: true });
  }
}
