import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { ApiError, type EmbeddedApi, type GroupVersionResource } from '../../../src/embedded/api-types.js';
import type { JobStatus } from '../../../src/embedded/controllers/job-status.js';
import { startControllers, type ControllersOptions } from '../../../src/embedded/controllers/start-controllers.js';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';

const JOBS: GroupVersionResource = { group: 'batch', version: 'v1', resource: 'jobs' };
const PVCS: GroupVersionResource = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const PVS: GroupVersionResource = { group: '', version: 'v1', resource: 'persistentvolumes' };
const SECRETS: GroupVersionResource = { group: '', version: 'v1', resource: 'secrets' };

async function plane(t: Test, extra: Partial<ControllersOptions> = {}): Promise<{ api: EmbeddedApi; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'autostash-jobs-'));
  const api = createEmbeddedApi();
  const controllers = startControllers({ api, dataDir, logger: pino({ level: 'silent' }), resyncMs: 1000, jobBackoffBaseMs: 20, jobBackoffMaxMs: 100, jobKillGraceMs: 500, ...extra });
  await controllers.ready;
  t.teardown(async () => {
    await controllers.stop();
    await api.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { api, dataDir };
}

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function job(name: string, podSpec: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: { name }, spec: { backoffLimit: 0, ...spec, template: { spec: { restartPolicy: 'Never', ...podSpec } } } };
}

const statusOf = async (api: EmbeddedApi, name: string): Promise<JobStatus> => ((await api.get(JOBS, 'default', name)).status ?? {}) as JobStatus;

