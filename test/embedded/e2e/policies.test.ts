import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startServer } from '../../../src/commands/serve.js';
import { loadConfig } from '../../../src/config.js';
import { silentLogger } from '../../helpers/control-plane.js';
import { eventually } from '../../helpers/eventually.js';
import { kubectl, kubectlMissing } from '../../helpers/kubectl.js';

const policy = (action: string) => `apiVersion: policy.autostash.dev/v1alpha1
kind: BackupPolicy
metadata: {name: production}
spec:
  rules:
    requireBackup:
      action: ${action}
      namespaceSelector: {matchLabels: {env: production}}
      exemptions: {objectSelector: {matchLabels: {backup.autostash.dev/exempt: "true"}}}
`;

const deploymentWithVolume = (name: string, labels = '{}') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: shop, labels: ${labels}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: c, image: nginx, volumeMounts: [{name: data, mountPath: /data}]}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: ${name}-data}}]
`;

t.test('BackupPolicy through autostash serve and kubectl: warn, deny, audit', { skip: kubectlMissing }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-policy-e2e-'));
  const server = await startServer(
    loadConfig({ host: '127.0.0.1', port: '0', certDir: join(dir, 'certs'), dataDir: join(dir, 'data'), embeddedPort: '0' }, { HOME: dir }),
    silentLogger(),
  );
  t.teardown(() => server.close());
  const plane = server.controlPlane;
  if (plane === undefined) throw new Error('serve did not start the embedded control plane');
  const run = (args: string[], stdin?: string) => kubectl(plane.kubeconfigPath, join(dir, 'kube-cache'), args, stdin);

  t.equal((await run(['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {env: production}}\n')).code, 0);
  t.equal((await run(['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata: {name: sandbox}\n')).code, 0);
  const applied = await run(['apply', '-f', '-'], policy('Warn'));
  t.equal(applied.code, 0, applied.stderr);
  await eventually('the webhook to see the policy', () => server.clusterView().list('BackupPolicy').length === 1);

  const warned = await run(['apply', '-f', '-'], deploymentWithVolume('cart'));
  t.equal(warned.code, 0, warned.stderr);
  t.match(warned.stderr, /Warning: .*BackupPolicy "production" rule requireBackup \(Warn\).*cart/, 'kubectl prints the policy warning');

  t.equal((await run(['apply', '-f', '-'], policy('Deny'))).code, 0);
  await eventually('the webhook to see the Deny rule', () =>
    (server.clusterView().get('BackupPolicy', '', 'production')?.spec as { rules?: { requireBackup?: { action?: string } } } | undefined)?.rules?.requireBackup?.action === 'Deny',
  );
  const denied = await run(['apply', '-f', '-'], deploymentWithVolume('checkout'));
  t.not(denied.code, 0, 'an unprotected workload is refused');
  t.match(denied.stderr, /BackupPolicy "production" rule requireBackup \(Deny\)/);
  const exempt = await run(['apply', '-f', '-'], deploymentWithVolume('cache', '{backup.autostash.dev/exempt: "true"}'));
  t.equal(exempt.code, 0, `a workload the policy exempts by label passes: ${exempt.stderr}`);
  const elsewhere = await run(['apply', '-f', '-'], deploymentWithVolume('tool').replace('namespace: shop', 'namespace: sandbox'));
  t.equal(elsewhere.code, 0, `namespaces the policy does not select are untouched: ${elsewhere.stderr}`);

  const status = await eventually('the audit to report the unprotected Deployment', async () => {
    const got = await run(['get', 'backuppolicy', 'production', '-o', 'json']);
    const parsed = got.code === 0 ? (JSON.parse(got.stdout) as { status?: { violationCount?: number; objects?: Array<{ name: string }> } }) : undefined;
    return parsed?.status?.violationCount ? parsed.status : undefined;
  }, 30_000);
  t.ok(status.objects?.some((o) => o.name === 'cart'), 'the audit lists the workload admitted while the rule only warned');

  // A blueprint (in a namespace the rule does not select) generating configurations into one it
  // does: the workload is admitted (its preview is valid KubeStash), the generated configuration is
  // refused by the policy, and the workload says why.
  t.equal((await run(['apply', '-f', '-'], `apiVersion: policy.autostash.dev/v1alpha1
kind: BackupPolicy
metadata: {name: hourly}
spec:
  rules:
    schedule: {action: Deny, maxInterval: 1h, namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: sandbox}}}
`)).code, 0);
  t.equal((await run(['apply', '-f', '-'], `apiVersion: core.kubestash.com/v1alpha1
kind: BackupBlueprint
metadata: {name: daily, namespace: shop}
spec:
  usagePolicy: {allowedNamespaces: {from: All}}
  backupConfigurationTemplate:
    namespace: sandbox
    backends: [{name: b, storageRef: {name: s, namespace: sandbox}, retentionPolicy: {name: r, namespace: sandbox}}]
    sessions:
      - name: daily
        scheduler: {schedule: "0 1 * * *", jobTemplate: {}}
        repositories: [{name: repo, backend: b, directory: /sandbox/app, encryptionSecret: {name: e}}]
        addon: {name: workload-addon, tasks: [{name: logical-backup, params: {paths: /data}}]}
`)).code, 0);
  await eventually('the webhook to see the new policy and blueprint', () => server.clusterView().list('BackupPolicy').length === 2 && server.clusterView().get('BackupBlueprint', 'shop', 'daily') !== undefined);
  const annotated = await run(['apply', '-f', '-'], `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: sandbox
  annotations: {blueprint.kubestash.com/name: daily, blueprint.kubestash.com/namespace: shop}
spec:
  selector: {matchLabels: {app: app}}
  template: {metadata: {labels: {app: app}}, spec: {containers: [{name: c, image: nginx}]}}
`);
  t.equal(annotated.code, 0, annotated.stderr);
  const rejected = await eventually('a BackupConfigurationRejected event on the workload', async () => {
    const events = await run(['get', 'events', '-n', 'sandbox', '-o', 'json']);
    const items = events.code === 0 ? (JSON.parse(events.stdout) as { items: Array<{ reason: string; message: string; involvedObject: { name: string } }> }).items : [];
    return items.find((e) => e.reason === 'BackupConfigurationRejected' && e.involvedObject.name === 'app');
  }, 30_000);
  t.match(rejected.message, /BackupPolicy "hourly" rule schedule \(Deny\)/);
  t.not((await run(['get', 'backupconfiguration', '-n', 'sandbox', 'deployment-app'])).code, 0, 'nothing half-created');
});
