/**
 * Steps 2-4 of a restore: backups of the target paused (a user's own pause left alone) and resumed,
 * a running backup waited for, one Job per component with the right args and read-write mounts (into
 * another PVC; into a StatefulSet in another namespace), phase from the components, Events, metrics.
 */
import t from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { eventually } from '../../helpers/control-plane.js';
import { BS_TYPE, conditionOf, configuration, createSnapshot, IMAGE, NS, restoreSession, snapshot, startHarness } from './harness.js';

interface JobShape {
  metadata: { name: string; namespace: string; labels: Record<string, string>; ownerReferences?: Array<{ kind: string; name: string; uid: string; controller: boolean }> };
  spec: {
    template: {
      spec: {
        containers: Array<{ image: string; command: string[]; args: string[]; volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> }>;
        volumes: Array<{ name: string; persistentVolumeClaim?: { claimName: string }; hostPath?: { path: string } }>;
      };
    };
  };
}
const shape = (job: KubeObject | undefined): JobShape => job as unknown as JobShape;

t.test('restore into another PVC: backups of the target paused first, one Job, resumed at the end', async (t) => {
  const h = await startHarness(t);
  const restored = { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'restored-data', namespace: NS };
  await h.client.create(configuration('restored-backup', restored));
  await h.client.create(configuration('user-paused', restored, { paused: true }));
  await h.client.create(configuration('web-backup', { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'web-data', namespace: NS }));
  await createSnapshot(h, snapshot('web-repo-1'));
  // A backup of the target is running: the restore waits for it after pausing the configuration.
  await h.client.create({ ...BS_TYPE, metadata: { name: 'restored-backup-1', namespace: NS }, spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'restored-backup' }, session: 'nightly' } });
  await h.setStatus(BS_TYPE, 'restored-backup-1', { phase: 'Running' });
  await h.start();
  await h.client.create(restoreSession('into-pvc', { snapshot: 'web-repo-1' }));

  const waiting = await eventually('the pause to be recorded', async () => {
    const rs = await h.restore('into-pvc');
    return rs?.status?.pausedBackups?.length ? rs : undefined;
  });
  t.same(waiting.status?.pausedBackups, [{ apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'restored-backup', namespace: NS }], 'only the configuration the restore paused is listed');
  t.equal(waiting.status?.phase, 'Pending');
  const paused = await h.configuration('restored-backup');
  t.equal(paused.spec?.paused, true, 'the target\'s configuration is paused');
  t.equal(paused.metadata?.annotations?.['autostash.dev/paused-by-restore'], `${NS}/into-pvc`);
  t.notOk((await h.configuration('user-paused')).metadata?.annotations?.['autostash.dev/paused-by-restore'], 'a user\'s pause is not taken over');
  t.notOk((await h.configuration('web-backup')).spec?.paused, 'another target\'s configuration is left alone');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(await h.jobsOf('into-pvc'), [], 'no Job while a backup of the target runs');

  await h.setStatus(BS_TYPE, 'restored-backup-1', { phase: 'Succeeded' });
  const [job] = await eventually('the restore Job', async () => {
    const jobs = await h.jobsOf('into-pvc');
    return jobs.length > 0 ? jobs : undefined;
  });
  const rs = await h.phase('into-pvc', 'Running');
  const { metadata, spec } = shape(job);
  t.equal(metadata.name, 'restore-into-pvc-dump');
  t.equal(metadata.namespace, NS);
  t.match(metadata.labels, { 'autostash.dev/restore-session': 'into-pvc', 'autostash.dev/component': 'dump', 'autostash.dev/job-component': 'restore', 'kubestash.com/invoker-namespace': NS, 'app.kubernetes.io/managed-by': 'autostash' });
  t.match(metadata.ownerReferences, [{ kind: 'RestoreSession', name: 'into-pvc', uid: rs.metadata?.uid, controller: true }], 'owned by the RestoreSession');
  const container = spec.template.spec.containers[0];
  t.equal(container?.image, IMAGE);
  t.match(container?.args, ['exec', 'restore', `--namespace=${NS}`, '--restoresession=into-pvc', '--component=dump', '--snapshot=web-repo-1']);
  const data = container?.volumeMounts.find((m) => m.mountPath === '/kubestash-data');
  t.ok(data, 'the target claim is mounted at /kubestash-data');
  t.notOk(data?.readOnly, 'read-write');
  t.match(spec.template.spec.volumes.find((v) => v.name === data?.name), { persistentVolumeClaim: { claimName: 'restored-data' } }, 'the new PVC, not the backed-up one');
  t.ok(container?.volumeMounts.some((m) => m.mountPath === '/safe'), 'the local backend is mounted');
  t.match(conditionOf(rs, 'RestoreExecutorEnsured'), { status: 'True', message: /restore-into-pvc-dump/ });

  await h.reportComponent('into-pvc', 'dump', { phase: 'Running' });
  await h.reportComponent('into-pvc', 'dump', { phase: 'Succeeded', duration: '1.5s' });
  const done = await h.phase('into-pvc', 'Succeeded');
  t.match(done.status, { totalComponents: 1, components: { dump: { phase: 'Succeeded', duration: '1.5s' } } });
  t.match(done.status?.duration, /^\d/);
  t.match(conditionOf(done, 'MetricsPushed'), { status: 'True' });
  const resumed = await h.configuration('restored-backup');
  t.notOk(resumed.spec?.paused, 'resumed by the time the restore reads Succeeded');
  t.notOk(resumed.metadata?.annotations?.['autostash.dev/paused-by-restore'], 'and unmarked');
  t.equal((await h.configuration('user-paused')).spec?.paused, true, 'the user\'s pause stays');
  await eventually('the finalizer to go', async () => !(await h.restore('into-pvc'))?.metadata?.finalizers?.includes('kubestash.com/cleanup'));
  const events = await eventually('the RestoreSucceeded event', async () => {
    const list = await h.events('into-pvc');
    return list.some((e) => e.reason === 'RestoreSucceeded') ? list : undefined;
  });
  t.match(events.find((e) => e.reason === 'RestoreSucceeded'), { type: 'Normal', message: /restored 1 component/ });
  t.match(await h.registry.getSingleMetricAsString('autostash_restore_sessions_total'), /phase="Succeeded"\} 1/);
  t.match(await h.registry.getSingleMetricAsString('autostash_restore_session_duration_seconds'), /autostash_restore_session_duration_seconds_count\{namespace="demo",phase="Succeeded"\} 1/);
});

