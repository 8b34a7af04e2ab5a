/**
 * Self-managed webhook certificates end to end on the embedded control plane: two `serve` replicas,
 * a fake clock walked through a serving-certificate rotation and a CA rotation, and clients that
 * trust only the caBundle they read from the webhook configurations — the webhook keeps answering
 * across both rotations, on the leader and on the standby, without a restart.
 */
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { connect } from 'node:tls';
import t from 'tap';
import { loadConfig } from '../../../src/config.js';
import { startServer, type RunningServer } from '../../../src/commands/serve.js';
import { ensureNamespace, installWebhookConfigurations } from '../../../src/embedded/install-autostash.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { generateCa, generateCertificates, splitPemCertificates } from '../../../src/server/certificates.js';
import { eventually, silentLogger, startTestControlPlane } from '../../helpers/control-plane.js';
import { acceptableRetentionPolicy, createReview } from '../../helpers/admission-review.js';

const MUTATING = { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'mutatingwebhookconfigurations' };
const VALIDATING = { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'validatingwebhookconfigurations' };
const SECRETS = { group: '', version: 'v1', resource: 'secrets' };
const RETENTION_POLICIES = { group: 'storage.kubestash.com', version: 'v1alpha1', resource: 'retentionpolicies' };
const NAMESPACE = 'autostash';
const SERVICE_NAME = `autostash.${NAMESPACE}.svc`;
const MINUTE = 60_000;

const { plane } = await startTestControlPlane(t);
await ensureNamespace(plane.api, NAMESPACE);
await ensureNamespace(plane.api, 'demo');

/** The fake clock both replicas use; it only moves forward, and never more than the 1 h backdating of new certificates. */
let offsetMs = 0;
const now = (): Date => new Date(Date.now() + offsetMs);

async function startReplica(): Promise<RunningServer> {
  const config = loadConfig(
    { host: '127.0.0.1', port: '0', kubeconfig: plane.kubeconfigPath, certSource: 'self-managed', caLifetime: '1h', certLifetime: '30m', shutdownDrain: '0s' },
    { HOME: plane.kubeconfigPath },
  );
  const server = await startServer(config, silentLogger(), { now, certificateRecheckMs: 100 });
  t.teardown(() => server.close());
  return server;
}

interface SecretState {
  caPems: string[];
  leafFingerprint: string;
  leafIssuer: string;
}

async function secretState(): Promise<SecretState | undefined> {
  const secret = (await plane.api.get(SECRETS, NAMESPACE, 'autostash-webhook-tls').catch(() => undefined)) as (KubeObject & { type?: string; data?: Record<string, string> }) | undefined;
  if (secret?.data?.['tls.crt'] === undefined) return undefined;
  const decode = (key: string): string => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
  const leaf = new X509Certificate(decode('tls.crt'));
  return { caPems: splitPemCertificates(decode('ca.crt')), leafFingerprint: leaf.fingerprint256, leafIssuer: leaf.issuer };
}

/** The caBundle of every webhook entry of both configurations, decoded. */
async function publishedBundles(): Promise<string[]> {
  const bundles: string[] = [];
  for (const gvr of [MUTATING, VALIDATING]) {
    const configuration = (await plane.api.get(gvr, undefined, 'autostash')) as KubeObject & { webhooks: Array<{ clientConfig: { caBundle?: string } }> };
    for (const webhook of configuration.webhooks) bundles.push(Buffer.from(webhook.clientConfig.caBundle ?? '', 'base64').toString('utf8'));
  }
  return bundles;
}

const fingerprintsOf = (pems: readonly string[]): string[] =>
  pems.map((pem) => {
    try {
      return new X509Certificate(pem).fingerprint256;
    } catch {
      return 'unparsable';
    }
  });

/** The serving certificate a replica presents, verified against `caPem` and the Service name; an Error when it fails. */
function servedCertificate(server: RunningServer, caPem: string): Promise<string | Error> {
  const { port } = new URL(server.url);
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), ca: caPem, servername: SERVICE_NAME, rejectUnauthorized: true }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.on('error', (error) => {
      socket.destroy();
      resolve(error);
    });
  });
}

