/**
 * The Addon and Function objects autostash installs (SPEC §5), in KubeStash's shape so BackupConfigurations
 * and RestoreSessions written for KubeStash name the same addons, tasks and parameters. The Functions run
 * `autostash exec <verb>` instead of KubeStash's images; their args use KubeStash's envsubst style.
 *
 * Not offered (no executor for them): the volume-snapshot tasks (VolumeSnapshotter driver), pvc-addon's
 * volume-clone and volume-snapshot-restore, and workload-addon's manifest-backup / manifest-restore
 * (manifests of one workload). A session naming one of them fails with TaskNotFound and the webhook warns.
 */
import type { Addon, AddonFunction, AddonTask } from '../../api/index.js';
import type { ParameterDefinition } from '../../api/common.js';
import type { KubeObject } from '../kube-object.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, PVC_DATA_MOUNT_PATH, SCRATCH_MOUNT_PATH, SCRATCH_VOLUME_NAME } from './labels.js';

export const ADDONS_API_VERSION = 'addons.kubestash.com/v1alpha1';

export const WORKLOAD_ADDON = 'workload-addon';
export const PVC_ADDON = 'pvc-addon';
export const KUBEDUMP_ADDON = 'kubedump-addon';

/** KubeStash's task names (SPEC §5, installer catalog). */
export const LOGICAL_BACKUP_TASK = 'logical-backup';
export const LOGICAL_BACKUP_RESTORE_TASK = 'logical-backup-restore';
export const MANIFEST_BACKUP_TASK = 'manifest-backup';
export const MANIFEST_RESTORE_TASK = 'manifest-restore';

/** Volume of pvc-addon tasks holding the target claim (`${PVC_NAME}`), mounted at /kubestash-data. */
export const PVC_DATA_VOLUME_NAME = 'kubestash-data-volume';

/** The executor program every autostash Function runs (`autostash exec <verb> ...`). */
export const EXECUTOR_COMMAND: readonly string[] = ['autostash'];

const managedLabels = (): Record<string, string> => ({ [MANAGED_BY_LABEL]: MANAGED_BY_VALUE });

const param = (name: string, usage: string, extra: { required?: boolean; default?: string } = {}): ParameterDefinition => ({
  name,
  usage,
  required: extra.required ?? false,
  ...(extra.default !== undefined ? { default: extra.default } : {}),
});

const enableCache = (): ParameterDefinition =>
  param('enableCache', 'Enable or disable caching. Disabling caching may impact backup performance.', { default: 'true' });
const scratchDir = (): ParameterDefinition => param('scratchDir', 'Directory for holding temporary files and restic cache.', { default: SCRATCH_MOUNT_PATH });

/** kubedump filters (SPEC §11), shared by manifest-backup and manifest-restore. */
const kubedumpFilters = (what: 'backup' | 'restore'): ParameterDefinition[] => [
  param('ANDedLabelSelectors', "A set of labels, all of which need to be matched to filter the resources (comma-separated, e.g., 'key1:value1,key2:value2')", { default: '' }),
  param('ORedLabelSelectors', "A set of labels, at least one of which need to be matched to filter the resources (comma-separated, e.g., 'key1:value1,key2:value2')", { default: '' }),
  param('IncludeClusterResources', `Specify whether to ${what} cluster scoped resources`, { default: 'false' }),
  param('IncludeNamespaces', `Namespaces to include in ${what} (comma-separated, e.g., 'default,kube-system')`, { default: '' }),
  param('ExcludeNamespaces', `Namespaces to exclude from ${what} (comma-separated, e.g., 'kube-public,temp')`, { default: '' }),
  param('IncludeResources', `Resource types to include in ${what} (comma-separated, e.g., 'pods,deployments')`, { default: '' }),
  param('ExcludeResources', `Resource types to exclude from ${what} (comma-separated, e.g., 'secrets,configmaps')`, { default: '' }),
];

type TaskVolumes = Required<Pick<AddonTask, 'volumeTemplate' | 'volumeMounts'>>;

const scratchTemplate = (): TaskVolumes => ({
  volumeTemplate: [{ name: SCRATCH_VOLUME_NAME, usage: 'Holds temporary files and restic cache.', source: { emptyDir: {} } }],
  volumeMounts: [{ name: SCRATCH_VOLUME_NAME, mountPath: SCRATCH_MOUNT_PATH }],
});

const pvcDataTemplate = (): TaskVolumes => ({
  volumeTemplate: [
    { name: PVC_DATA_VOLUME_NAME, usage: 'The claim to back up or restore.', source: { persistentVolumeClaim: { claimName: '${PVC_NAME}' } } },
    ...scratchTemplate().volumeTemplate,
  ],
  volumeMounts: [{ name: PVC_DATA_VOLUME_NAME, mountPath: PVC_DATA_MOUNT_PATH }, ...scratchTemplate().volumeMounts],
});

const resticTask = (name: string, fn: string, singleton: boolean, parameters: ParameterDefinition[], volumes: TaskVolumes = scratchTemplate()): AddonTask => ({
  name,
  function: fn,
  driver: 'Restic',
  executor: 'Job',
  singleton,
  parameters,
  ...volumes,
});

const addon = (name: string, backupTasks: AddonTask[], restoreTasks: AddonTask[]): Addon => ({
  apiVersion: ADDONS_API_VERSION,
  kind: 'Addon',
  metadata: { name, labels: managedLabels() },
  spec: { backupTasks, restoreTasks },
});

