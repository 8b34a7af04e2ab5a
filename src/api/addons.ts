/** addons.kubestash.com/v1alpha1 kinds (SPEC §5). */
import { Type, type Static } from '@sinclair/typebox';
import { driverValues, ParameterDefinition, VolumeSource } from './common.js';
import { kindObject } from './kind-object.js';
import { ContainerRuntimeSettings, kubernetesCoreList, volumeMountList } from './kubernetes.js';

const o = Type.Optional;
const str = () => Type.String();

export const taskExecutorValues = ['Job', 'Sidecar', 'EphemeralContainer', 'MultiLevelJob'] as const;
export type TaskExecutor = (typeof taskExecutorValues)[number];

/** The Go type carries two enum markers (type-level and field-level, in different orders); the CRD keeps both. */
const driverSchema = () =>
  Type.Unsafe<(typeof driverValues)[number]>({
    type: 'string',
    allOf: [
      { enum: [...driverValues] },
      { enum: ['Restic', 'WalG', 'Medusa', 'VolumeSnapshotter', 'Solr', 'ClickHouseBackup', 'Neo4jAdmin'] },
    ],
  });

export const VolumeTemplate = Type.Object({ name: o(str()), source: o(VolumeSource), usage: o(str()) });
export type VolumeTemplate = Static<typeof VolumeTemplate>;

/** One backup or restore task an Addon offers. */
export const AddonTask = Type.Object({
  driver: o(driverSchema()),
  executor: o(Type.Unsafe<TaskExecutor>({ type: 'string', enum: [...taskExecutorValues] })),
  function: o(str()),
  name: o(str()),
  parameters: o(Type.Array(ParameterDefinition)),
  singleton: o(Type.Boolean()),
  volumeMounts: o(volumeMountList()),
  volumeTemplate: o(Type.Array(VolumeTemplate)),
});
export type AddonTask = Static<typeof AddonTask>;

export const AddonSpec = Type.Object({
  backupTasks: o(Type.Array(AddonTask)),
  restoreTasks: o(Type.Array(AddonTask)),
});
export type AddonSpec = Static<typeof AddonSpec>;

export const AddonSchema = kindObject(AddonSpec);
export type Addon = Static<typeof AddonSchema>;

/** A container template a task runs; its args may use `${var:=default}`. */
export const FunctionSpec = Type.Object({
  args: o(Type.Array(str())),
  availableVersions: o(Type.Array(str())),
  command: o(Type.Array(str())),
  image: o(str()),
  ports: o(kubernetesCoreList('ContainerPort')),
  runtimeSettings: o(ContainerRuntimeSettings),
  volumeDevices: o(kubernetesCoreList('VolumeDevice')),
  volumeMounts: o(volumeMountList()),
  workingDir: o(str()),
});
export type FunctionSpec = Static<typeof FunctionSpec>;

export const FunctionSchema = kindObject(FunctionSpec);
/** The `Function` kind (named so it does not shadow the global `Function`). */
export type AddonFunction = Static<typeof FunctionSchema>;
