import t from 'tap';
import type { Session } from '../../../src/api/core.js';
import { buildBackupJobs } from '../../../src/domain/execution/backup-jobs.js';
import { buildRestoreJobs } from '../../../src/domain/execution/restore-jobs.js';
import { buildRetentionJob } from '../../../src/domain/execution/retention-job.js';
import { targetComponents } from '../../../src/domain/execution/target-components.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { createKubeClient } from '../../../src/kube/client.js';
import { startTestControlPlane } from '../../helpers/control-plane.js';
import { backupSession, bsOwner, configuration, localStorage, resolved, restoreSession, rsOwner } from '../../helpers/execution-fixtures.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

t.test('built backup, restore and retention Jobs are accepted by the API server as built', async (t) => {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });

  const sts = targetComponents({
    target: { kind: 'StatefulSet', metadata: { namespace: 'demo', name: 'db' }, spec: { replicas: 2, volumeClaimTemplates: [{ metadata: { name: 'data' } }], template: { spec: { containers: [{ volumeMounts: [{ name: 'data', mountPath: '/source/data' }] }] } } } },
  });
  const bc = configuration({ backupTimeout: '30m', scheduler: { schedule: '@daily', jobTemplate: { backoffLimit: 2, ttlSecondsAfterFinished: 3600, template: { spec: { nodeSelector: { disk: 'ssd' }, tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }], securityContext: { runAsUser: 1000, fsGroup: 1000 } } } } } });
  const backups = buildBackupJobs({ backupSession: backupSession(), configuration: bc, session: bc.spec!.sessions![1] as Session, resolved: resolved('workload-addon', 'logical-backup', 'backup'), components: sts.components, storages: [localStorage('local')], image: 'img', serviceAccountName: 'autostash-job', owner: bsOwner });
  const pvc = targetComponents({ mode: 'restore', target: { kind: 'PersistentVolumeClaim', metadata: { namespace: 'demo', name: 'restored' } } });
  const restores = buildRestoreJobs({ restoreSession: restoreSession({ restoreTimeout: '10m' }), resolved: resolved('pvc-addon', 'logical-backup-restore', 'restore'), components: pvc.components, storages: [localStorage('local')], snapshotName: 's', snapshotComponents: ['dump'], image: 'img', owner: rsOwner });
  const retention = buildRetentionJob({ backupSession: backupSession(), storages: [localStorage('local')], image: 'img', owner: bsOwner });
  t.same([...backups.errors, ...restores.errors, ...retention.errors], []);

  const jobs: KubeObject[] = [...backups.jobs, ...restores.jobs, retention.job];
  t.equal(jobs.length, 4);
  for (const built of jobs) {
    // suspend: nothing runs; the owner does not exist, so no garbage collection either until the test ends.
    const job = { ...built, spec: { ...(built.spec as Any), suspend: true } };
    const stored = (await client.create(job)) as Any;
    t.equal(stored.metadata.name, built.metadata?.name);
    t.match(stored.spec, { ...(built.spec as Any), template: { spec: (built.spec as Any).template.spec } }, `${built.metadata?.name}: stored as built`);
    t.same(stored.metadata.labels, built.metadata?.labels);
  }
});
