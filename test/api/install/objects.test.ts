import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { allKinds } from '../../../src/api/crd.js';
import { DEFAULT_VALUES, installObjects, renderInstallYaml, serveArgs, type InstallValues } from '../../../src/api/install/index.js';
import { DASHBOARD_METRICS, grafanaDashboard } from '../../../src/api/install/dashboard.js';
import { repoRoot } from '../../helpers/paths.js';

// Generated objects are read deep and loosely here: the shapes are asserted field by field.
type Obj = Record<string, any>;
const withValues = (patch: Partial<InstallValues>, namespace = 'autostash', createNamespace = false): Obj[] =>
  installObjects({ namespace, createNamespace, values: { ...DEFAULT_VALUES, ...patch } }) as Obj[];
const find = (objects: Obj[], kind: string, name?: string): Obj | undefined => objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

t.test('defaults: CRDs first, webhook configurations after the Deployment, one of each object', async (t) => {
  const objects = withValues({});
  const kinds = objects.map((o) => o.kind as string);
  t.same(kinds.slice(0, allKinds.length), allKinds.map(() => 'CustomResourceDefinition'));
  t.ok(kinds.indexOf('Deployment') < kinds.indexOf('ValidatingWebhookConfiguration'), 'the webhook exists before it is registered');
  t.notOk(kinds.includes('Namespace'), 'no Namespace unless asked');
  t.notOk(kinds.includes('Certificate'), 'no cert-manager objects for self-managed certificates');
  t.ok(find(objects, 'PodDisruptionBudget'), 'two replicas get a PodDisruptionBudget');
  t.ok(find(objects, 'ConfigMap', 'autostash-dashboard'), 'the dashboard is on by default');
  const keys = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  t.equal(new Set(keys).size, keys.length, 'no object twice');
});

