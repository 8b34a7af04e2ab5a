/**
 * The registry of KubeStash kinds: names, scope, printer columns and root schema of each, as the
 * shared KubeStash CRDs declare them (SPEC §1).
 */
import type { TSchema } from '@sinclair/typebox';
import { groupKindKey, parseApiVersion, type GroupKind } from '../domain/kube-object.js';
import { AddonSchema, FunctionSchema } from './addons.js';
import {
  BackupBatchSchema,
  BackupBlueprintSchema,
  BackupConfigurationSchema,
  BackupSessionSchema,
  BackupVerificationSessionSchema,
  BackupVerifierSchema,
  HookTemplateSchema,
  RestoreSessionSchema,
} from './core.js';
import { BackupStorageSchema, RepositorySchema, RetentionPolicySchema, SnapshotSchema } from './storage.js';

export const STORAGE_GROUP = 'storage.kubestash.com';
export const CORE_GROUP = 'core.kubestash.com';
export const ADDONS_GROUP = 'addons.kubestash.com';
export const KUBESTASH_VERSION = 'v1alpha1';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  format?: string;
}

export interface KindInfo {
  group: string;
  version: typeof KUBESTASH_VERSION;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  categories: string[];
  statusSubresource: boolean;
  printerColumns: PrinterColumn[];
  /** Root schema (apiVersion, kind, metadata, spec, status); may contain core-type markers. */
  schema: TSchema;
}

const col = (name: string, type: PrinterColumn['type'], jsonPath: string, format?: string): PrinterColumn =>
  format === undefined ? { name, type, jsonPath } : { name, type, jsonPath, format };
const age = col('Age', 'date', '.metadata.creationTimestamp');
const phase = col('Phase', 'string', '.status.phase');
const duration = col('Duration', 'string', '.status.duration');
const withAll = ['kubestash', 'appscode', 'all'];
const withoutAll = ['kubestash', 'appscode'];

interface KindEntry {
  group: string;
  kind: string;
  plural: string;
  shortNames?: string[];
  scope?: KindInfo['scope'];
  categories?: string[];
  statusSubresource: boolean;
  printerColumns: PrinterColumn[];
  schema: TSchema;
}

function kindInfo(entry: KindEntry): KindInfo {
  return {
    group: entry.group,
    version: KUBESTASH_VERSION,
    kind: entry.kind,
    listKind: `${entry.kind}List`,
    plural: entry.plural,
    singular: entry.kind.toLowerCase(),
    shortNames: entry.shortNames ?? [],
    scope: entry.scope ?? 'Namespaced',
    categories: entry.categories ?? withAll,
    statusSubresource: entry.statusSubresource,
    printerColumns: entry.printerColumns,
    schema: entry.schema,
  };
}