const fn = (name: string, image: string, args: string[]): AddonFunction => ({
  apiVersion: ADDONS_API_VERSION,
  kind: 'Function',
  metadata: { name, labels: managedLabels() },
  spec: { image, command: [...EXECUTOR_COMMAND], args },
});

const backupArgs = (defaultComponent: string): string[] => [
  'exec',
  'backup',
  '--namespace=${namespace:=default}',
  '--backupsession=${backupSession:=}',
  `--component=\${COMPONENT_NAME:=${defaultComponent}}`,
];
const restoreArgs = (defaultComponent: string): string[] => [
  'exec',
  'restore',
  '--namespace=${namespace:=default}',
  '--restoresession=${restoreSession:=}',
  `--component=\${COMPONENT_NAME:=${defaultComponent}}`,
  '--snapshot=${snapshot:=}',
];
const fileBackupArgs = (): string[] => [
  ...backupArgs('dump'),
  '--paths=${paths:=}',
  '--exclude=${exclude:=}',
  '--scratch-dir=${scratchDir:=}',
  '--enable-cache=${enableCache:=}',
];
const fileRestoreArgs = (): string[] => [...restoreArgs('dump'), '--include=${include:=}', '--exclude=${exclude:=}'];
const kubedumpFilterArgs = (): string[] => [
  '--and-label-selectors=${ANDedLabelSelectors:=}',
  '--or-label-selectors=${ORedLabelSelectors:=}',
  '--include-cluster-resources=${IncludeClusterResources:=}',
  '--include-namespaces=${IncludeNamespaces:=}',
  '--exclude-namespaces=${ExcludeNamespaces:=}',
  '--include-resources=${IncludeResources:=}',
  '--exclude-resources=${ExcludeResources:=}',
];

/**
 * autostash's Addons (workload-addon, pvc-addon, kubedump-addon) and the Functions their tasks name
 * (workload-backup/-restore, pvc-backup/-restore, kubedump-backup/-restore), cluster-scoped, labelled
 * app.kubernetes.io/managed-by=autostash. Every Function runs `image` with command `autostash`.
 * Addons come first, then Functions; a fresh array of fresh objects on every call.
 */
export function autostashAddons(image: string): KubeObject[] {
  const addons: Addon[] = [
    addon(
      WORKLOAD_ADDON,
      [
        resticTask(LOGICAL_BACKUP_TASK, 'workload-backup', false, [
          param('paths', 'List of file paths to backup.', { required: true }),
          param('exclude', 'List of patterns for the files that should be ignored during backup.'),
          enableCache(),
          scratchDir(),
        ]),
      ],
      [
        resticTask(LOGICAL_BACKUP_RESTORE_TASK, 'workload-restore', false, [
          param('exclude', 'List of patterns for the files that should be ignored during restore.'),
          param('include', 'List of patterns for the files that should be restored.'),
          enableCache(),
          scratchDir(),
        ]),
      ],
    ),
    addon(
      PVC_ADDON,
      [
        resticTask(
          LOGICAL_BACKUP_TASK,
          'pvc-backup',
          true,
          [
            param('paths', 'List of file paths to backup.', { default: PVC_DATA_MOUNT_PATH }),
            param('exclude', 'List of patterns for the files that should be ignored during backup.'),
            enableCache(),
            scratchDir(),
          ],
          pvcDataTemplate(),
        ),
      ],
      [resticTask(LOGICAL_BACKUP_RESTORE_TASK, 'pvc-restore', true, [enableCache(), scratchDir()], pvcDataTemplate())],
    ),
    addon(
      KUBEDUMP_ADDON,
      [resticTask(MANIFEST_BACKUP_TASK, 'kubedump-backup', true, [enableCache(), scratchDir(), ...kubedumpFilters('backup')])],
      [
        resticTask(MANIFEST_RESTORE_TASK, 'kubedump-restore', true, [
          enableCache(),
          scratchDir(),
          ...kubedumpFilters('restore'),
          param('OverrideResources', 'Specify whether to override resources while restoring', { default: 'false' }),
          param('StorageClassMappings', "Mapping of old to new storage classes (e.g., 'old1=new1,old2=new2')", { default: '' }),
          param('RestorePVs', 'Specify whether to restore PersistentVolumes', { default: 'false' }),
        ]),
      ],
    ),
  ];
  const functions: AddonFunction[] = [
    fn('workload-backup', image, fileBackupArgs()),
    fn('workload-restore', image, fileRestoreArgs()),
    fn('pvc-backup', image, fileBackupArgs()),
    // A PVC is mounted at /kubestash-data whatever path the data was backed up from.
    fn('pvc-restore', image, [...fileRestoreArgs(), `--target-path=\${targetPath:=${PVC_DATA_MOUNT_PATH}}`]),
    fn('kubedump-backup', image, [...backupArgs('manifest'), '--scratch-dir=${scratchDir:=}', '--enable-cache=${enableCache:=}', ...kubedumpFilterArgs()]),
    fn('kubedump-restore', image, [
      ...restoreArgs('manifest'),
      ...kubedumpFilterArgs(),
      '--override-resources=${OverrideResources:=}',
      '--storage-class-mappings=${StorageClassMappings:=}',
      '--restore-pvs=${RestorePVs:=}',
    ]),
  ];
  return [...addons, ...functions] as KubeObject[];
}