t.test('the Deployment is hardened and probed', async (t) => {
  const deployment = find(withValues({}), 'Deployment')!;
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  t.equal(deployment.spec.replicas, 2);
  t.same(pod.securityContext, { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } });
  t.same(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
  t.match(container.livenessProbe, { httpGet: { path: '/healthz', port: 'https', scheme: 'HTTPS' } });
  t.match(container.readinessProbe, { httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' } });
  t.same(container.ports, [{ name: 'https', containerPort: 8443, protocol: 'TCP' }]);
  t.same(container.volumeMounts.map((m: Obj) => m.mountPath).sort(), ['/tmp', '/var/run/autostash/certs'], 'the only writable paths');
  t.same(pod.volumes.map((v: Obj) => Object.keys(v).filter((k) => k !== 'name')[0]), ['emptyDir', 'emptyDir']);
  t.equal(pod.terminationGracePeriodSeconds, 30);
  t.equal(pod.serviceAccountName, 'autostash');
  t.equal(container.image, 'ghcr.io/autostash/autostash:v0.1.0');
  t.same(container.args, serveArgs(DEFAULT_VALUES));
  t.same(container.resources, DEFAULT_VALUES.resources);
  t.match(pod.affinity, { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' } }] } });
  t.notOk('nodeSelector' in pod || 'tolerations' in pod, 'empty scheduling values are left out');
  t.same(deployment.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'autostash', 'app.kubernetes.io/instance': 'autostash' });
});

t.test('serve flags: the contracts of the certificate, leader-election and Job ServiceAccount code', async (t) => {
  const args = serveArgs({ ...DEFAULT_VALUES, logLevel: 'debug', certificates: { ...DEFAULT_VALUES.certificates, source: 'secret', secretName: 'mine' } });
  for (const flag of [
    '--no-embedded', '--port=8443', '--log-level=debug', '--image=ghcr.io/autostash/autostash:v0.1.0',
    '--cert-source=secret', '--cert-secret=mine', '--ca-lifetime=43800h', '--cert-lifetime=8760h',
    '--lease-duration=15s', '--renew-deadline=10s', '--retry-period=2s',
    '--backup-job-service-account=autostash-backup-job', '--restore-job-service-account=autostash-restore-job',
    '--kubedump-backup-service-account=autostash-kubedump-backup-job', '--kubedump-restore-service-account=autostash-kubedump-restore-job',
    '--maintenance-job-service-account=autostash-maintenance-job',
  ]) t.ok(args.includes(flag), flag);
  t.equal(args[0], 'serve');
});

t.test('scheduling values, one replica, no dashboard', async (t) => {
  const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } };
  const objects = withValues({ replicas: 1, nodeSelector: { zone: 'a' }, tolerations: [{ key: 'k', operator: 'Exists' }], affinity, metrics: { dashboard: false } });
  const pod = find(objects, 'Deployment')!.spec.template.spec;
  t.same(pod.nodeSelector, { zone: 'a' });
  t.same(pod.tolerations, [{ key: 'k', operator: 'Exists' }]);
  t.same(pod.affinity, affinity, 'a given affinity replaces the default anti-affinity');
  t.notOk(find(objects, 'PodDisruptionBudget'), 'one replica: a budget would only block drains');
  t.notOk(find(objects, 'ConfigMap'), 'dashboard switched off');
});

t.test('Service and PodDisruptionBudget', async (t) => {
  const objects = withValues({}, 'backup-system');
  t.match(find(objects, 'Service'), { metadata: { name: 'autostash', namespace: 'backup-system' }, spec: { ports: [{ port: 443, targetPort: 'https' }] } });
  t.match(find(objects, 'PodDisruptionBudget'), { apiVersion: 'policy/v1', spec: { minAvailable: 1 } });
});

t.test('webhooks: release namespace excluded, matchConditions switch, service endpoint', async (t) => {
  const on = find(withValues({}, 'backup-system'), 'ValidatingWebhookConfiguration')!;
  const [kinds, workloads] = on.webhooks;
  t.same(kinds.namespaceSelector.matchExpressions[0].values, ['kube-system', 'backup-system']);
  t.same(kinds.clientConfig, { service: { namespace: 'backup-system', name: 'autostash', port: 443, path: '/validate' } });
  t.equal(kinds.failurePolicy, 'Fail');
  t.equal(workloads.failurePolicy, 'Ignore');
  t.equal(workloads.timeoutSeconds, 2);
  t.ok(Array.isArray(workloads.matchConditions));
  const off = find(withValues({ webhook: { ...DEFAULT_VALUES.webhook, matchConditions: false, excludedNamespaces: [] } }), 'ValidatingWebhookConfiguration')!;
  t.notOk('matchConditions' in off.webhooks[1], 'clusters older than 1.28 get no matchConditions');
  t.same(off.webhooks[0].namespaceSelector.matchExpressions[0].values, ['autostash'], 'the release namespace is always excluded');
  t.notOk(on.metadata.annotations, 'no injection annotation without cert-manager');
});

t.test('cert-manager source: a CA, the serving Certificate it signs, and CA injection', async (t) => {
  const objects = withValues({ certificates: { ...DEFAULT_VALUES.certificates, source: 'cert-manager', secretName: 'tls' } }, 'backup-system');
  const serving = find(objects, 'Certificate', 'autostash-webhook');
  t.match(serving, {
    apiVersion: 'cert-manager.io/v1',
    metadata: { namespace: 'backup-system' },
    spec: { secretName: 'tls', duration: '8760h', dnsNames: ['autostash.backup-system.svc', 'autostash.backup-system.svc.cluster.local'], issuerRef: { kind: 'Issuer', name: 'autostash-webhook' } },
  });
  // Not self-signed: a self-signed serving certificate is a new CA at every renewal, and the replicas would
  // serve it before every API server has the new caBundle. Its Issuer is a CA whose Certificate lives caLifetime.
  const issuer = find(objects, 'Issuer', 'autostash-webhook');
  t.match(issuer, { metadata: { namespace: 'backup-system' }, spec: { ca: { secretName: 'autostash-webhook-ca' } } }, 'the serving certificate is signed by a CA Issuer');
  t.notOk(issuer?.spec && 'selfSigned' in (issuer.spec as object), 'not self-signed');
  t.match(find(objects, 'Certificate', 'autostash-webhook-ca'), { spec: { isCA: true, secretName: 'autostash-webhook-ca', duration: '43800h', issuerRef: { kind: 'Issuer', name: 'autostash-webhook-selfsigned' } } });
  t.match(find(objects, 'Issuer', 'autostash-webhook-selfsigned'), { spec: { selfSigned: {} } });
  for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    t.same(find(objects, kind)!.metadata.annotations, { 'cert-manager.io/inject-ca-from': 'backup-system/autostash-webhook' }, kind);
  }
});

t.test('Namespace on request, YAML round-trips', async (t) => {
  const objects = withValues({}, 'autostash', true);
  t.match(find(objects, 'Namespace'), { metadata: { name: 'autostash' } });
  const yaml = renderInstallYaml(objects);
  const parsed = parseAllDocuments(yaml).map((doc) => doc.toJS() as Obj);
  t.same(parsed, objects);
  t.equal(renderInstallYaml(withValues({}, 'autostash', true)), yaml, 'deterministic');
});

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? sourceFiles(join(dir, name)) : name.endsWith('.ts') ? [join(dir, name)] : []));

t.test('the dashboard queries only series autostash registers', async (t) => {
  const sources = sourceFiles(join(repoRoot, 'src')).filter((file) => !file.includes(`${join('src', 'api', 'install')}`)).map((file) => readFileSync(file, 'utf8')).join('\n');
  for (const metric of DASHBOARD_METRICS) t.ok(sources.includes(`'${metric}'`), `${metric} is registered in src/`);
  const dashboard = grafanaDashboard();
  const exprs = (dashboard.panels as Obj[]).flatMap((panel) => panel.targets.map((target: Obj) => target.expr as string));
  const used = new Set(exprs.flatMap((expr) => expr.match(/autostash_[a-z_]+/g) ?? []).map((name) => name.replace(/_bucket$/, '')));
  t.same([...used].sort(), [...DASHBOARD_METRICS].sort(), 'every listed metric is charted, and only those');
  const titles = (dashboard.panels as Obj[]).map((panel) => panel.title as string);
  for (const needed of [/Admission latency/, /sessions by phase/, /last successful backup/, /Bytes added/]) t.ok(titles.some((title) => needed.test(title)), String(needed));
});