/** Every KubeStash kind, in a stable order (storage, core, addons). */
export const kinds: readonly KindInfo[] = [
  kindInfo({
    group: STORAGE_GROUP,
    kind: 'BackupStorage',
    plural: 'backupstorages',
    statusSubresource: true,
    printerColumns: [
      col('Provider', 'string', '.spec.storage.provider'),
      col('Default', 'boolean', '.spec.default'),
      col('Deletion-Policy', 'string', '.spec.deletionPolicy'),
      col('Total-Size', 'string', '.status.totalSize'),
      phase,
      age,
    ],
    schema: BackupStorageSchema,
  }),
  kindInfo({
    group: STORAGE_GROUP,
    kind: 'Repository',
    plural: 'repositories',
    shortNames: ['repo'],
    statusSubresource: true,
    printerColumns: [
      col('Integrity', 'boolean', '.status.integrity'),
      col('Snapshot-Count', 'integer', '.status.snapshotCount'),
      col('Size', 'string', '.status.size'),
      phase,
      col('Last-Successful-Backup', 'date', '.status.lastBackupTime', 'date-time'),
      age,
    ],
    schema: RepositorySchema,
  }),
  kindInfo({
    group: STORAGE_GROUP,
    kind: 'Snapshot',
    plural: 'snapshots',
    categories: withoutAll,
    statusSubresource: true,
    printerColumns: [
      col('Repository', 'string', '.spec.repository'),
      col('Session', 'string', '.spec.session'),
      col('Snapshot-Time', 'string', '.status.snapshotTime'),
      col('Deletion-Policy', 'string', '.spec.deletionPolicy'),
      phase,
      age,
    ],
    schema: SnapshotSchema,
  }),
  kindInfo({
    group: STORAGE_GROUP,
    kind: 'RetentionPolicy',
    plural: 'retentionpolicies',
    categories: withoutAll,
    statusSubresource: false,
    printerColumns: [
      col('Max-Retention-Period', 'string', '.spec.maxRetentionPeriod'),
      col('Default', 'boolean', '.spec.default'),
      age,
    ],
    schema: RetentionPolicySchema,
  }),
  kindInfo({
    group: CORE_GROUP,
    kind: 'BackupConfiguration',
    plural: 'backupconfigurations',
    shortNames: ['bc'],
    statusSubresource: true,
    printerColumns: [phase, col('Paused', 'boolean', '.spec.paused'), age],
    schema: BackupConfigurationSchema,
  }),
  kindInfo({
    group: CORE_GROUP,
    kind: 'BackupBlueprint',
    plural: 'backupblueprints',
    statusSubresource: false,
    printerColumns: [age],
    schema: BackupBlueprintSchema,
  }),
  kindInfo({
    group: CORE_GROUP,
    kind: 'BackupSession',
    plural: 'backupsessions',
    statusSubresource: true,
    printerColumns: [
      col('Invoker-Type', 'string', '.spec.invoker.kind'),
      col('Invoker-Name', 'string', '.spec.invoker.name'),
      phase,
      duration,
      age,
    ],
    schema: BackupSessionSchema,
  }),
  kindInfo({
    group: CORE_GROUP,
    kind: 'RestoreSession',
    plural: 'restoresessions',
    shortNames: ['restore'],
    statusSubresource: true,
    printerColumns: [col('Repository', 'string', '.spec.dataSource.repository'), phase, duration, age],
    schema: RestoreSessionSchema,
  }),
  kindInfo({
    group: CORE_GROUP,
    kind: 'HookTemplate',
    plural: 'hooktemplates',
    statusSubresource: false,
    printerColumns: [col('Executor', 'string', '.spec.executor.type'), col('Timeout', 'string', '.spec.timeout'), age],
    schema: HookTemplateSchema,
  }),
  kindInfo({
    group: CORE_GROUP,
    kind: 'BackupBatch',
    plural: 'backupbatches',
    statusSubresource: true,
    printerColumns: [age],
    schema: BackupBatchSchema,
  }),
  kindInfo({
    group: CORE_GROUP,
    kind: 'BackupVerifier',
    // KubeStash's CRD uses the singular as plural for the two verification kinds.
    plural: 'backupverifier',
    statusSubresource: false,
    printerColumns: [age],
    schema: BackupVerifierSchema,
  }),
  kindInfo({
    group: CORE_GROUP,
    kind: 'BackupVerificationSession',
    plural: 'backupverificationsession',
    statusSubresource: true,
    printerColumns: [phase, duration, age],
    schema: BackupVerificationSessionSchema,
  }),
  kindInfo({
    group: ADDONS_GROUP,
    kind: 'Addon',
    plural: 'addons',
    scope: 'Cluster',
    statusSubresource: false,
    printerColumns: [age],
    schema: AddonSchema,
  }),
  kindInfo({
    group: ADDONS_GROUP,
    kind: 'Function',
    plural: 'functions',
    shortNames: ['fn'],
    scope: 'Cluster',
    statusSubresource: false,
    printerColumns: [age],
    schema: FunctionSchema,
  }),
];

const byGroupKind = new Map(kinds.map((info) => [groupKindKey(info), info]));

/** The kind registered for `group` + `kind`, or undefined. */
export function kindByGroupKind(groupKind: GroupKind): KindInfo | undefined {
  return byGroupKind.get(groupKindKey(groupKind));
}

/** The kind registered for `apiVersion` (`group/v1alpha1`) + `kind`; undefined for other versions or kinds. */
export function kindByApiVersion(apiVersion: string, kind: string): KindInfo | undefined {
  const { group, version } = parseApiVersion(apiVersion);
  const info = byGroupKind.get(groupKindKey({ group, kind }));
  return info !== undefined && info.version === version ? info : undefined;
}

/** `group/version` of a kind, as written in `apiVersion`. */
export const apiVersionOf = (info: KindInfo): string => `${info.group}/${info.version}`;
