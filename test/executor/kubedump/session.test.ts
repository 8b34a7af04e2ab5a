/**
 * A target-less kubedump BackupConfiguration through the whole product on the embedded plane: webhook,
 * configuration controller, trigger, session controller, one `manifest` Job running `autostash exec backup`
 * with the embedded kubeconfig, and restic; the Snapshot's component restores with the restic CLI to the layout.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BACKUP_SESSION_LABEL, JOB_COMPONENT_LABEL, TARGET_COMPONENT_LABEL } from '../../../src/domain/execution/labels.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { builtCliMissing } from '../../helpers/control-plane.js';
import { commonObjects, resticMissing, startHarness, triggerAndWait, waitPhase } from '../../helpers/story-harness.js';
import { createShop, listFiles, SECRET_VALUE, SHOP } from './fixtures.js';

const NS = 'ops';

t.test('a kubedump BackupConfiguration without a target ends in a Succeeded manifest Snapshot', { skip: builtCliMissing }, async (t) => {
  const missing = await resticMissing;
  if (missing) {
    t.comment(missing);
    return;
  }
  const h = await startHarness(t);
  await h.apply(commonObjects(NS, h.backendDir));
  await createShop(h.client);
  const configuration: KubeObject = {
    apiVersion: 'core.kubestash.com/v1alpha1',
    kind: 'BackupConfiguration',
    metadata: { name: 'cluster-resources-backup', namespace: NS },
    spec: {
      backends: [{ name: 'local-backend', storageRef: { name: 'local-storage', namespace: NS }, retentionPolicy: { name: 'keep-three', namespace: NS } }],
      sessions: [
        {
          name: 'frequent-backup',
          scheduler: { schedule: '0 3 * * *', jobTemplate: { backoffLimit: 0 } },
          repositories: [{ name: 'manifest-repo', backend: 'local-backend', directory: '/kubedump-manifests', encryptionSecret: { name: 'encrypt-secret', namespace: NS } }],
          addon: { name: 'kubedump-addon', tasks: [{ name: 'manifest-backup', params: { IncludeClusterResources: 'true', IncludeNamespaces: SHOP, ExcludeResources: 'pods,replicasets' } }] },
        },
      ],
    },
  };
  await h.apply([configuration]);
  await waitPhase(h, 'storage.kubestash.com/v1alpha1', 'Repository', NS, 'manifest-repo', ['Ready']);

  const { session, snapshots } = await triggerAndWait(t, h, NS, 'cluster-resources-backup');
  // No target: nothing to find, so no targetFound, and the configuration is Ready on its backends alone.
  const ready = await waitPhase(h, 'core.kubestash.com/v1alpha1', 'BackupConfiguration', NS, 'cluster-resources-backup', ['Ready']);
  t.notOk('targetFound' in (ready.status ?? {}), 'no targetFound without a target');
  t.equal(session.status?.phase, 'Succeeded', JSON.stringify(session.status));
  t.equal(snapshots.length, 1);
  const components = (snapshots[0]?.status as { components?: Record<string, { phase?: string; resticStats?: Array<{ summary?: { id?: string; hostPath?: string } }> }> }).components ?? {};
  t.same(Object.keys(components), ['manifest'], 'one component: manifest');
  t.equal(components.manifest?.phase, 'Succeeded');
  t.equal(components.manifest?.resticStats?.[0]?.summary?.hostPath, '/kubestash-tmp/manifest');
  const jobs = await h.client.list({ apiVersion: 'batch/v1', kind: 'Job' }, { namespace: NS });
  const backupJobs = jobs.items.filter((job) => job.metadata?.labels?.[BACKUP_SESSION_LABEL] === session.metadata?.name && job.metadata?.labels?.[JOB_COMPONENT_LABEL] === 'backup');
  t.same(backupJobs.map((job) => job.metadata?.labels?.[TARGET_COMPONENT_LABEL]), ['manifest'], 'one backup Job, for component manifest');
  t.notMatch(JSON.stringify(snapshots[0]), SECRET_VALUE, 'no secret in the Snapshot');

  const target = await mkdtemp(join(h.backendDir, '..', 'restored-'));
  await promisify(execFile)('restic', ['restore', components.manifest?.resticStats?.[0]?.summary?.id ?? '', '--target', target], {
    env: { ...process.env, RESTIC_REPOSITORY: join(h.backendDir, 'kubedump-manifests/repository/v1/frequent-backup/manifest'), RESTIC_PASSWORD: 'correct horse battery staple' },
  });
  const files = await listFiles(target);
  for (const file of [
    'configmaps/namespaces/shop/web-config.yaml',
    'deployments.apps/namespaces/shop/web.yaml',
    'secrets/namespaces/shop/web-secret.yaml',
    'widgets.example.com/namespaces/shop/w1.yaml',
    'namespaces/cluster/shop.yaml',
    'clusterroles.rbac.authorization.k8s.io/cluster/shop-reader.yaml',
    'customresourcedefinitions.apiextensions.k8s.io/cluster/widgets.example.com.yaml',
  ]) {
    t.ok(files.includes(file), `${file} in the snapshot`);
  }
  t.notOk(files.some((f) => f.startsWith('pods/') || f.startsWith('replicasets.apps/') || f.startsWith('nodes/')), 'excluded and always-excluded kinds are not');
  t.notOk(files.some((f) => f.includes('/namespaces/ops/')), 'other namespaces are not');

  t.test('exec dump --output through the built CLI with the kubeconfig', async (t) => {
    const output = join(h.backendDir, '..', 'cli-dump');
    const dumped = await h.cli(['exec', 'dump', '--output', output, '--include-namespaces', SHOP, '--include-resources=deployments,widgets.example.com', '--log-level', 'silent']);
    t.equal(dumped.code, 0, dumped.stderr);
    t.same(await listFiles(output), ['deployments.apps/namespaces/shop/web.yaml', 'widgets.example.com/namespaces/shop/w1.yaml']);
    const again = await h.cli(['exec', 'dump', '--output', output]);
    t.equal(again.code, 1);
    t.match(again.stderr, /autostash exec dump: --output .*cli-dump is not empty: choose an empty or new directory, or pass --force/);
    const badFlag = await h.cli(['exec', 'dump', '--output', join(output, 'x'), '--exclude-namespaces', 'Not_A_Namespace']);
    t.equal(badFlag.code, 1);
    t.match(badFlag.stderr, /invalid kubedump parameters: ExcludeNamespaces: "Not_A_Namespace" is not a namespace name/);
    const mixed = await h.cli(['exec', 'backup', '--namespace', NS, '--backupsession', 'x', '--component', 'manifest', '--paths', '/data', '--include-namespaces=']);
    t.equal(mixed.code, 1);
    t.match(mixed.stderr, /--paths cannot be combined with kubedump flags/);
  });
});