/** POST /validate over HTTPS trusting only `caPem` (a fresh connection each time); the status or the error. */
function validateCall(server: RunningServer, caPem: string): Promise<number | Error> {
  const body = JSON.stringify(createReview({ uid: 'rotation', object: acceptableRetentionPolicy, resource: 'retentionpolicies' }));
  return new Promise((resolve) => {
    const req = request(new URL('/validate', server.url), { method: 'POST', ca: caPem, servername: SERVICE_NAME, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', resolve);
    req.end(body);
  });
}

/** A create through the control plane's own admission chain, which calls the webhook with the published caBundle. */
async function admittedByPlane(): Promise<true | Error> {
  try {
    await plane.api.create(
      RETENTION_POLICIES,
      'demo',
      { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'RetentionPolicy', metadata: { generateName: 'rotation-', namespace: 'demo' }, spec: { maxRetentionPeriod: '30d', successfulSnapshots: { last: 3 } } },
      { dryRun: true },
    );
    return true;
  } catch (error) {
    return error as Error;
  }
}

/** Calls both replicas and the plane's admission again and again in the background, keeping every failure. */
function keepCalling(replicas: RunningServer[]): { failures: string[]; calls: () => number; stop: () => Promise<void> } {
  const failures: string[] = [];
  let calls = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const bundle = (await publishedBundles())[0] ?? '';
      for (const [index, replica] of replicas.entries()) {
        const status = await validateCall(replica, bundle);
        if (status !== 200) failures.push(`replica ${index}: ${status instanceof Error ? status.message : `HTTP ${status}`}`);
      }
      const admitted = await admittedByPlane();
      if (admitted !== true) failures.push(`plane admission: ${admitted.message}`);
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    failures,
    calls: () => calls,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Waits until the Secret, every caBundle and both replicas agree; answers the Secret's state. */
async function settled(what: string, replicas: RunningServer[], expect: (state: SecretState) => boolean): Promise<SecretState> {
  return eventually(
    what,
    async () => {
      const state = await secretState();
      if (state === undefined || !expect(state)) return undefined;
      const bundles = await publishedBundles();
      const trusted = fingerprintsOf(state.caPems).join(',');
      if (!bundles.every((bundle) => bundle !== '' && fingerprintsOf(splitPemCertificates(bundle)).join(',') === trusted)) return undefined;
      for (const replica of replicas) {
        if ((await servedCertificate(replica, bundles[0] ?? '')) !== state.leafFingerprint) return undefined;
      }
      return state;
    },
    90_000,
  );
}

const leader = await startReplica();
await eventually('the first replica leads', () => leader.manager?.isLeader(), 60_000);
// The webhook configurations as a fresh install has them: no caBundle yet.
await installWebhookConfigurations(plane.api, leader.url, '');
const standby = await startReplica();
const replicas = [leader, standby];

t.test('bootstrap: the leader writes CA and serving certificate, publishes the caBundle, both replicas serve it and turn ready', async (t) => {
  const state = await settled('the first certificates everywhere', replicas, () => true);
  t.equal(state.caPems.length, 1, 'one CA');
  t.equal(standby.manager?.isLeader(), false, 'the second replica is a standby');
  const secret = (await plane.api.get(SECRETS, NAMESPACE, 'autostash-webhook-tls')) as KubeObject & { type?: string; data?: Record<string, string> };
  t.equal(secret.type, 'kubernetes.io/tls');
  t.same(Object.keys(secret.data ?? {}).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
  const leaf = new X509Certificate(Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64'));
  t.match(leaf.subjectAltName, /DNS:autostash, DNS:autostash\.autostash, DNS:autostash\.autostash\.svc, DNS:autostash\.autostash\.svc\.cluster\.local/);
  const bundle = (await publishedBundles())[0] ?? '';
  await eventually('both replicas ready', async () => (await Promise.all(replicas.map((r) => readyz(r, bundle)))).every((status) => status === 200), 60_000);
  t.equal(await admittedByPlane(), true, 'the control plane reaches the webhook with the published caBundle');
});

t.test('a serving certificate rotation and a CA rotation, with calls all along and no restart', async (t) => {
  const before = await settled('the first certificates everywhere', replicas, () => true);
  const calling = keepCalling(replicas);

  // 21 min into a 30 min serving certificate: less than a third left.
  offsetMs = 21 * MINUTE;
  const leafRotated = await settled('a new serving certificate everywhere', replicas, (state) => state.leafFingerprint !== before.leafFingerprint);
  t.same(fingerprintsOf(leafRotated.caPems), fingerprintsOf(before.caPems), 'same CA');
  t.equal(leafRotated.leafIssuer, before.leafIssuer);

  // 41 min into a 60 min CA: a new CA, published beside the old one; the serving certificate stays for now.
  offsetMs = 41 * MINUTE;
  const caAdded = await settled('the new CA published beside the old one', replicas, (state) => state.caPems.length === 2);
  t.equal(caAdded.leafFingerprint, leafRotated.leafFingerprint, 'the serving certificate waits for the caBundle to propagate');
  t.same(fingerprintsOf(caAdded.caPems)[1], fingerprintsOf(before.caPems)[0], 'the old CA stays trusted, after the new one');

  // After the propagation delay (2 min) the serving certificate switches to the new CA.
  offsetMs = 44 * MINUTE;
  const switched = await settled('a serving certificate of the new CA everywhere', replicas, (state) => state.leafFingerprint !== caAdded.leafFingerprint);
  const newCa = new X509Certificate(switched.caPems[0] ?? '');
  t.ok(new X509Certificate(await leafPem()).checkIssued(newCa), 'issued by the new CA');

  await eventually('calls after the last rotation', () => calling.calls() > 3, 60_000);
  await calling.stop();
  t.ok(calling.calls() > 3, `${calling.calls()} rounds of calls`);
  t.same(calling.failures, [], 'no call failed across the rotations');
  t.equal(leader.manager?.isLeader(), true, 'no restart, no leader change');
});

t.test('a broken Secret is repaired by the leader; the replicas keep serving meanwhile', async (t) => {
  const before = await settled('settled', replicas, () => true);
  const secret = (await plane.api.get(SECRETS, NAMESPACE, 'autostash-webhook-tls')) as KubeObject & { data: Record<string, string> };
  // A key that does not belong to tls.crt (someone pasted the wrong one).
  await plane.api.update(SECRETS, NAMESPACE, { ...secret, data: { ...secret.data, 'tls.key': secret.data['ca.key'] ?? '' } });
  const repaired = await settled('a new matching serving certificate', replicas, (state) => state.leafFingerprint !== before.leafFingerprint);
  t.same(fingerprintsOf(repaired.caPems), fingerprintsOf(before.caPems), 'the CA is kept');
});

t.test('garbage in the Secret and the caBundles is cleaned up, keeping the CA that still signs', async (t) => {
  const before = await settled('settled', replicas, () => true);
  const secret = (await plane.api.get(SECRETS, NAMESPACE, 'autostash-webhook-tls')) as KubeObject & { data: Record<string, string> };
  const decode = (key: string): string => Buffer.from(secret.data[key] ?? '', 'base64').toString('utf8');
  const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
  const garbageBlock = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
  const expiredCa = (await generateCertificates({ now: new Date(Date.now() - 3 * 24 * 3_600_000), days: 1 })).caCert;
  const noNames = await generateCa({ now: new Date(), notAfter: new Date(Date.now() + 3_600_000) });
  await plane.api.update(SECRETS, NAMESPACE, {
    ...secret,
    data: {
      // The signing CA, then an expired CA and an unparsable block; a serving certificate without names, and no tls.key.
      'ca.crt': b64(decode('ca.crt') + expiredCa + garbageBlock),
      'ca.key': secret.data['ca.key'] ?? '',
      'tls.crt': b64(noNames.cert),
    },
  });
  const mutating = (await plane.api.get(MUTATING, undefined, 'autostash')) as KubeObject & { webhooks: Array<{ clientConfig: Record<string, unknown> }> };
  await plane.api.update(MUTATING, undefined, { ...mutating, webhooks: mutating.webhooks.map((webhook) => ({ ...webhook, clientConfig: { ...webhook.clientConfig, caBundle: b64(garbageBlock) } })) });
  const validating = (await plane.api.get(VALIDATING, undefined, 'autostash')) as KubeObject & { webhooks: Array<{ clientConfig: Record<string, unknown> }> };
  // A caBundle removed altogether (as a re-applied manifest without one would do).
  await plane.api.update(VALIDATING, undefined, { ...validating, webhooks: validating.webhooks.map((webhook) => ({ ...webhook, clientConfig: { url: webhook.clientConfig.url } })) });

  const trustedBefore = fingerprintsOf(before.caPems).join(',');
  const repaired = await settled(
    'a clean Secret and caBundles',
    replicas,
    (state) => state.leafFingerprint !== before.leafFingerprint && fingerprintsOf(state.caPems).join(',') === trustedBefore,
  );
  t.same(fingerprintsOf(repaired.caPems), fingerprintsOf(before.caPems), 'the CAs still valid are kept; the expired and unparsable ones are dropped');
  t.match(new X509Certificate(await leafPem()).subjectAltName, /DNS:autostash\.autostash\.svc/, 'a serving certificate with the Service names');
});

async function leafPem(): Promise<string> {
  const secret = (await plane.api.get(SECRETS, NAMESPACE, 'autostash-webhook-tls')) as KubeObject & { data: Record<string, string> };
  return Buffer.from(secret.data['tls.crt'] ?? '', 'base64').toString('utf8');
}

function readyz(server: RunningServer, caPem: string): Promise<number | Error> {
  return new Promise((resolve) => {
    const req = request(new URL('/readyz', server.url), { ca: caPem, servername: SERVICE_NAME, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', resolve);
    req.end();
  });
}
