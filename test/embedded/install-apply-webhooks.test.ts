// The embedded plane's admission chain with the webhook configurations the generator makes: the
// namespaceSelector keeps excluded namespaces away from the webhook, the embedded registration carries
// no matchConditions (the plane has no CEL), and a cluster registration's CEL condition is not evaluated
// there (treated as true) — with failurePolicy Ignore on workloads, nothing is blocked either way.
import t from 'tap';
import { createServer } from 'node:net';
import { webhookConfigurations } from '../../src/api/webhook-configurations.js';
import { installWebhookConfigurations } from '../../src/embedded/install-autostash.js';
import { generateCertificates } from '../../src/server/certificates.js';
import { startTestControlPlane } from '../helpers/control-plane.js';

const STORAGE = { group: 'storage.kubestash.com', version: 'v1alpha1', resource: 'backupstorages' };
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };
const VALIDATING = { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'validatingwebhookconfigurations' };

const storage = (namespace: string) => ({
  apiVersion: 'storage.kubestash.com/v1alpha1',
  kind: 'BackupStorage',
  metadata: { name: 'local', namespace },
  spec: { storage: { provider: 'local', local: { mountPath: '/safe', hostPath: { path: '/tmp/x' } } }, usagePolicy: { allowedNamespaces: { from: 'Same' } }, deletionPolicy: 'Delete' },
});

const deployment = (namespace: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace, annotations: { 'blueprint.kubestash.com/name': 'b', 'blueprint.kubestash.com/namespace': namespace } },
  spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web' }] } } },
});

/** A loopback port nothing listens on: every webhook call fails to connect. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

t.test('embedded registration: kube-system is never sent, other namespaces are, no matchConditions', async (t) => {
  const { plane } = await startTestControlPlane(t);
  const certificates = await generateCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  await installWebhookConfigurations(plane.api, `https://127.0.0.1:${await closedPort()}`, Buffer.from(certificates.caCert).toString('base64'));
  const stored = await plane.api.get(VALIDATING, undefined, 'autostash');
  for (const webhook of stored.webhooks as Array<Record<string, unknown>>) {
    t.notOk('matchConditions' in webhook, `${String(webhook.name)}: no CEL for the embedded plane`);
    t.equal(webhook.timeoutSeconds, 10);
  }
  await plane.api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });

  await t.resolves(plane.api.create(STORAGE, 'kube-system', storage('kube-system')), 'kube-system is excluded: the unreachable webhook is not called');
  await t.rejects(plane.api.create(STORAGE, 'demo', storage('demo')), /failed calling webhook "mutate\.autostash\.kubestash\.com"/, 'elsewhere failurePolicy Fail applies');
  await t.resolves(plane.api.create(DEPLOYMENTS, 'demo', deployment('demo')), 'workloads: failurePolicy Ignore');
});

t.test('a cluster registration on the embedded plane: its CEL matchCondition is not evaluated, Ignore still admits', async (t) => {
  const { plane } = await startTestControlPlane(t);
  const { validating } = webhookConfigurations({
    endpoint: { url: `https://127.0.0.1:${await closedPort()}` },
    excludedNamespaces: ['kube-system', 'autostash'],
    workloadMatchConditions: true,
  });
  await plane.api.create(VALIDATING, undefined, validating as never);
  await plane.api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'autostash' } });
  await plane.api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } });
  await t.resolves(plane.api.create(STORAGE, 'autostash', storage('autostash')), 'the release namespace is excluded');
  await t.rejects(plane.api.create(STORAGE, 'apps', storage('apps')), /failed calling webhook "validate\.autostash\.kubestash\.com"/);
  await t.resolves(plane.api.create(DEPLOYMENTS, 'apps', deployment('apps')), 'the workload webhook is called (condition taken as true), fails, and is ignored');
});
