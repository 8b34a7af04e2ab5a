import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Snapshot } from '../../src/api/index.js';
import { BACKUP_SESSION_LABEL, REPOSITORY_NAME_LABEL } from '../../src/domain/execution/labels.js';
import { BACKUP_SESSION_TYPE, BACKUP_STORAGE_TYPE, REPOSITORY_TYPE, SNAPSHOT_TYPE } from '../../src/executor/context.js';
import { createKubeClient } from '../../src/kube/client.js';
import { execCommand } from '../../src/commands/exec.js';
import { builtCliMissing, builtCliPath, startTestControlPlane } from '../helpers/control-plane.js';
import { repoRoot } from '../helpers/paths.js';

const resticAvailable = spawnSync('restic', ['version']).status === 0;
const PASSWORD = 'cli-test-password-5d1e';

/**
 * The command line that runs `autostash exec …`: the built CLI once `exec` is registered there, else the built
 * exec module's commander tree directly (the same command object the CLI registers).
 */
let commandLine: string[] | undefined;
function execCommandLine(): string[] {
  if (commandLine !== undefined) return commandLine;
  commandLine = findExecCommandLine();
  return commandLine;
}

function findExecCommandLine(): string[] {
  const help = spawnSync(process.execPath, [builtCliPath, 'exec', '--help'], { encoding: 'utf8' });
  if (help.status === 0 && help.stdout.includes('wipe-repository')) return [builtCliPath, 'exec'];
  const module = pathToFileURL(join(repoRoot, 'dist', 'commands', 'exec.js')).href;
  return ['--input-type=module', '-e', `const { execCommand } = await import(${JSON.stringify(module)}); await execCommand().parseAsync(process.argv.slice(1), { from: 'user' });`];
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...execCommandLine(), ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

t.test('exec backup as a child process: exit 0 on success, 1 with a one-line reason on failure', { skip: builtCliMissing || (resticAvailable ? false : 'restic is not installed') }, async (t) => {
  const { plane, kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const root = await mkdtemp(join(tmpdir(), 'autostash-exec-cli-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const backend = join(root, 'backend');
  const data = join(root, 'data');
  await mkdir(backend);
  await mkdir(data);
  await writeFile(join(data, 'file.txt'), 'cli backup\n');
  const ns = 'cli';
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'encrypt', namespace: ns }, data: { RESTIC_PASSWORD: Buffer.from(PASSWORD).toString('base64') } });
  await client.create({ ...BACKUP_STORAGE_TYPE, metadata: { name: 'local', namespace: ns }, spec: { storage: { provider: 'local', local: { mountPath: '/backend', hostPath: { path: backend } } } } });
  await client.create({ ...REPOSITORY_TYPE, metadata: { name: 'repo', namespace: ns }, spec: { storageRef: { name: 'local' }, path: 'cli/app', encryptionSecret: { name: 'encrypt' } } });
  await client.create({ ...BACKUP_SESSION_TYPE, metadata: { name: 'bs', namespace: ns }, spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'bc' }, session: 'nightly' } });
  await client.create({ ...SNAPSHOT_TYPE, metadata: { name: 'repo-bs', namespace: ns, labels: { [REPOSITORY_NAME_LABEL]: 'repo', [BACKUP_SESSION_LABEL]: 'bs' } }, spec: { repository: 'repo', session: 'nightly', backupSession: 'bs' } });

  const env = {
    KUBECONFIG: plane.kubeconfigPath,
    HOSTNAME: 'bs-dump-x1y2z',
    AUTOSTASH_VOLUME_MAP: JSON.stringify({ '/backend': backend, '/kubestash-data': data }),
  };
  // As on a cluster, the storage is initialised (metadata.yaml written) before any backup runs on it.
  t.equal((await run(['init-storage', `--namespace=${ns}`, '--storage=local'], env)).code, 0, 'init-storage');
  const ok = await run(['backup', `--namespace=${ns}`, '--backupsession=bs', '--component=dump', '--paths=/kubestash-data', '--exclude=', '--scratch-dir=', '--enable-cache=false'], env);
  t.equal(ok.code, 0, ok.stderr);
  const snapshot = await client.get<Snapshot>({ ...SNAPSHOT_TYPE, namespace: ns, name: 'repo-bs' });
  t.match(snapshot.status?.components?.dump, { phase: 'Succeeded', resticStats: [{ summary: { hostPath: '/kubestash-data' } }] });

  const failed = await run(['backup', `--namespace=${ns}`, '--backupsession=bs', '--component=dump', '--paths=/kubestash-data/missing'], env);
  t.equal(failed.code, 1);
  const lines = failed.stderr.trim().split('\n');
  t.equal(lines[lines.length - 1], 'autostash exec backup: snapshot repo-bs: the path /kubestash-data/missing does not exist in the backup Job');
  t.notMatch(failed.stderr, PASSWORD);

  const noSession = await run(['backup', `--namespace=${ns}`, '--backupsession=absent', '--component=dump'], env);
  t.equal(noSession.code, 1);
  t.match(noSession.stderr.trim().split('\n').pop(), 'autostash exec backup: BackupSession cli/absent not found');

  const badMap = await run(['wipe-snapshot', `--namespace=${ns}`, '--snapshot=x'], { ...env, AUTOSTASH_VOLUME_MAP: '{not json' });
  t.equal(badMap.code, 1);
  t.match(badMap.stderr, /AUTOSTASH_VOLUME_MAP is not valid JSON/);

  // The same commander actions in-process (tap measures coverage here, not in child processes).
  const saved = { ...process.env };
  const savedWrite = process.stderr.write.bind(process.stderr);
  const stderrLines: string[] = [];
  t.teardown(() => {
    process.env = saved;
    process.stderr.write = savedWrite;
    process.exitCode = 0;
  });
  Object.assign(process.env, env);
  const inProcess = async (args: string[]): Promise<number> => {
    process.exitCode = 0;
    process.stderr.write = ((chunk: string) => stderrLines.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      await execCommand().parseAsync([...args, '--log-level=silent'], { from: 'user' });
    } finally {
      process.stderr.write = savedWrite;
    }
    return Number(process.exitCode ?? 0);
  };
  t.equal(await inProcess(['init-storage', `--namespace=${ns}`, '--storage=local']), 0, 'init-storage');
  t.equal(await inProcess(['init-repository', `--namespace=${ns}`, '--repository=repo']), 0, 'init-repository');
  t.equal(await inProcess(['backup', `--namespace=${ns}`, '--backupsession=bs', '--component=dump', '--paths=/kubestash-data', '--stale-lock-seconds=60', '--enable-cache=true']), 0, 'backup');
  await client.create({ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'RestoreSession', metadata: { name: 'rs', namespace: ns }, spec: { dataSource: { repository: 'repo', snapshot: 'repo-bs' } } });
  t.equal(await inProcess(['restore', `--namespace=${ns}`, '--restoresession=rs', '--component=dump', '--snapshot=repo-bs', '--include=/kubestash-data/file.txt']), 0, 'restore');
  t.equal(await inProcess(['retention', `--namespace=${ns}`, '--backupsession=bs']), 0, 'retention of a session that lists no snapshots');
  t.equal(await inProcess(['wipe-snapshot', `--namespace=${ns}`, '--snapshot=repo-bs']), 0, 'wipe-snapshot');
  t.equal(await inProcess(['wipe-repository', `--namespace=${ns}`, '--repository=repo']), 0, 'wipe-repository');
  t.equal(await inProcess(['init-storage', `--namespace=${ns}`, '--storage=absent']), 1, 'failure sets exit code 1');
  t.equal(await inProcess(['backup', `--namespace=${ns}`, '--backupsession=bs', '--component=dump', '--paths=/kubestash-data/missing']), 1, 'failed backup');
  t.match(stderrLines.join(''), /autostash exec init-storage: BackupStorage cli\/absent not found\n/);
  t.match(stderrLines.join(''), /autostash exec backup: snapshot repo-bs: the path \/kubestash-data\/missing does not exist/);
  process.env = { ...saved };

  const noCluster = await run(['init-storage', `--namespace=${ns}`, '--storage=local'], { HOME: root });
  t.equal(noCluster.code, 1);
  t.match(noCluster.stderr, /no cluster configured/);
});
