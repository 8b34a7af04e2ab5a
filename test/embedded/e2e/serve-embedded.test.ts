import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { startServer } from '../../../src/commands/serve.js';
import { loadConfig } from '../../../src/config.js';
import { kubectl, kubectlMissing } from '../../helpers/kubectl.js';
import { sharedDir } from '../../helpers/paths.js';
import { eventually } from '../../helpers/eventually.js';

const quietLogger = () => pino({ level: 'warn' }, new Writable({ write: (_c, _e, done) => done() }));

t.test('autostash serve without a cluster: embedded control plane, CRDs, webhook, kubectl', { skip: kubectlMissing }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-e2e-'));
  const config = loadConfig({ host: '127.0.0.1', port: '0', certDir: join(dir, 'certs'), dataDir: join(dir, 'data'), embeddedPort: '0' }, { HOME: dir });
  const server = await startServer(config, quietLogger());
  t.teardown(() => server.close());
  const plane = server.controlPlane;
  if (plane === undefined) throw new Error('serve did not start the embedded control plane');
  const run = (args: string[], stdin?: string) => kubectl(plane.kubeconfigPath, join(dir, 'kube-cache'), args, stdin);

  await eventually('readiness (informers synced against the embedded plane)', async () => (await server.app.inject('/readyz')).statusCode === 200);

  const crds = await run(['get', 'crd', '-o', 'name']);
  t.equal(crds.code, 0, crds.stderr);
  t.match(crds.stdout, /backupconfigurations\.core\.kubestash\.com/);

  t.equal((await run(['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n')).code, 0);

  const storage = await run(['apply', '-f', '-'], `apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {name: gcs, namespace: demo}
spec:
  storage: {provider: gcs, gcs: {bucket: "backups/", prefix: "team-a/"}}
  default: true
`);
  t.equal(storage.code, 0, storage.stderr);
  const stored = JSON.parse((await run(['get', 'backupstorage', '-n', 'demo', 'gcs', '-o', 'json'])).stdout);
  t.same(stored.spec.storage.gcs, { bucket: 'backups', prefix: 'team-a' }, 'the mutating webhook trimmed the trailing slashes');
  t.same(stored.spec.usagePolicy, { allowedNamespaces: { from: 'Same' } }, 'usagePolicy defaulted by the webhook');
  t.equal(stored.spec.deletionPolicy, 'Delete', 'CRD schema default applied by the API server');

  const example = await run(['apply', '-f', join(sharedDir, 'kubestash', 'examples', 'volumes-pvc__backupconfiguration.yaml')]);
  t.equal(example.code, 0, example.stderr);

  const denied = await run(['apply', '-f', '-'], `apiVersion: core.kubestash.com/v1alpha1
kind: BackupConfiguration
metadata: {name: broken, namespace: demo}
spec:
  backends: [{name: b, storageRef: {name: gcs}, retentionPolicy: {name: keep}}]
  sessions:
    - name: daily
      scheduler: {schedule: "0 1 * * *", jobTemplate: {}}
      addon: {name: workload-addon, tasks: [{name: logical-backup}]}
      repositories: [{name: r, backend: elsewhere, directory: d}]
`);
  t.not(denied.code, 0, 'kubectl apply fails');
  t.match(denied.stderr, /BackupConfiguration "broken" is invalid/);
  t.match(denied.stderr, /spec\.sessions\[0\]\.repositories\[0\]\.backend/);
  t.equal((await run(['get', 'backupconfiguration', '-n', 'demo', 'broken'])).code, 1, 'nothing was stored');

  const dryRun = await run(['apply', '--dry-run=server', '-f', '-'], `apiVersion: storage.kubestash.com/v1alpha1
kind: RetentionPolicy
metadata: {name: keep, namespace: demo}
spec: {maxRetentionPeriod: 30d}
`);
  t.equal(dryRun.code, 0, dryRun.stderr);
  t.equal((await run(['get', 'retentionpolicy', '-n', 'demo', 'keep'])).code, 1, 'a server dry run is not persisted');

  await eventually('the webhook cluster view to see the stored BackupStorage', () => server.clusterView().get('BackupStorage', 'demo', 'gcs') !== undefined);
  const conflicting = await run(['apply', '-f', '-'], `apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {name: second-default, namespace: demo}
spec:
  storage: {provider: gcs, gcs: {bucket: other}}
  default: true
`);
  t.not(conflicting.code, 0, 'a second default BackupStorage is refused (the webhook reads the cluster through informers)');
  t.match(conflicting.stderr, /multiple default BackupStorages/);

  const deployment = (name: string, annotations: Record<string, string>) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: demo
  annotations: ${JSON.stringify(annotations)}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: c, image: nginx}]}
`;
  const early = await run(['apply', '-f', '-'], deployment('early', { 'blueprint.kubestash.com/name': 'later', 'blueprint.kubestash.com/namespace': 'demo' }));
  t.equal(early.code, 0, early.stderr);
  t.match(early.stderr, /Warning: .*later.*does not exist \(yet\): the BackupConfiguration is generated once it does/, 'kubectl shows the webhook warning');

  const blueprint = await run(['apply', '-f', join(sharedDir, 'kubestash', 'examples', 'auto-backup-workload__backupblueprint.yaml')]);
  t.equal(blueprint.code, 0, blueprint.stderr);
  await eventually('the webhook cluster view to see the blueprint', () => server.clusterView().get('BackupBlueprint', 'demo', 'workload-backup-blueprint') !== undefined);
  const missing = await run(['apply', '-f', '-'], deployment('incomplete', { 'blueprint.kubestash.com/name': 'workload-backup-blueprint', 'blueprint.kubestash.com/namespace': 'demo', 'variables.kubestash.com/namespace': 'demo' }));
  t.not(missing.code, 0, 'a workload whose blueprint cannot be expanded is refused');
  t.match(missing.stderr, /variables\.kubestash\.com\/targetName/);
  t.match(missing.stderr, /workload-backup-blueprint/);

  // The leader-elected controller turns the documented annotated Deployment into its BackupConfiguration.
  const annotated = await run(['apply', '-f', join(sharedDir, 'kubestash', 'examples', 'auto-backup-workload__deployment-annotated.yaml')]);
  t.equal(annotated.code, 0, annotated.stderr);
  const generatedName = 'deployment-kubestash-demo';
  await eventually('the generated BackupConfiguration', async () => (await run(['get', 'backupconfiguration', '-n', 'demo', generatedName])).code === 0, 30_000);
  const generated = JSON.parse((await run(['get', 'backupconfiguration', '-n', 'demo', generatedName, '-o', 'json'])).stdout);
  t.equal(generated.spec.sessions[0].repositories[0].directory, 'demo/kubestash-demo');
  t.equal(generated.spec.sessions[0].addon.tasks[0].params.paths, '/source/data-1,/source/data-2');
  const events = await run(['get', 'events', '-n', 'demo', '--field-selector', 'involvedObject.name=kubestash-demo', '-o', 'json']);
  t.equal(events.code, 0, events.stderr);
  t.ok(JSON.parse(events.stdout).items.some((e: { reason: string }) => e.reason === 'BackupConfigurationCreated'), 'an Event on the workload says so');

  const unannotated = await run(['annotate', 'deployment', '-n', 'demo', 'kubestash-demo', 'blueprint.kubestash.com/name-', 'blueprint.kubestash.com/namespace-']);
  t.equal(unannotated.code, 0, unannotated.stderr);
  await eventually('the generated BackupConfiguration to go with the annotations', async () => (await run(['get', 'backupconfiguration', '-n', 'demo', generatedName])).code !== 0, 30_000);
});
