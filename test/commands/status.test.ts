import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildCli } from '../../src/commands/program.js';
import { renderTable, runStatus } from '../../src/commands/status.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { builtCliMissing, builtCliPath, startTestControlPlane } from '../helpers/control-plane.js';
import { captureStream } from '../helpers/streams.js';

const BC = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' };
const BS = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession' };
const REPO = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository' };
const iso = (time: number): string => new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Creates an object, then writes its status (the status subresource ignores status on create). */
async function createWithStatus(client: KubeClient, object: KubeObject & { status?: unknown }): Promise<void> {
  const { status, ...rest } = object;
  const created = await client.create(rest as KubeObject);
  if (status !== undefined) await client.updateStatus({ ...created, status });
}

function configuration(namespace: string, name: string, extra: { paused?: boolean; nextSchedule: string }): KubeObject & { status: unknown } {
  return {
    ...BC,
    metadata: { name, namespace },
    spec: {
      ...(extra.paused ? { paused: true } : {}),
      target: { apiGroup: 'apps', kind: 'Deployment', name: `${name}-app`, namespace },
      backends: [{ name: 'local', storageRef: { name: 'local', namespace } }],
      sessions: [{ name: 'hourly', scheduler: { schedule: '0 * * * *', jobTemplate: {} }, addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup' }] }, repositories: [{ name: `${name}-repo`, backend: 'local', directory: `/${name}` }] }],
    },
    status: { phase: 'Ready', targetFound: true, sessions: [{ name: 'hourly', nextSchedule: extra.nextSchedule }] },
  };
}

function backupSession(namespace: string, configurationName: string, name: string, scheduledAt: string, phase: string): KubeObject & { status: unknown } {
  return {
    ...BS,
    metadata: {
      name,
      namespace,
      labels: { 'kubestash.com/invoker-kind': 'BackupConfiguration', 'kubestash.com/invoker-name': configurationName, 'kubestash.com/session-name': 'hourly' },
      annotations: { 'autostash.dev/scheduled-at': scheduledAt },
    },
    spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: configurationName }, session: 'hourly' },
    status: { phase },
  };
}

/** A kubeconfig for `server`, with the context namespace `demo`. */
async function kubeconfigFor(dir: string, name: string, server: string, token = 'not-a-secret'): Promise<string> {
  const path = join(dir, name);
  await writeFile(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node refuses plain http unless TLS verification is off; these stand-ins speak http.
      clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: 'demo' } }],
      'current-context': 'x',
    }),
  );
  return path;
}

const runBuilt = (args: string[], home: string): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(process.execPath, [builtCliPath, ...args], { env: { PATH: process.env.PATH ?? '', HOME: home }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });

