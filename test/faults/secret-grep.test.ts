/**
 * Secrets never leak: a full run on the embedded plane (a local storage with a known restic password and an
 * s3 storage whose credentials Secret holds fake keys, a backup, a restore, a failing backup under a wrong
 * password, a backup to the unreachable s3 backend) with everything it said captured: the server's own
 * logs (pino at trace level into memory), every Job log file, every object of every resource type except
 * Secrets (Events, status and error messages included), /metrics and the CLI's output. None of it may hold a
 * secret value, raw or base64.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { startServer } from '../../src/commands/serve.js';
import { loadConfig } from '../../src/config.js';
import { createKubeClient } from '../../src/kube/client.js';
import { loadKubeConfigWithSource } from '../../src/kube/kubeconfig.js';
import { builtCliMissing, builtCliPath } from '../helpers/control-plane.js';
import { eventually } from '../helpers/eventually.js';
import { b64, CORE, createAll, dataVerified, LONG, STORAGE, waitFor } from '../helpers/faults.js';
import { resticMissing } from '../helpers/story-harness.js';

const ns = 'fault-secrets';
const PASSWORD = 'Grep-Me-Restic-Pass-8f31c2';
const WRONG_PASSWORD = 'Grep-Me-Wrong-Pass-5a77de';
const ACCESS_KEY = 'AKIAGREPMEFAULT7Q2XZ';
const SECRET_KEY = 'grepMeSecretKey/9d8f7a6b5c4d3e2f1a0b+Zz';
const SECRETS = [PASSWORD, WRONG_PASSWORD, ACCESS_KEY, SECRET_KEY];
const FORBIDDEN = SECRETS.flatMap((secret) => [secret, b64(secret)]);

t.setTimeout(400_000);

t.test('no secret value in logs, Job logs, objects, Events, metrics or CLI output', { skip: builtCliMissing }, async (t) => {
  const missing = await resticMissing;
  if (missing) return void t.comment(missing);
  const dir = await mkdtemp(join(tmpdir(), 'autostash-secrets-'));
  const backendDir = join(dir, 'backend');
  await mkdir(backendDir);
  const serverLog: string[] = [];
  const logger = pino({ level: 'trace' }, new Writable({ write: (chunk: Buffer, _e, done) => void (serverLog.push(chunk.toString('utf8')), done()) }));
  const config = loadConfig({ host: '127.0.0.1', port: '0', certDir: join(dir, 'certs'), dataDir: join(dir, 'data'), embeddedPort: '0', initialBackup: false, logLevel: 'trace' }, { HOME: dir });
  const server = await startServer(config, logger, { cliPath: builtCliPath });
  t.teardown(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const plane = server.controlPlane!;
  const loaded = loadKubeConfigWithSource({ kubeconfigPath: plane.kubeconfigPath, env: {} })!;
  const client = createKubeClient(loaded.kubeConfig);
  t.teardown(() => client.close());
  await eventually('autostash ready', async () => (await server.app.inject('/readyz')).statusCode === 200, LONG);
  const cliOutput: string[] = [];
  const cli = (args: string[]) =>
    new Promise<number>((resolve) => {
      execFile(process.execPath, [builtCliPath, ...args], { env: { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: plane.kubeconfigPath }, timeout: 60_000 }, (error, stdout, stderr) => {
        cliOutput.push(stdout, stderr);
        resolve(error ? 1 : 0);
      });
    });

  const pvc = (name: string) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: ns }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  const configuration = (name: string, storage: string, repository: string) => ({
    apiVersion: CORE,
    kind: 'BackupConfiguration',
    metadata: { name, namespace: ns },
    spec: {
      target: { apiGroup: '', kind: 'PersistentVolumeClaim', namespace: ns, name: 'data' },
      backends: [{ name: 'backend', storageRef: { name: storage, namespace: ns }, retentionPolicy: { name: 'keep', namespace: ns } }],
      sessions: [
        {
          name: 'manual',
          scheduler: { schedule: '0 2 * * *', jobTemplate: { backoffLimit: 0 } },
          repositories: [{ name: repository, backend: 'backend', directory: `/${repository}`, encryptionSecret: { name: 'encryption', namespace: ns } }],
          addon: { name: 'pvc-addon', tasks: [{ name: 'logical-backup' }] },
        },
      ],
    },
  });
  await createAll(client, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'encryption', namespace: ns }, stringData: { RESTIC_PASSWORD: PASSWORD } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3-credentials', namespace: ns }, data: { AWS_ACCESS_KEY_ID: b64(ACCESS_KEY), AWS_SECRET_ACCESS_KEY: b64(SECRET_KEY) } },
    {
      apiVersion: STORAGE,
      kind: 'BackupStorage',
      metadata: { name: 'local', namespace: ns },
      spec: { storage: { provider: 'local', local: { mountPath: '/safe/data', hostPath: { path: backendDir } } }, usagePolicy: { allowedNamespaces: { from: 'Same' } }, deletionPolicy: 'WipeOut' },
    },
    {
      apiVersion: STORAGE,
      kind: 'BackupStorage',
      metadata: { name: 's3', namespace: ns },
      // Nothing listens on port 9 of loopback: every use of the credentials fails, with error messages to grep.
      spec: { storage: { provider: 's3', s3: { endpoint: 'http://127.0.0.1:9', bucket: 'backups', region: 'us-east-1', secretName: 's3-credentials' } }, usagePolicy: { allowedNamespaces: { from: 'Same' } }, deletionPolicy: 'WipeOut' },
    },
    { apiVersion: STORAGE, kind: 'RetentionPolicy', metadata: { name: 'keep', namespace: ns }, spec: { successfulSnapshots: { last: 5 }, failedSnapshots: { last: 5 }, usagePolicy: { allowedNamespaces: { from: 'Same' } } } },
    pvc('data'),
    pvc('restored'),
    configuration('to-local', 'local', 'local-repo'),
    configuration('to-s3', 's3', 's3-repo'),
  ]);
  const source = await eventually('the data claim bound', async () => {
    const claim = await client.find({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: 'data' });
    const volumeName = (claim?.spec as { volumeName?: string } | undefined)?.volumeName;
    const pv = volumeName ? await client.find({ apiVersion: 'v1', kind: 'PersistentVolume', name: volumeName }) : undefined;
    return (pv?.spec as { hostPath?: { path?: string } } | undefined)?.hostPath?.path || undefined;
  }, LONG);
  await writeFile(join(source, 'hello.txt'), 'hello\n');
  await waitFor(client, STORAGE, 'Repository', ns, 'local-repo', ['Ready']);

  const trigger = async (configurationName: string) => {
    t.equal(await cli(['trigger', configurationName, '-n', ns]), 0, `trigger ${configurationName}`);
    const session = /backupsession\/(\S+)/.exec(cliOutput.at(-2) ?? '')?.[1] ?? '';
    return waitFor(client, CORE, 'BackupSession', ns, session, ['Succeeded', 'Failed', 'Skipped']);
  };
  t.equal((await trigger('to-local')).status?.phase, 'Succeeded', 'the backup succeeds');
  await createAll(client, [
    {
      apiVersion: CORE,
      kind: 'RestoreSession',
      metadata: { name: 'restore', namespace: ns },
      spec: {
        target: { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'restored', namespace: ns },
        dataSource: { repository: 'local-repo', snapshot: 'latest', encryptionSecret: { name: 'encryption', namespace: ns } },
        addon: { name: 'pvc-addon', tasks: [{ name: 'logical-backup-restore' }] },
      },
    },
  ]);
  t.equal((await waitFor(client, CORE, 'RestoreSession', ns, 'restore', ['Succeeded', 'Failed', 'Invalid'])).status?.phase, 'Succeeded', 'the restore succeeds');
  await client.patch({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: 'encryption' }, { type: 'merge', patch: { data: { RESTIC_PASSWORD: b64(WRONG_PASSWORD) } } });
  t.equal((await trigger('to-local')).status?.phase, 'Failed', 'the backup under the wrong password fails');
  t.equal((await trigger('to-s3')).status?.phase, 'Failed', 'the backup to the unreachable s3 backend fails');
  await cli(['get', 'backupstorage', '-n', ns]);
  await cli(['get', 'backupsession', '-n', ns]);

  // Everything that was said.
  const corpus: Array<{ where: string; text: string }> = [];
  corpus.push({ where: 'server log', text: serverLog.join('') });
  corpus.push({ where: 'CLI output', text: cliOutput.join('\n') });
  corpus.push({ where: '/metrics', text: (await server.app.inject('/metrics')).body });
  let objects = 0;
  for (const type of plane.api.resourceTypes()) {
    if (type.kind === 'Secret' || !type.verbs?.includes('list')) continue;
    const list = await plane.api.list({ group: type.group, version: type.version, resource: type.resource });
    objects += list.items.length;
    corpus.push({ where: `${type.kind} objects`, text: JSON.stringify(list.items) });
  }
  const jobLogs = (await readdir(join(config.embedded.dataDir, 'jobs'), { recursive: true })).filter((path) => path.endsWith('.log'));
  for (const path of jobLogs) corpus.push({ where: `Job log ${path}`, text: await readFile(join(config.embedded.dataDir, 'jobs', path), 'utf8') });
  t.ok(jobLogs.length >= 4, `Job logs were read: ${jobLogs.length}`);
  t.ok(objects > 50, `objects were read: ${objects}`);
  t.match(corpus.find((c) => c.where === 'Event objects')?.text ?? '', /wrong password/i, 'the Events say the password was wrong, without it');
  t.ok(serverLog.length > 100, `server log lines were read: ${serverLog.length}`);

  const leaks = corpus.flatMap(({ where, text }) => FORBIDDEN.filter((secret) => text.includes(secret)).map((secret) => `${where} holds ${secret}`));
  t.same(leaks, [], 'no secret value anywhere');
  dataVerified(t, 'secret grep over a full run', `${corpus.length} outputs (server log, ${jobLogs.length} Job logs, ${objects} objects incl. Events and status, /metrics, CLI): no password or key, raw or base64`);
});
