// Small object builders shared by the policy tests.
import type { KubeObject } from '../../src/domain/kube-object.js';

export const namespace = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

export const policy = (name: string, rules: Record<string, unknown>): KubeObject => ({
  apiVersion: 'policy.autostash.dev/v1alpha1',
  kind: 'BackupPolicy',
  metadata: { name },
  spec: { rules },
});

export const deployment = (ns: string, name: string, options: { pvc?: string; annotations?: Record<string, string>; labels?: Record<string, string> } = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns, ...(options.annotations ? { annotations: options.annotations } : {}), ...(options.labels ? { labels: options.labels } : {}) },
  spec: {
    template: {
      spec: {
        containers: [{ name: 'app', image: 'nginx' }],
        volumes: options.pvc ? [{ name: 'data', persistentVolumeClaim: { claimName: options.pvc } }] : [{ name: 'tmp', emptyDir: {} }],
      },
    },
  },
});

export const autoBackup = { 'blueprint.kubestash.com/name': 'daily', 'blueprint.kubestash.com/namespace': 'backup' };

export const storage = (ns: string, name: string, provider: string, options: { labels?: Record<string, string>; from?: string } = {}): KubeObject => ({
  apiVersion: 'storage.kubestash.com/v1alpha1',
  kind: 'BackupStorage',
  metadata: { name, namespace: ns, ...(options.labels ? { labels: options.labels } : {}) },
  spec: { storage: { provider }, usagePolicy: { allowedNamespaces: { from: options.from ?? 'Same' } } },
});

export const configuration = (ns: string, name: string, options: { storage?: { name: string; namespace: string }; schedule?: string; target?: Record<string, unknown> } = {}): KubeObject => ({
  apiVersion: 'core.kubestash.com/v1alpha1',
  kind: 'BackupConfiguration',
  metadata: { name, namespace: ns },
  spec: {
    target: options.target ?? { apiGroup: 'apps', kind: 'Deployment', name: 'web', namespace: ns },
    backends: [{ name: 'main', storageRef: options.storage ?? { name: 'store', namespace: 'backup' }, retentionPolicy: { name: 'keep', namespace: 'backup' } }],
    sessions: [{ name: 'frequent', scheduler: { schedule: options.schedule ?? '0 * * * *', jobTemplate: {} }, repositories: [] }],
  },
});

export const blueprint = (ns: string, name: string, options: { storage?: { name: string; namespace: string }; schedule?: string } = {}): KubeObject => ({
  apiVersion: 'core.kubestash.com/v1alpha1',
  kind: 'BackupBlueprint',
  metadata: { name, namespace: ns },
  spec: {
    backupConfigurationTemplate: {
      backends: [{ name: 'main', storageRef: options.storage ?? { name: 'store', namespace: 'backup' } }],
      sessions: [{ name: 'frequent', scheduler: { schedule: options.schedule ?? '0 * * * *', jobTemplate: {} } }],
    },
  },
});

export const retentionPolicy = (ns: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'storage.kubestash.com/v1alpha1',
  kind: 'RetentionPolicy',
  metadata: { name, namespace: ns },
  spec,
});

export const restoreSession = (ns: string, name: string, targetNamespace?: string): KubeObject => ({
  apiVersion: 'core.kubestash.com/v1alpha1',
  kind: 'RestoreSession',
  metadata: { name, namespace: ns },
  spec: {
    dataSource: { repository: 'repo', snapshot: 'latest' },
    ...(targetNamespace ? { target: { apiGroup: 'apps', kind: 'Deployment', name: 'web', namespace: targetNamespace } } : {}),
  },
});