t.test('autostash status against the embedded control plane', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-status-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { plane, kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const kubeconfig = plane.kubeconfigPath;
  const now = Date.now();
  const hour = 3_600_000;
  const nextHour = iso(Math.ceil(now / hour) * hour);
  const lastHour = Math.floor(now / hour) * hour;

  for (const namespace of ['demo', 'other', 'empty']) await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  // ok: succeeded this hour; broken: its last session failed; stale: last success 5 h ago; held: paused and long silent.
  await createWithStatus(client, configuration('demo', 'ok', { nextSchedule: nextHour }));
  await createWithStatus(client, backupSession('demo', 'ok', 'ok-hourly-1', iso(lastHour), 'Succeeded'));
  await createWithStatus(client, { ...REPO, metadata: { name: 'ok-repo', namespace: 'demo' }, spec: {}, status: { size: '2 MiB', snapshotCount: 3 } });
  await createWithStatus(client, configuration('demo', 'broken', { nextSchedule: nextHour }));
  await createWithStatus(client, backupSession('demo', 'broken', 'broken-hourly-1', iso(lastHour - hour), 'Succeeded'));
  await createWithStatus(client, backupSession('demo', 'broken', 'broken-hourly-2', iso(lastHour), 'Failed'));
  await createWithStatus(client, configuration('demo', 'stale', { nextSchedule: nextHour }));
  await createWithStatus(client, backupSession('demo', 'stale', 'stale-hourly-1', iso(lastHour - 5 * hour), 'Succeeded'));
  await createWithStatus(client, configuration('demo', 'held', { paused: true, nextSchedule: iso(lastHour - 5 * hour) }));
  await createWithStatus(client, configuration('other', 'quiet', { nextSchedule: nextHour }));
  await createWithStatus(client, backupSession('other', 'quiet', 'quiet-hourly-1', iso(lastHour), 'Succeeded'));

  t.test('a table, the rows that need attention under it, exit 1', async (t) => {
    const out = captureStream();
    const err = captureStream();
    t.equal(await runStatus({ namespace: 'demo', kubeconfig }, { stdout: out, stderr: err }), 1);
    t.equal(err.text(), '');
    const lines = out.text().split('\n');
    t.match(lines[0], /^NAMESPACE\s+NAME\s+TARGET\s+SESSIONS\s+LAST BACKUP\s+NEXT\s+SIZE\s+SNAPSHOTS\s+STATUS$/);
    t.match(lines[1], /^demo\s+broken\s+Deployment\/broken-app\s+hourly\s+Failed \d+[smh]\s+in \d+[sm]\s+-\s+-\s+Failing$/);
    t.match(lines[2], /^demo\s+held\s+Deployment\/held-app\s+hourly\s+-\s+paused\s+-\s+-\s+Paused$/);
    t.match(lines[3], /^demo\s+ok\s+Deployment\/ok-app\s+hourly\s+Succeeded \d+[smh]\s+in \d+[sm]\s+2 MiB\s+3\s+Ok$/);
    t.match(lines[4], /^demo\s+stale\s+Deployment\/stale-app\s+hourly\s+Succeeded [56]h\s+in \d+[sm]\s+-\s+-\s+Overdue$/);
    t.equal(lines[5], '');
    t.equal(lines[6], '2 of 4 BackupConfiguration(s) need attention:');
    t.match(lines[7], /^ {2}demo\/broken failing: session hourly: the last BackupSession broken-hourly-2 Failed \d+[smh] ago$/);
    t.match(lines[8], /^ {2}demo\/stale overdue: session hourly: the last successful backup was [56]h ago, more than 2 × its schedule interval \(60m\)$/);
    t.equal(lines.length, 10);
  });

  t.test('a larger --overdue-after tolerates the stale one', async (t) => {
    const out = captureStream();
    t.equal(await runStatus({ namespace: 'demo', kubeconfig, overdueAfter: '8' }, { stdout: out, stderr: captureStream() }), 1, 'broken still fails');
    t.notMatch(out.text(), /stale overdue/);
    t.match(out.text(), /1 of 4 BackupConfiguration\(s\) need attention/);
  });

  t.test('all fine: exit 0, nothing listed under the table', async (t) => {
    const out = captureStream();
    t.equal(await runStatus({ namespace: 'other', kubeconfig }, { stdout: out, stderr: captureStream() }), 0);
    t.match(out.text(), /^NAMESPACE.*\nother\s+quiet\s+Deployment\/quiet-app\s+hourly\s+Succeeded \S+\s+in \S+\s+-\s+-\s+Ok\n$/);
  });

  t.test('-A lists every namespace; -o json carries the same with reasons', async (t) => {
    const out = captureStream();
    t.equal(await runStatus({ allNamespaces: true, kubeconfig, output: 'json' }, { stdout: out, stderr: captureStream() }, {}, () => new Date(now)), 1);
    const report = JSON.parse(out.text()) as { namespace: unknown; time: string; configurations: Array<Record<string, unknown> & { problems: Array<{ kind: string }> }> };
    t.equal(report.namespace, null);
    t.equal(report.time, new Date(now).toISOString());
    t.same(report.configurations.map((row) => `${row.namespace}/${row.name}:${row.state}`), ['demo/broken:Failing', 'demo/held:Paused', 'demo/ok:Ok', 'demo/stale:Overdue', 'other/quiet:Ok']);
    const ok = report.configurations.find((row) => row.name === 'ok');
    t.match(ok, { target: 'Deployment/ok-app', sessions: ['hourly'], lastBackup: { name: 'ok-hourly-1', phase: 'Succeeded', time: new Date(lastHour).toISOString() }, nextSchedule: new Date(nextHour).toISOString(), paused: false, sizeBytes: 2 * 2 ** 20, snapshots: 3, problems: [] });
    t.match(report.configurations.find((row) => row.name === 'held'), { lastBackup: null, sizeBytes: null, snapshots: null, paused: true });
    t.same(report.configurations.find((row) => row.name === 'broken')?.problems.map((problem) => problem.kind), ['failing']);
  });

  t.test("an empty namespace; the kubeconfig context's namespace, else default", async (t) => {
    const out = captureStream();
    t.equal(await runStatus({ namespace: 'empty', kubeconfig }, { stdout: out, stderr: captureStream() }), 0);
    t.equal(out.text(), 'No BackupConfigurations found in namespace empty.\n');
    const byDefault = captureStream();
    t.equal(await runStatus({ kubeconfig }, { stdout: byDefault, stderr: captureStream() }), 0);
    t.equal(byDefault.text(), 'No BackupConfigurations found in namespace default.\n', "the embedded plane's context names no namespace");
    const exported = JSON.parse(kubeConfig.exportConfig()) as { contexts: Array<{ context: { namespace?: string } }> };
    for (const context of exported.contexts) context.context.namespace = 'demo';
    const pointed = join(dir, 'demo-context');
    await writeFile(pointed, JSON.stringify(exported));
    const fromContext = captureStream();
    t.equal(await runStatus({ kubeconfig: pointed }, { stdout: fromContext, stderr: captureStream() }), 1);
    t.match(fromContext.text(), /^demo\s+broken/m, "the context's namespace");
  });

  t.test('the built CLI: exit codes 1, 0 and 2', { skip: builtCliMissing }, async (t) => {
    const all = await runBuilt(['status', '-A', '--kubeconfig', kubeconfig], dir);
    t.equal(all.code, 1, all.stderr);
    t.match(all.stdout, /other\s+quiet\s+Deployment\/quiet-app/);
    t.match(all.stdout, /demo\/stale overdue: /);
    const fine = await runBuilt(['status', '-n', 'other', '--kubeconfig', kubeconfig, '-o', 'json'], dir);
    t.equal(fine.code, 0, fine.stderr);
    t.equal((JSON.parse(fine.stdout) as { configurations: unknown[] }).configurations.length, 1);
    const usage = await runBuilt(['status', '--colour'], dir);
    t.equal(usage.code, 2, 'an unknown option is a usage error');
    const both = await runBuilt(['status', '-n', 'demo', '-A', '--kubeconfig', kubeconfig], dir);
    t.equal(both.code, 2);
    t.match(both.stderr, /^autostash status: --namespace: give --namespace or --all-namespaces, not both\n$/);
  });
});