t.test('restore a StatefulSet into another namespace: one Job per replica there, each into its own claim', async (t) => {
  const h = await startHarness(t);
  await h.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'restored' } });
  await h.client.create({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'restored' },
    spec: {
      replicas: 2,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres', volumeMounts: [{ name: 'data', mountPath: '/var/lib/data' }] }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  });
  const target = { apiGroup: 'apps', kind: 'StatefulSet', name: 'db', namespace: 'restored' };
  await h.client.create(configuration('db-backup', target, { namespace: 'restored' }));
  await createSnapshot(h, snapshot('web-repo-sts', { components: ['dump-pod-0', 'dump-pod-1'], appRef: { apiGroup: 'apps', kind: 'StatefulSet', name: 'db', namespace: NS } }));
  await h.start();
  await h.client.create(restoreSession('sts', { snapshot: 'web-repo-sts', target, addon: 'workload-addon' }));

  const jobs = await eventually('two restore Jobs in the target namespace', async () => {
    const list = await h.jobsOf('sts', 'restored');
    return list.length === 2 ? list : undefined;
  });
  t.same(await h.jobsOf('sts', NS), [], 'none in the RestoreSession\'s namespace');
  for (const ordinal of [0, 1]) {
    const job = shape(jobs.find((j) => j.metadata?.labels?.['autostash.dev/component'] === `dump-pod-${ordinal}`));
    t.equal(job.metadata.namespace, 'restored');
    t.equal(job.metadata.ownerReferences, undefined, 'no ownerReference across namespaces');
    t.equal(job.metadata.labels['kubestash.com/invoker-namespace'], NS, 'the RestoreSession\'s namespace is on the label');
    const container = job.spec.template.spec.containers[0];
    t.match(container?.args, ['exec', 'restore', `--namespace=${NS}`, '--restoresession=sts', `--component=dump-pod-${ordinal}`, '--snapshot=web-repo-sts']);
    const mount = container?.volumeMounts.find((m) => m.mountPath === '/var/lib/data');
    t.notOk(mount?.readOnly, `replica ${ordinal}: read-write`);
    t.match(job.spec.template.spec.volumes.find((v) => v.name === mount?.name), { persistentVolumeClaim: { claimName: `data-db-${ordinal}` } }, `replica ${ordinal} restores into its own claim`);
  }
  const rs = await h.phase('sts', 'Running');
  t.match(conditionOf(rs, 'ValidationPassed')?.message, /into StatefulSet restored\/db/);
  t.same(rs.status?.pausedBackups, [{ apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'db-backup', namespace: 'restored' }]);
  t.equal((await h.configuration('db-backup', 'restored')).spec?.paused, true);

  await h.reportComponent('sts', 'dump-pod-1', { phase: 'Failed', error: 'restic: no space left on device' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal((await h.restore('sts'))?.status?.phase, 'Running', 'one component failed, the other still runs: not finished');
  await h.reportComponent('sts', 'dump-pod-0', { phase: 'Succeeded' });
  const failed = await h.phase('sts', 'Failed');
  t.match(failed.status?.components, { 'dump-pod-0': { phase: 'Succeeded' }, 'dump-pod-1': { phase: 'Failed', error: 'restic: no space left on device' } });
  t.notOk((await h.configuration('db-backup', 'restored')).spec?.paused, 'resumed after a failed restore too');
  const events = await eventually('the RestoreFailed event', async () => {
    const list = await h.events('sts');
    return list.some((e) => e.reason === 'RestoreFailed') ? list : undefined;
  });
  t.match(events.find((e) => e.reason === 'RestoreFailed'), { type: 'Warning', message: /component dump-pod-1: restic: no space left on device/ });
  // The finished restore's Jobs in the other namespace are left to their TTL like any finished Job.
  t.equal((await h.jobsOf('sts', 'restored')).length, 2);
});
