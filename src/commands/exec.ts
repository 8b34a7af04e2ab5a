/**
 * `autostash exec <verb>`: what backup, restore and maintenance Jobs run (docs/executor.md). Each action only
 * builds the Kubernetes client and the options from flags and the environment (AUTOSTASH_VOLUME_MAP, HOSTNAME),
 * calls the verb's in-process function, and on failure prints one line on stderr and sets exit code 1.
 */
import { Command, InvalidArgumentError } from 'commander';
import { pino, type Logger } from 'pino';
import type { ExecOptions } from '../executor/context.js';
import { VOLUME_MAP_ENV } from '../domain/execution/labels.js';
import { AUTOSTASH_VERSION } from '../version.js';

export { VOLUME_MAP_ENV };

interface CommonFlags {
  namespace: string;
  scratchDir?: string;
  enableCache?: string;
  staleLockSeconds?: number;
  logLevel?: string;
}

/** Parses AUTOSTASH_VOLUME_MAP (a JSON object of mount path → host path); undefined when unset or empty. */
export function parseVolumeMap(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error(`${VOLUME_MAP_ENV} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new Error(`${VOLUME_MAP_ENV} must be a JSON object of mount path to host path strings`);
  }
  return parsed as Record<string, string>;
}

/** `--enable-cache=` values: empty means the default (true). */
export function parseBooleanFlag(value: string | undefined, flag: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new Error(`${flag} must be true or false, not "${value}"`);
}

const seconds = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds, 0 or more');
  return n;
};

const list = (value: string | undefined): string[] => (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');

/** Loads the cluster connection and the common options, runs `verb`, reports the outcome, and closes the client. */
async function runVerb(
  verbName: string,
  flags: CommonFlags,
  verb: (options: ExecOptions) => Promise<{ ok: boolean; message: string }>,
): Promise<void> {
  const logger: Logger = pino({ level: flags.logLevel ?? 'info', base: { service: 'autostash-exec', verb: verbName } });
  let client: ExecOptions['client'] | undefined;
  try {
    const { loadKubeConfigWithSource } = await import('../kube/kubeconfig.js');
    const { createKubeClient } = await import('../kube/client.js');
    const loaded = loadKubeConfigWithSource({ env: process.env });
    if (loaded === undefined) throw new Error('no cluster configured: set KUBECONFIG or run in a pod');
    client = createKubeClient(loaded.kubeConfig);
    const volumeMap = parseVolumeMap(process.env[VOLUME_MAP_ENV]);
    const enableCache = parseBooleanFlag(flags.enableCache, '--enable-cache');
    const podName = process.env.HOSTNAME;
    const options: ExecOptions = {
      client,
      namespace: flags.namespace,
      logger,
      ...(volumeMap !== undefined ? { volumeMap } : {}),
      ...(podName !== undefined && podName !== '' ? { podName } : {}),
      ...(flags.scratchDir !== undefined && flags.scratchDir !== '' ? { scratchDir: flags.scratchDir } : {}),
      ...(enableCache !== undefined ? { enableCache } : {}),
    };
    const result = await verb(options);
    if (!result.ok) {
      process.stderr.write(`autostash exec ${verbName}: ${result.message}\n`);
      process.exitCode = 1;
    } else {
      logger.info({ result: result.message }, 'done');
    }
  } catch (error) {
    const { describeFailure } = await import('../executor/context.js');
    process.stderr.write(`autostash exec ${verbName}: ${describeFailure(error)}\n`);
    process.exitCode = 1;
  } finally {
    client?.close();
  }
}

const stale = (flags: CommonFlags): { staleLockSeconds?: number } => (flags.staleLockSeconds !== undefined ? { staleLockSeconds: flags.staleLockSeconds } : {});

/** The kubedump filter flags (SPEC §11 parameters, as the kubedump Functions pass them). */
interface KubedumpFlags {
  andLabelSelectors?: string;
  orLabelSelectors?: string;
  includeClusterResources?: string;
  includeNamespaces?: string;
  excludeNamespaces?: string;
  includeResources?: string;
  excludeResources?: string;
}

/** Flag → SPEC §11 parameter name. */
const KUBEDUMP_FLAGS: ReadonlyArray<[flag: string, key: keyof KubedumpFlags, param: string, usage: string]> = [
  ['--and-label-selectors <terms>', 'andLabelSelectors', 'ANDedLabelSelectors', 'kubedump: labels that must all match (key:value, key=value or key; comma list)'],
  ['--or-label-selectors <terms>', 'orLabelSelectors', 'ORedLabelSelectors', 'kubedump: labels of which one must match'],
  ['--include-cluster-resources <bool>', 'includeClusterResources', 'IncludeClusterResources', 'kubedump: also dump cluster-scoped resources (default false)'],
  ['--include-namespaces <list>', 'includeNamespaces', 'IncludeNamespaces', 'kubedump: only these namespaces (default all; * = all)'],
  ['--exclude-namespaces <list>', 'excludeNamespaces', 'ExcludeNamespaces', 'kubedump: not these namespaces (wins over include)'],
  ['--include-resources <list>', 'includeResources', 'IncludeResources', 'kubedump: only these resources (resource or resource.group; default all)'],
  ['--exclude-resources <list>', 'excludeResources', 'ExcludeResources', 'kubedump: not these resources (wins over include)'],
];

const withKubedumpFlags = (command: Command): Command => {
  for (const [flag, , , usage] of KUBEDUMP_FLAGS) command.option(flag, usage);
  return command;
};

/** The kubedump parameters given as flags, by parameter name; undefined when no kubedump flag was given at all. */
export function kubedumpParams(flags: KubedumpFlags): Record<string, string> | undefined {
  const given = KUBEDUMP_FLAGS.filter(([, key]) => flags[key] !== undefined);
  if (given.length === 0) return undefined;
  return Object.fromEntries(given.map(([, key, param]) => [param, flags[key] as string]));
}

/** The restore-only kubedump flags (SPEC §11). */
interface KubedumpRestoreFlags {
  overrideResources?: string;
  storageClassMappings?: string;
  restorePvs?: string;
}

/**
 * The manifest-restore parameters given as flags, by SPEC §11 name (filters plus OverrideResources,
 * StorageClassMappings, RestorePVs); undefined when no kubedump flag was given at all (a file restore).
 */
export function kubedumpRestoreParams(flags: KubedumpFlags & KubedumpRestoreFlags): Record<string, string> | undefined {
  const restoreOnly: Array<[string, string | undefined]> = [
    ['OverrideResources', flags.overrideResources],
    ['StorageClassMappings', flags.storageClassMappings],
    ['RestorePVs', flags.restorePvs],
  ];
  const given = Object.fromEntries(restoreOnly.filter((entry): entry is [string, string] => entry[1] !== undefined));
  const filters = kubedumpParams(flags);
  if (filters === undefined && Object.keys(given).length === 0) return undefined;
  return { ...filters, ...given };
}

/** The `exec` command with one subcommand per verb. */
export function execCommand(): Command {
  const exec = new Command('exec').description('run one step of a backup, restore or maintenance Job (used inside Jobs); `exec dump` writes manifests to a directory');
  const verb = (name: string, description: string): Command =>
    exec
      .command(name)
      .description(description)
      .requiredOption('--namespace <ns>', 'namespace of the object the step works for')
      .option('--scratch-dir <dir>', 'scratch directory (container path) for the restic cache and credential files', '/kubestash-tmp')
      .option('--enable-cache <bool>', 'keep a restic cache in the scratch directory (default true)')
      .option('--stale-lock-seconds <s>', 'age after which a leftover restic lock may be removed', seconds)
      .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info');

  verb('init-storage', "check a BackupStorage's Secret and write metadata.yaml (local backends)")
    .requiredOption('--storage <name>', 'the BackupStorage')
    .action(async (flags: CommonFlags & { storage: string }) => {
      const { initStorage } = await import('../executor/init.js');
      await runVerb('init-storage', flags, (o) => initStorage({ ...o, storage: flags.storage, operatorVersion: AUTOSTASH_VERSION }));
    });

  verb('init-repository', 'write repository.yaml for a Repository (local backends)')
    .requiredOption('--repository <name>', 'the Repository')
    .action(async (flags: CommonFlags & { repository: string }) => {
      const { initRepository } = await import('../executor/init.js');
      await runVerb('init-repository', flags, (o) => initRepository({ ...o, repository: flags.repository }));
    });

  withKubedumpFlags(
    verb('backup', 'back up one component into every Snapshot of a BackupSession (with kubedump flags: dump the cluster\'s manifests and back them up)')
      .requiredOption('--backupsession <name>', 'the BackupSession')
      .requiredOption('--component <name>', 'the snapshot component (dump, dump-pod-0, manifest, ...)')
      .option('--paths <list>', 'comma list of absolute container paths (default /kubestash-data)')
      .option('--exclude <list>', 'comma list of restic exclude patterns'),
  )
    // Addon Functions written for KubeStash may pass parameters meant for other data movers.
    .allowUnknownOption()
    .action(async (flags: CommonFlags & KubedumpFlags & { backupsession: string; component: string; paths?: string; exclude?: string }) => {
      const filterParams = kubedumpParams(flags);
      if (filterParams !== undefined) {
        if (list(flags.paths).length > 0) {
          process.stderr.write('autostash exec backup: --paths cannot be combined with kubedump flags (a manifest backup backs up its own dump)\n');
          process.exitCode = 1;
          return;
        }
        const { runKubedumpBackup } = await import('../executor/kubedump/backup.js');
        await runVerb('backup', flags, (o) => runKubedumpBackup({ ...o, ...stale(flags), backupSession: flags.backupsession, component: flags.component, filterParams }));
        return;
      }
      const { runBackup } = await import('../executor/backup.js');
      await runVerb('backup', flags, (o) =>
        runBackup({ ...o, ...stale(flags), backupSession: flags.backupsession, component: flags.component, paths: list(flags.paths), exclude: list(flags.exclude) }),
      );
    });

  withKubedumpFlags(
    exec
      .command('dump')
      .description("write the cluster's manifests (kubedump layout) into a directory with your kubeconfig; no restic")
      .requiredOption('--output <dir>', 'directory to write into (created when missing; must be empty unless --force)')
      .option('--namespace-scope <ns>', 'only this namespace (and its Namespace object)')
      .option('--application <Kind[.group]/name>', 'only this workload and what belongs to it (needs --namespace-scope)')
      .option('--force', 'write into a non-empty directory (same paths are replaced, other files stay)')
      .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info'),
  ).action(async (flags: KubedumpFlags & { output: string; namespaceScope?: string; application?: string; force?: boolean; logLevel?: string }) => {
    const { runDumpToDirectory } = await import('../executor/kubedump/dump-to-directory.js');
    await runVerb('dump', { namespace: '', ...(flags.logLevel !== undefined ? { logLevel: flags.logLevel } : {}) }, (o) =>
      runDumpToDirectory({
        client: o.client,
        logger: o.logger,
        output: flags.output,
        filterParams: kubedumpParams(flags) ?? {},
        ...(flags.namespaceScope !== undefined ? { namespaceScope: flags.namespaceScope } : {}),
        ...(flags.application !== undefined ? { application: flags.application } : {}),
        force: flags.force === true,
      }),
    );
  });

  withKubedumpFlags(
    verb('restore', 'restore one component of a Snapshot for a RestoreSession (with kubedump flags: apply the manifests of a manifest backup)')
      .requiredOption('--restoresession <name>', 'the RestoreSession')
      .requiredOption('--component <name>', 'the snapshot component')
      .option('--snapshot <name>', 'the Snapshot (default spec.dataSource.snapshot)')
      .option('--include <list>', 'comma list of restic include patterns')
      .option('--exclude <list>', 'comma list of restic exclude patterns')
      .option('--target-path <path>', 'where the target is mounted when it differs from the backed-up path (PVC restores: /kubestash-data)'),
  )
    .option('--override-resources <bool>', 'kubedump: update objects that exist instead of skipping them (default false)')
    .option('--storage-class-mappings <list>', 'kubedump: storage classes to replace, old=new,… (claims, volumes, StatefulSet claim templates)')
    .option('--restore-pvs <bool>', 'kubedump: also restore PersistentVolumes (default false)')
    .allowUnknownOption()
    .action(async (flags: CommonFlags & KubedumpFlags & KubedumpRestoreFlags & { restoresession: string; component: string; snapshot?: string; include?: string; exclude?: string; targetPath?: string }) => {
      const snapshot = flags.snapshot !== undefined && flags.snapshot !== '' ? { snapshot: flags.snapshot } : {};
      const params = kubedumpRestoreParams(flags);
      if (params !== undefined) {
        const { runKubedumpRestore } = await import('../executor/kubedump/restore.js');
        await runVerb('restore', flags, (o) => runKubedumpRestore({ ...o, restoreSession: flags.restoresession, component: flags.component, ...snapshot, params }));
        return;
      }
      const { runRestore } = await import('../executor/restore.js');
      await runVerb('restore', flags, (o) =>
        runRestore({
          ...o,
          restoreSession: flags.restoresession,
          component: flags.component,
          ...snapshot,
          include: list(flags.include),
          exclude: list(flags.exclude),
          ...(flags.targetPath !== undefined && flags.targetPath !== '' ? { targetPath: flags.targetPath } : {}),
        }),
      );
    });

  verb('retention', "apply each repository's RetentionPolicy after a BackupSession")
    .requiredOption('--backupsession <name>', 'the BackupSession')
    .action(async (flags: CommonFlags & { backupsession: string }) => {
      const { runRetention } = await import('../executor/retention.js');
      await runVerb('retention', flags, (o) => runRetention({ ...o, ...stale(flags), backupSession: flags.backupsession }));
    });

  verb('wipe-snapshot', "forget and prune a Snapshot's restic data")
    .requiredOption('--snapshot <name>', 'the Snapshot')
    .action(async (flags: CommonFlags & { snapshot: string }) => {
      const { wipeSnapshot } = await import('../executor/wipe.js');
      await runVerb('wipe-snapshot', flags, (o) => wipeSnapshot({ ...o, ...stale(flags), snapshot: flags.snapshot }));
    });

  verb('wipe-repository', "remove a Repository's backup data")
    .requiredOption('--repository <name>', 'the Repository')
    .action(async (flags: CommonFlags & { repository: string }) => {
      const { wipeRepository } = await import('../executor/wipe.js');
      await runVerb('wipe-repository', flags, (o) => wipeRepository({ ...o, ...stale(flags), repository: flags.repository }));
    });

  return exec;
}