t.test('usage and connection errors exit 2 with one line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-status-errors-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // An API server stand-in: discovery of the KubeStash group is missing (404), everything else forbidden (403).
  const server: Server = createServer((request, response) => {
    const missing = request.url?.startsWith('/apis/core.kubestash.com') === true && request.headers.authorization === 'Bearer kinds-missing';
    response.writeHead(missing ? 404 : 403, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: missing ? 'NotFound' : 'Forbidden', message: missing ? 'the server could not find the requested resource' : 'backupconfigurations is forbidden', code: missing ? 404 : 403 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const forbidden = await kubeconfigFor(dir, 'forbidden', url);
  const missingPath = await kubeconfigFor(dir, 'missing', url, 'kinds-missing');
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const unreachable = await kubeconfigFor(dir, 'unreachable', `https://127.0.0.1:${closedPort}`);

  const rows: Array<{ rule: string; flags: Parameters<typeof runStatus>[0]; env?: NodeJS.ProcessEnv; message: RegExp }> = [
    { rule: '-n and -A together', flags: { namespace: 'a', allNamespaces: true }, message: /^autostash status: --namespace: give --namespace or --all-namespaces, not both\n$/ },
    { rule: 'unknown output', flags: { output: 'yaml' }, message: /^autostash status: --output: "yaml" is not one of table, json\n$/ },
    { rule: 'factor below 1', flags: { overdueAfter: '0.5' }, message: /^autostash status: --overdue-after: "0.5" is not a number of at least 1/ },
    { rule: 'factor not a number', flags: { overdueAfter: 'twice' }, message: /^autostash status: --overdue-after: "twice" is not a number/ },
    { rule: 'no cluster configured', flags: {}, env: { HOME: '/nonexistent-home' }, message: /^autostash status: --kubeconfig: no cluster configured: pass --kubeconfig/ },
    { rule: 'an unreadable kubeconfig', flags: { kubeconfig: join(dir, 'nope') }, message: /^autostash status: kubeconfig from --kubeconfig/ },
    { rule: 'nothing listening', flags: { kubeconfig: unreachable }, message: /^autostash status: cannot reach the cluster: / },
    { rule: 'forbidden', flags: { kubeconfig: forbidden }, message: /^autostash status: the API server refused: 403 Forbidden: / },
    { rule: 'KubeStash kinds not installed', flags: { kubeconfig: missingPath }, message: /^autostash status: the KubeStash kinds are not served by this cluster \(.*\); install the CRDs/ },
  ];
  for (const row of rows) {
    const out = captureStream();
    const err = captureStream();
    t.equal(await runStatus({ output: 'table', ...row.flags }, { stdout: out, stderr: err }, row.env ?? {}), 2, row.rule);
    t.match(err.text(), row.message, `${row.rule}: ${err.text()}`);
    t.equal(err.text().split('\n').length, 2, `${row.rule}: one line`);
    t.equal(out.text(), '', `${row.rule}: nothing on stdout`);
  }
});

t.test('renderTable aligns columns and trims trailing space', async (t) => {
  t.equal(renderTable(['A', 'LONGER'], [['wide cell', 'x'], ['y', '']]), 'A           LONGER\nwide cell   x\ny\n');
});

t.test('the command definition', async (t) => {
  const command = buildCli().commands.find((candidate) => candidate.name() === 'status');
  t.same(command?.options.map((option) => [option.short, option.long]), [
    ['-n', '--namespace'],
    ['-A', '--all-namespaces'],
    [undefined, '--kubeconfig'],
    ['-o', '--output'],
    [undefined, '--overdue-after'],
  ]);
});
