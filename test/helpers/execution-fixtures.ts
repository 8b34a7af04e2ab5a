/** Shared objects for the Job builder tests. */
import type { Addon, AddonFunction, BackupConfiguration, BackupSession, BackupStorage, RestoreSession } from '../../src/api/index.js';
import { autostashAddons } from '../../src/domain/execution/addons-catalog.js';
import type { ResolvedTaskParts } from '../../src/domain/execution/backup-jobs.js';
import { resolveTask } from '../../src/domain/execution/resolve-task.js';

const catalog = autostashAddons('ghcr.io/example/autostash:test');
export const addons = catalog.filter((o) => o.kind === 'Addon') as Addon[];
export const functions = catalog.filter((o) => o.kind === 'Function') as AddonFunction[];

export function resolved(addonName: string, taskName: string, kind: 'backup' | 'restore'): ResolvedTaskParts {
  const result = resolveTask({ addons, functions, addonName, taskName, kind });
  if (!result.ok) throw new Error(result.message);
  return result;
}

export const localStorage = (name: string, mountPath = '/backup', source: Record<string, unknown> = { hostPath: { path: `/srv/${name}`, type: 'DirectoryOrCreate' } }): BackupStorage => ({
  apiVersion: 'storage.kubestash.com/v1alpha1',
  kind: 'BackupStorage',
  metadata: { namespace: 'demo', name },
  spec: { storage: { provider: 'local', local: { mountPath, ...source } as never } },
});

export const configuration = (session: Record<string, unknown> = {}): BackupConfiguration => ({
  apiVersion: 'core.kubestash.com/v1alpha1',
  kind: 'BackupConfiguration',
  metadata: { namespace: 'demo', name: 'deployment-web' },
  spec: {
    target: { apiGroup: 'apps', kind: 'Deployment', namespace: 'demo', name: 'web' },
    sessions: [
      { name: 'other', scheduler: { schedule: '@daily', jobTemplate: {} } },
      {
        name: 'frequent-backup',
        scheduler: { schedule: '*/5 * * * *', jobTemplate: { backoffLimit: 1 } },
        repositories: [{ name: 'repo', backend: 'local', directory: 'demo/web' }],
        addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup', params: { paths: '/source/data', exclude: ['*.tmp', '*.log'] } }] },
        ...session,
      },
    ],
  } as never,
});

export const backupSession = (spec: Record<string, unknown> = {}, name = 'deployment-web-frequent-backup-1704431400'): BackupSession => ({
  apiVersion: 'core.kubestash.com/v1alpha1',
  kind: 'BackupSession',
  metadata: { namespace: 'demo', name, uid: 'bs-uid' },
  spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'deployment-web' }, session: 'frequent-backup', ...spec },
});

export const restoreSession = (spec: Record<string, unknown> = {}): RestoreSession => ({
  apiVersion: 'core.kubestash.com/v1alpha1',
  kind: 'RestoreSession',
  metadata: { namespace: 'demo', name: 'restore-web', uid: 'rs-uid' },
  spec: {
    target: { apiGroup: 'apps', kind: 'Deployment', namespace: 'demo', name: 'web' },
    dataSource: { repository: 'repo', snapshot: 'latest' },
    addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup-restore' }] },
    ...spec,
  } as never,
});

export const bsOwner = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession', name: 'deployment-web-frequent-backup-1704431400', uid: 'bs-uid' };
export const rsOwner = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'RestoreSession', name: 'restore-web', uid: 'rs-uid' };
