/**
 * `--cert-source secret` on the embedded control plane: the user keeps the Secret and nothing else sets
 * the caBundle (no cainjector), so the leader copies the Secret's ca.crt into every webhook entry —
 * without it every admission of a KubeStash kind fails certificate verification (failurePolicy Fail).
 * The Secret itself is never written.
 */
import { X509Certificate } from 'node:crypto';
import t from 'tap';
import { loadConfig } from '../../../src/config.js';
import { startServer } from '../../../src/commands/serve.js';
import { ensureNamespace, installWebhookConfigurations } from '../../../src/embedded/install-autostash.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { generateCertificates, splitPemCertificates } from '../../../src/server/certificates.js';
import { eventually, silentLogger, startTestControlPlane } from '../../helpers/control-plane.js';

const MUTATING = { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'mutatingwebhookconfigurations' };
const VALIDATING = { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'validatingwebhookconfigurations' };
const SECRETS = { group: '', version: 'v1', resource: 'secrets' };
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

const { plane } = await startTestControlPlane(t);
await ensureNamespace(plane.api, 'autostash');

/** The CAs of a PEM bundle, as fingerprints joined in order. */
const fingerprints = (pems: string): string => splitPemCertificates(pems).map((pem) => new X509Certificate(pem).fingerprint256).join(',');

/** The CAs of the caBundle of every webhook entry of both configurations (fingerprints, in order). */
async function publishedBundles(): Promise<string[]> {
  const bundles: string[] = [];
  for (const gvr of [MUTATING, VALIDATING]) {
    const configuration = (await plane.api.get(gvr, undefined, 'autostash')) as KubeObject & { webhooks: Array<{ clientConfig: { caBundle?: string } }> };
    for (const webhook of configuration.webhooks) bundles.push(fingerprints(Buffer.from(webhook.clientConfig.caBundle ?? '', 'base64').toString('utf8')));
  }
  return bundles;
}

t.test('the leader publishes the user Secret\'s ca.crt to every caBundle and follows a change of it', async (t) => {
  const server = await startServer(
    loadConfig({ host: '127.0.0.1', port: '0', kubeconfig: plane.kubeconfigPath, certSource: 'secret', certSecret: 'webhook-tls', shutdownDrain: '0s' }, { HOME: plane.kubeconfigPath }),
    silentLogger(),
    { certificateRecheckMs: 100 },
  );
  t.teardown(() => server.close());
  // Registered as a chart or `autostash manifests` registers them: no caBundle.
  await installWebhookConfigurations(plane.api, server.url, '');

  const first = await generateCertificates();
  await plane.api.create(SECRETS, 'autostash', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { namespace: 'autostash', name: 'webhook-tls' },
    type: 'kubernetes.io/tls',
    data: { 'ca.crt': b64(first.caCert), 'tls.crt': b64(first.tlsCert), 'tls.key': b64(first.tlsKey) },
  } as KubeObject);
  await eventually('ca.crt published to every entry', async () => (await publishedBundles()).every((bundle) => bundle === fingerprints(first.caCert)), 60_000);
  const bundles = await publishedBundles();
  t.equal(bundles.length, 3, 'the mutating entry and both validating entries');

  // The user rotates: new CA and serving pair in one write.
  const second = await generateCertificates();
  const current = (await plane.api.get(SECRETS, 'autostash', 'webhook-tls')) as KubeObject & { data: Record<string, string> };
  await plane.api.update(SECRETS, 'autostash', { ...current, data: { 'ca.crt': b64(second.caCert + first.caCert), 'tls.crt': b64(second.tlsCert), 'tls.key': b64(second.tlsKey) } });
  await eventually('the new ca.crt published', async () => (await publishedBundles()).every((bundle) => bundle === fingerprints(second.caCert + first.caCert)), 60_000);

  const after = (await plane.api.get(SECRETS, 'autostash', 'webhook-tls')) as KubeObject & { data: Record<string, string> };
  t.same(Object.keys(after.data).sort(), ['ca.crt', 'tls.crt', 'tls.key'], 'no ca.key or anything else written into the user\'s Secret');
  t.equal(after.data['tls.crt'], b64(second.tlsCert), 'the serving certificate is the user\'s');
});
