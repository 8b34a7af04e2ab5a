import type { ClusterView } from '../../src/domain/cluster-view.js';
import type { Verdict } from '../../src/domain/errors.js';
import { groupKindKey, type KubeObject } from '../../src/domain/kube-object.js';
import type { KindRules, Operation } from '../../src/domain/kind-rules.js';
import { createMemoryView } from '../../src/domain/memory-view.js';
import { kindRules } from '../../src/domain/rules/index.js';

const GROUPS: Record<string, string> = {
  BackupStorage: 'storage.kubestash.com',
  Repository: 'storage.kubestash.com',
  RetentionPolicy: 'storage.kubestash.com',
  Snapshot: 'storage.kubestash.com',
  Addon: 'addons.kubestash.com',
  Function: 'addons.kubestash.com',
};

export function rulesFor(kind: string): KindRules {
  const rules = kindRules.get(groupKindKey({ group: GROUPS[kind] ?? 'core.kubestash.com', kind }));
  if (!rules) throw new Error(`no rules for ${kind}`);
  return rules;
}

export function make(kind: string, namespace: string, name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: `${GROUPS[kind] ?? 'core.kubestash.com'}/v1alpha1`, kind, metadata: { name, namespace }, spec, ...extra };
}

export const namespaceObject = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

/** Defaults then validates, like the webhook does. */
export function check(object: KubeObject, options: { cluster?: KubeObject[]; operation?: Operation; oldObject?: KubeObject; skipDefaults?: boolean } = {}): Verdict {
  const view: ClusterView = createMemoryView(options.cluster ?? []);
  const rules = rulesFor(object.kind ?? '');
  const defaulted = options.skipDefaults ? object : rules.applyDefaults(object, view);
  return rules.validate({ operation: options.operation ?? (options.oldObject ? 'UPDATE' : 'CREATE'), object: defaulted, oldObject: options.oldObject, view });
}

/** A BackupConfiguration that passes every rule against `validCluster`. */
export function validBackupConfiguration(): KubeObject {
  return make('BackupConfiguration', 'demo', 'sample-backup', {
    target: { apiGroup: 'apps', kind: 'StatefulSet', name: 'sample-sts', namespace: 'demo' },
    backends: [{ name: 'gcs-backend', storageRef: { name: 'gcs-storage', namespace: 'demo' }, retentionPolicy: { name: 'keep-1mo', namespace: 'demo' } }],
    sessions: [
      {
        name: 'frequent-backup',
        scheduler: { schedule: '*/5 * * * *', jobTemplate: { backoffLimit: 1 } },
        repositories: [{ name: 'gcs-repo', backend: 'gcs-backend', directory: '/demo/sts', encryptionSecret: { name: 'enc', namespace: 'demo' } }],
        addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup', params: { paths: '/data' } }] },
      },
    ],
  });
}

export function validCluster(): KubeObject[] {
  return [
    namespaceObject('demo', { env: 'prod' }),
    make('BackupStorage', 'demo', 'gcs-storage', { storage: { provider: 'gcs', gcs: { bucket: 'b', prefix: 'p' } }, usagePolicy: { allowedNamespaces: { from: 'Same' } } }),
    make('RetentionPolicy', 'demo', 'keep-1mo', { maxRetentionPeriod: '30d', usagePolicy: { allowedNamespaces: { from: 'Same' } } }),
  ];
}
