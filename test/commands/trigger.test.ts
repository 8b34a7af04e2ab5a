import t from 'tap';
import type { BackupSession } from '../../src/api/core.js';
import { buildCli } from '../../src/commands/program.js';
import { runTrigger, triggerBackup, TriggerError } from '../../src/commands/trigger.js';
import { generateBackupSessionName } from '../../src/domain/naming.js';
import { createKubeClient } from '../../src/kube/client.js';
import { startTestControlPlane } from '../helpers/control-plane.js';
import { captureStream } from '../helpers/streams.js';

const BC = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' };
const BS = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession' };
const NOW = new Date('2025-01-01T10:15:00Z');

const session = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  scheduler: { schedule: '0 * * * *', jobTemplate: {} },
  repositories: [{ name: `repo-${name}`, backend: 'gcs', directory: `/demo/${name}`, encryptionSecret: { name: 'e', namespace: 'demo' } }],
  addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup' }] },
  ...extra,
});

const configuration = (name: string, spec: Record<string, unknown>) => ({
  ...BC,
  metadata: { name, namespace: 'demo' },
  spec: { backends: [{ name: 'gcs', storageRef: { name: 'gcs', namespace: 'demo' } }], ...spec },
});

t.test('triggerBackup and the command against the embedded control plane', async (t) => {
  const { plane, kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  await client.create(configuration('web', { sessions: [session('hourly', { backupTimeout: '45m', retryConfig: { maxRetry: 2 } }), session('daily')] }));
  await client.create(configuration('stopped', { paused: true, sessions: [session('hourly')] }));
  await client.create(configuration('empty', { sessions: [] }));
  const uid = (await client.get({ ...BC, namespace: 'demo', name: 'web' })).metadata?.uid;

  t.test('one BackupSession per session, as kubectl kubestash trigger makes them', async (t) => {
    const names = await triggerBackup({ client, namespace: 'demo', configuration: 'web', now: NOW });
    const seconds = NOW.getTime() / 1000;
    t.same(names, [generateBackupSessionName('web', 'hourly', seconds), generateBackupSessionName('web', 'daily', seconds)]);
    const hourly = await client.get<BackupSession>({ ...BS, namespace: 'demo', name: names[0] as string });
    t.same(hourly.spec, { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'web' }, session: 'hourly', retryLeft: 0, backupTimeout: '45m' }, 'retryLeft 0, backupTimeout copied');
    t.same(hourly.metadata?.annotations, { 'autostash.dev/triggered-by': 'trigger' });
    t.match(hourly.metadata?.ownerReferences, [{ kind: 'BackupConfiguration', name: 'web', uid, controller: true }]);
    t.equal(hourly.metadata?.labels?.['kubestash.com/session-name'], 'hourly');
    await t.rejects(triggerBackup({ client, namespace: 'demo', configuration: 'web', session: 'daily', now: NOW }), { name: 'TriggerError', message: /BackupSession demo\/web-daily-1735726500 already exists \(triggered within the same second\)/ });
  });

  t.test('only the named session', async (t) => {
    const later = new Date(NOW.getTime() + 1000);
    t.same(await triggerBackup({ client, namespace: 'demo', configuration: 'web', session: 'daily', now: later }), [generateBackupSessionName('web', 'daily', later.getTime() / 1000)]);
  });

  t.test('refusals say why', async (t) => {
    const rows: Array<{ configuration: string; session?: string; message: RegExp }> = [
      { configuration: 'missing', message: /^BackupConfiguration demo\/missing not found$/ },
      { configuration: 'stopped', message: /^BackupConfiguration demo\/stopped is paused \(spec.paused: true\); resume it before triggering a backup$/ },
      { configuration: 'web', session: 'weekly', message: /^BackupConfiguration demo\/web has no session "weekly"; its sessions: hourly, daily$/ },
      { configuration: 'empty', message: /has no sessions/ },
    ];
    for (const row of rows) {
      const attempt = triggerBackup({ client, namespace: 'demo', configuration: row.configuration, ...(row.session ? { session: row.session } : {}), now: NOW });
      await t.rejects(attempt, TriggerError);
      await t.rejects(attempt, { message: row.message }, row.configuration);
    }
  });

  t.test('runTrigger prints the names, or one line with the reason', async (t) => {
    const out = captureStream();
    const err = captureStream();
    const at = new Date(NOW.getTime() + 5000);
    t.equal(await runTrigger('web', { namespace: 'demo', session: 'hourly', kubeconfig: plane.kubeconfigPath }, { stdout: out, stderr: err }, {}, () => at), 0);
    t.equal(out.text(), `backupsession/${generateBackupSessionName('web', 'hourly', at.getTime() / 1000)} created\n`);
    t.equal(err.text(), '');

    const refused = captureStream();
    t.equal(await runTrigger('stopped', { namespace: 'demo', kubeconfig: plane.kubeconfigPath }, { stdout: captureStream(), stderr: refused }, {}), 1);
    t.match(refused.text(), /^autostash trigger: BackupConfiguration demo\/stopped is paused/);

    const defaultNamespace = captureStream();
    t.equal(await runTrigger('web', { kubeconfig: plane.kubeconfigPath }, { stdout: captureStream(), stderr: defaultNamespace }, {}), 1);
    t.match(defaultNamespace.text(), /BackupConfiguration default\/web not found/, "the kubeconfig context's namespace, else default");

    const noCluster = captureStream();
    t.equal(await runTrigger('web', {}, { stdout: captureStream(), stderr: noCluster }, { HOME: '/nonexistent-home' }), 1);
    t.match(noCluster.text(), /no cluster configured: pass --kubeconfig/);
  });

  t.test('the command definition', async (t) => {
    const command = buildCli().commands.find((candidate) => candidate.name() === 'trigger');
    if (command === undefined) throw new Error('no trigger command');
    t.equal(command.name(), 'trigger');
    t.same(command.options.map((option) => option.long), ['--namespace', '--session', '--kubeconfig']);
    t.equal(command.options[0]?.short, '-n');
    t.same(command.registeredArguments.map((argument) => [argument.name(), argument.required]), [['configuration', true]]);
  });
});