const finished = (api: EmbeddedApi, name: string): Promise<JobStatus> =>
  eventually(async () => {
    const status = await statusOf(api, name);
    return status.conditions?.some((condition) => (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True') ? status : undefined;
  }, `job ${name} to finish`);

const condition = (status: JobStatus, type: string) => status.conditions?.find((candidate) => candidate.type === type);

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

t.test('a Job writing into a mounted claim ends Complete and leaves the file in the volume', async (t) => {
  const { api, dataDir } = await plane(t);
  await api.create(PVCS, 'default', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  await api.create(
    JOBS,
    'default',
    job('writer', {
      initContainers: [{ name: 'prepare', command: ['mkdir', '-p', '/data/out'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      containers: [
        {
          name: 'main',
          image: 'busybox',
          command: ['sh', '-c', 'echo "$GREETING from $(POD_NS)" > "$1"; echo "$AUTOSTASH_VOLUME_MAP"; echo done', 'sh'],
          args: ['/data/out/hello.txt'],
          env: [
            { name: 'GREETING', value: 'hello' },
            { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          ],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
    }),
  );
  const status = await finished(api, 'writer');
  t.equal(condition(status, 'Complete')?.status, 'True', condition(status, 'Failed')?.message ?? 'complete');
  t.equal(condition(status, 'SuccessCriteriaMet')?.status, 'True');
  t.equal(status.succeeded, 1);
  t.equal(status.active, 0);
  t.ok(status.startTime && status.completionTime, 'startTime and completionTime are set');

  const claim = await api.get(PVCS, 'default', 'data');
  const volume = await api.get(PVS, undefined, (claim.spec as { volumeName: string }).volumeName);
  const hostPath = (volume.spec as { hostPath: { path: string } }).hostPath.path;
  t.equal(await readFile(join(hostPath, 'out', 'hello.txt'), 'utf8'), 'hello from default\n');
  const log = await readFile(join(dataDir, 'jobs', 'default', 'writer', '1.log'), 'utf8');
  t.match(log, JSON.stringify({ '/data': hostPath }), 'the process saw the volume map');
  t.match(log, /--- container prepare ---[\s\S]*--- container main ---[\s\S]*done/, 'init container first, both logged');
});

t.test('a failing Job is retried up to backoffLimit and ends Failed with BackoffLimitExceeded', async (t) => {
  const { api, dataDir } = await plane(t);
  await api.create(JOBS, 'default', job('flaky', { containers: [{ name: 'main', command: ['sh', '-c', 'echo "boom on try"; exit 3'] }] }, { backoffLimit: 2 }));
  const status = await finished(api, 'flaky');
  const failed = condition(status, 'Failed');
  t.equal(failed?.status, 'True');
  t.equal(failed?.reason, 'BackoffLimitExceeded');
  t.match(failed?.message, /backoff limit[\s\S]*exit code 3[\s\S]*boom on try/, 'the message carries the last output');
  t.equal(condition(status, 'FailureTarget')?.reason, 'BackoffLimitExceeded');
  t.equal(status.failed, 3, 'one try and backoffLimit retries');
  t.equal(status.active, 0);
  t.notOk(condition(status, 'Complete'));
  t.same((await readdir(join(dataDir, 'jobs', 'default', 'flaky'))).sort(), ['1.log', '2.log', '3.log'], 'one log per attempt');
});

t.test('a command that does not exist fails the Job with the reason', async (t) => {
  const { api } = await plane(t);
  await api.create(JOBS, 'default', job('missing', { containers: [{ name: 'main', command: ['/no/such/program-autostash'] }] }));
  const status = await finished(api, 'missing');
  t.match(condition(status, 'Failed')?.message, /ENOENT/);
});

t.test('activeDeadlineSeconds kills a long job with DeadlineExceeded', async (t) => {
  const { api } = await plane(t);
  await api.create(JOBS, 'default', job('slow', { containers: [{ name: 'main', command: ['sleep', '30'] }] }, { activeDeadlineSeconds: 1, backoffLimit: 6 }));
  const started = Date.now();
  const status = await finished(api, 'slow');
  t.equal(condition(status, 'Failed')?.reason, 'DeadlineExceeded');
  t.equal(status.active, 0);
  t.ok(Date.now() - started < 15_000, 'ended long before the process would have');
});

t.test('secret env and secret volume files reach the process; temporary volumes are removed', async (t) => {
  const { api, dataDir } = await plane(t);
  await api.create(SECRETS, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, stringData: { password: 'hunter2', 'config.json': '{"a":1}' } });
  const out = join(dataDir, 'out');
  await api.create(
    JOBS,
    'default',
    job('secrets', {
      containers: [
        {
          name: 'main',
          command: ['sh', '-c', 'mkdir -p "$3" && printf "%s" "$PASSWORD" > "$3/env.txt" && cp "$1" "$3/file.txt" && cat "$2" > "$3/scratch.txt"', 'sh', '/etc/creds/config.json', '/scratch/nothing', out],
          env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }],
          volumeMounts: [
            { name: 'creds', mountPath: '/etc/creds', readOnly: true },
            { name: 'scratch', mountPath: '/scratch' },
          ],
        },
      ],
      volumes: [
        { name: 'creds', secret: { secretName: 'creds' } },
        { name: 'scratch', emptyDir: {} },
      ],
    }),
  );
  const status = await finished(api, 'secrets');
  t.equal(condition(status, 'Failed')?.status, 'True', 'cat of a missing file in the emptyDir fails');
  t.equal(await readFile(join(out, 'env.txt'), 'utf8'), 'hunter2');
  t.equal(await readFile(join(out, 'file.txt'), 'utf8'), '{"a":1}');
  t.same(await readdir(join(dataDir, 'jobs', '.scratch')), [], 'secret and emptyDir directories are removed');
});

t.test('deleting a running Job kills its process', async (t) => {
  const { api, dataDir } = await plane(t);
  const pidFile = join(dataDir, 'pid');
  await api.create(JOBS, 'default', job('long', { containers: [{ name: 'main', command: ['sh', '-c', 'echo $$$$ > "$1"; exec sleep 30', 'sh', pidFile] }] }));
  const pid = await eventually(async () => {
    const text = await readFile(pidFile, 'utf8').catch(() => '');
    return /^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
  }, 'the process to start');
  t.ok(processAlive(pid), 'running');
  t.equal((await statusOf(api, 'long')).active, 1, 'active while running');
  await api.delete(JOBS, 'default', 'long');
  await eventually(async () => (processAlive(pid) ? undefined : true), 'the process to be killed');
  await t.rejects(api.get(JOBS, 'default', 'long'), ApiError);
});

t.test('at most maxParallelJobs run at once; the others wait and then run', async (t) => {
  const { api, dataDir } = await plane(t, { maxParallelJobs: 1 });
  const gate = join(dataDir, 'gate');
  await api.create(JOBS, 'default', job('first', { containers: [{ name: 'main', command: ['sh', '-c', 'while [ ! -e "$1" ]; do sleep 0.05; done', 'sh', gate] }] }));
  await eventually(async () => ((await statusOf(api, 'first')).active === 1 ? true : undefined), 'the first job to run');
  await api.create(JOBS, 'default', job('second', { containers: [{ name: 'main', command: ['true'] }] }));
  const waiting = await statusOf(api, 'second');
  t.notOk(waiting.startTime, 'the second job has not started while the slot is taken');
  await writeFile(gate, '');
  t.equal(condition(await finished(api, 'first'), 'Complete')?.status, 'True');
  t.equal(condition(await finished(api, 'second'), 'Complete')?.status, 'True');
});

t.test('ttlSecondsAfterFinished deletes the finished Job; autostash maps to the configured CLI', async (t) => {
  const { api, dataDir } = await plane(t, { cliCommand: ['sh', '-c', 'echo "cli $*" > "$1"', 'sh'] });
  const out = join(dataDir, 'cli.txt');
  await api.create(JOBS, 'default', job('ttl', { containers: [{ name: 'main', command: ['autostash', out, 'exec'] }] }, { ttlSecondsAfterFinished: 0 }));
  await eventually(async () => {
    try {
      await api.get(JOBS, 'default', 'ttl');
      return undefined;
    } catch (error) {
      return error instanceof ApiError && error.code === 404 ? true : undefined;
    }
  }, 'the job to be deleted after it finished');
  t.equal(await readFile(out, 'utf8'), `cli ${out} exec\n`);
});

t.test('a Job waits for its claim to be bound; a suspended Job does not run', async (t) => {
  const { api, dataDir } = await plane(t);
  await api.create(JOBS, 'default', job('suspended', { containers: [{ name: 'main', command: ['true'] }] }, { suspend: true }));
  await api.create(
    JOBS,
    'default',
    job('waits', {
      containers: [{ name: 'main', command: ['touch', '/d/x'], volumeMounts: [{ name: 'd', mountPath: '/d' }] }],
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'later' } }],
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.notOk(condition(await statusOf(api, 'waits'), 'Complete'), 'not run while the claim is missing');
  await api.create(PVCS, 'default', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'later' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  const status = await finished(api, 'waits');
  t.equal(condition(status, 'Complete')?.status, 'True');
  t.equal(status.failed ?? 0, 0, 'waiting is not a failure');
  const volumes = await readdir(join(dataDir, 'volumes'));
  t.ok((await stat(join(dataDir, 'volumes', volumes[0] ?? '', 'x'))).isFile());
  const suspended = await statusOf(api, 'suspended');
  t.notOk(suspended.startTime, 'the suspended job never started');
});

t.test('workingDir is mapped like a path argument and must exist; a template without containers fails', async (t) => {
  const { api, dataDir } = await plane(t);
  const out = join(dataDir, 'pwd.txt');
  await mkdir(join(dataDir, 'host-work', 'inner'), { recursive: true });
  await api.create(
    JOBS,
    'default',
    job('in-dir', {
      containers: [{ name: 'main', command: ['sh', '-c', 'pwd > "$1"', 'sh', out], workingDir: '/work/$(SUB)', env: [{ name: 'SUB', value: 'inner' }], volumeMounts: [{ name: 'w', mountPath: '/work' }] }],
      volumes: [{ name: 'w', hostPath: { path: join(dataDir, 'host-work'), type: 'DirectoryOrCreate' } }],
    }),
  );
  await api.create(JOBS, 'default', job('bad-dir', { containers: [{ name: 'main', command: ['true'], workingDir: '/no/such/dir-autostash' }] }));
  await api.create(JOBS, 'default', job('empty', { containers: [] }));
  t.equal(condition(await finished(api, 'in-dir'), 'Complete')?.status, 'True');
  t.equal((await readFile(out, 'utf8')).trim(), join(dataDir, 'host-work', 'inner'));
  t.match(condition(await finished(api, 'bad-dir'), 'Failed')?.message, /workingDir \/no\/such\/dir-autostash is not a directory/);
  t.match(condition(await finished(api, 'empty'), 'Failed')?.message, /no containers/);
});
