/**
 * Self-managed webhook certificates (docs/decisions/0011), run by the leader only: keeps a CA and a
 * serving certificate in the certificate Secret, the CA bundle in every webhook entry of both
 * webhook configurations, and rotates them before they expire in the order
 * src/domain/certificates/rotation.ts decides. Every replica (this one included) loads the serving
 * certificate from the Secret on its own (src/server/certificate-secret.ts). With a Secret the user
 * keeps (`--cert-source secret`) the same loop only publishes its ca.crt (mode `publish-only`).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { DEFAULT_PROPAGATION_MS, planPublishOnly, planRotation, trustWith, type CertificateFacts, type LeafFacts, type RotationPolicy, type RotationStep, type SelfManagedState } from '../../domain/certificates/rotation.js';
import type { KubeClient, ObjectRef } from '../../kube/client.js';
import { CLOCK_SKEW_ALLOWANCE_MS, errorMessage, generateCa, issueServingCertificate, splitPemCertificates, type KeyPair } from '../../server/certificates.js';
import { SECRET_KEYS, SECRET_RESOURCE, SECRET_TYPE, secretValue, type TlsSecret } from '../../server/certificate-secret.js';
import type { KubeObject } from '../../domain/kube-object.js';
import type { Controller, ControllerContext } from '../manager.js';

export const WEBHOOK_CONFIGURATION_TYPES = [
  { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', plural: 'mutatingwebhookconfigurations' },
  { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', plural: 'validatingwebhookconfigurations' },
] as const;

export interface SelfManagedCertificatesOptions {
  /** Namespace and name of the certificate Secret. */
  namespace: string;
  secretName: string;
  /** Name of both webhook configurations. Default `autostash`. */
  webhookConfigurationName?: string;
  /** Names the serving certificate carries. */
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  /** Lifetimes and renewal fraction; the propagation delay defaults to 2 min. */
  policy: Pick<RotationPolicy, 'caLifetimeMs' | 'leafLifetimeMs' | 'renewFraction'> & Partial<Pick<RotationPolicy, 'propagationMs'>>;
  /** Wall clock (a fake one in tests). Default the system clock. */
  now?: (() => Date) | undefined;
  /** Longest real wait between two checks, whatever the plan says. Default 1 h. */
  maxRecheckMs?: number | undefined;
  /** Wait after a failed round. Default 5 s. */
  retryMs?: number;
  /**
   * `publish-only` for a Secret someone else keeps (`--cert-source secret`): only its ca.crt is copied to
   * the caBundles; nothing is generated or written to the Secret. Default `self-managed`.
   */
  mode?: 'self-managed' | 'publish-only';
}

/** Most steps one round takes; a plan settles in at most four (new CA, trust, publish, leaf). */
const MAX_STEPS_PER_ROUND = 8;

interface Configuration {
  ref: ObjectRef;
  object: KubeObject & { webhooks?: Array<{ name?: string; clientConfig?: { caBundle?: string } }> };
}

/** What one read of the cluster found: the facts for the plan, and the material to act on them. */
interface Observed {
  secret: TlsSecret | undefined;
  configurations: Configuration[];
  state: SelfManagedState;
  /** PEM of every certificate of ca.crt by id. */
  pems: Map<string, string>;
  signerKey: string | undefined;
}

const normalizedNames = (dnsNames: readonly string[], ipAddresses: readonly string[]): string[] => [
  ...dnsNames.map((name) => `DNS:${name}`),
  ...ipAddresses.map((ip) => `IP:${ip}`),
];

/** `DNS:a, IP Address:127.0.0.1` (node's subjectAltName) as `DNS:a`, `IP:127.0.0.1`. */
const namesOf = (certificate: X509Certificate): string[] =>
  (certificate.subjectAltName ?? '').split(', ').filter((name) => name !== '').map((name) => name.replace(/^IP Address:/, 'IP:'));

const factsOf = (certificate: X509Certificate): CertificateFacts => ({
  id: certificate.fingerprint256,
  notBefore: new Date(certificate.validFrom),
  notAfter: new Date(certificate.validTo),
});

function parseCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/** Whether `keyPem` (absent: empty) is the private key of `certificate`. */
function keyMatches(certificate: X509Certificate, keyPem: string | undefined): boolean {
  try {
    return certificate.checkPrivateKey(createPrivateKey(keyPem ?? ''));
  } catch {
    return false;
  }
}

/** The ids of the CAs a caBundle (base64 PEM) holds; an unparsable block counts as `unparsable`. */
const bundleIds = (caBundle: string | undefined): string[] =>
  splitPemCertificates(Buffer.from(caBundle ?? '', 'base64').toString('utf8')).map((pem) => parseCertificate(pem)?.fingerprint256 ?? 'unparsable');

/** The self-managed certificates controller; give it to the manager (it runs on the leader only). */
export function selfManagedCertificatesController(options: SelfManagedCertificatesOptions): Controller {
  const now = options.now ?? (() => new Date());
  const configurationName = options.webhookConfigurationName ?? 'autostash';
  const maxRecheckMs = options.maxRecheckMs ?? 3_600_000;
  const retryMs = options.retryMs ?? 5_000;
  const policy: RotationPolicy = { propagationMs: DEFAULT_PROPAGATION_MS, backdateMs: CLOCK_SKEW_ALLOWANCE_MS, ...options.policy };
  const wantedNames = normalizedNames(options.dnsNames, options.ipAddresses);
  const secretRef: ObjectRef = { ...SECRET_RESOURCE.type, namespace: options.namespace, name: options.secretName };
  const secretFields = { secret: `${options.namespace}/${options.secretName}` };

  async function observe(client: KubeClient, signal: AbortSignal): Promise<Observed> {
    const secret = await client.find<TlsSecret>(secretRef, { signal });
    const value = (key: string): string | undefined => (secret === undefined ? undefined : secretValue(secret, key));
    const configurations: Configuration[] = [];
    for (const type of WEBHOOK_CONFIGURATION_TYPES) {
      const ref = { apiVersion: type.apiVersion, kind: type.kind, name: configurationName };
      const object = await client.find<Configuration['object']>(ref, { signal });
      if (object !== undefined) configurations.push({ ref, object });
    }
    const caCertificates = splitPemCertificates(value(SECRET_KEYS.ca) ?? '')
      .map((pem) => ({ pem, certificate: parseCertificate(pem) }))
      .filter((entry): entry is { pem: string; certificate: X509Certificate } => entry.certificate !== undefined);
    const pems = new Map(caCertificates.map(({ pem, certificate }) => [certificate.fingerprint256, pem]));
    const signerKey = value(SECRET_KEYS.caKey);
    const first = caCertificates[0]?.certificate;
    const leafCertificate = parseCertificate(value(SECRET_KEYS.cert) ?? '');
    let leaf: LeafFacts | undefined;
    if (leafCertificate !== undefined) {
      const issuer = caCertificates.find(({ certificate }) => leafCertificate.checkIssued(certificate) && leafCertificate.verify(certificate.publicKey));
      leaf = {
        ...factsOf(leafCertificate),
        keyMatches: keyMatches(leafCertificate, value(SECRET_KEYS.key)),
        issuerId: issuer?.certificate.fingerprint256,
        names: namesOf(leafCertificate),
      };
    }
    return {
      secret,
      configurations,
      pems,
      signerKey,
      state: {
        signer: first === undefined ? undefined : { ...factsOf(first), keyMatches: keyMatches(first, signerKey) },
        trusted: caCertificates.map(({ certificate }) => factsOf(certificate)),
        leaf,
        published: configurations.flatMap(({ object }) => (object.webhooks ?? []).map((webhook) => bundleIds(webhook.clientConfig?.caBundle))),
        wantedNames,
      },
    };
  }

  async function writeSecret(client: KubeClient, observed: Observed, data: Record<string, string>, signal: AbortSignal): Promise<void> {
    const encoded = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'utf8').toString('base64')]));
    if (observed.secret === undefined) {
      await client.create<TlsSecret>(
        {
          ...SECRET_RESOURCE.type,
          metadata: { namespace: options.namespace, name: options.secretName, labels: { 'app.kubernetes.io/name': 'autostash', 'app.kubernetes.io/managed-by': 'autostash' } },
          type: SECRET_TYPE,
          data: encoded,
        },
        { signal },
      );
      return;
    }
    await client.update<TlsSecret>({ ...observed.secret, ...SECRET_RESOURCE.type, data: { ...observed.secret.data, ...encoded } }, { signal });
  }

  const issueLeaf = (ca: KeyPair, issuedAt: Date, notAfter: Date): Promise<KeyPair> =>
    issueServingCertificate({ ca, dnsNames: options.dnsNames, ipAddresses: options.ipAddresses, now: issuedAt, notAfter });

  async function carryOut(step: Exclude<RotationStep, { kind: 'none' }>, observed: Observed, context: ControllerContext, at: Date): Promise<void> {
    const { client, signal, logger } = context;
    const pemsOf = (ids: readonly string[], extra: Map<string, string>): string => ids.map((id) => extra.get(id) ?? observed.pems.get(id)).join('');
    switch (step.kind) {
      case 'new-ca': {
        const ca = await generateCa({ now: at, notAfter: step.notAfter });
        const caCertificate = new X509Certificate(ca.cert);
        const trust = trustWith(caCertificate.fingerprint256, [factsOf(caCertificate), ...observed.state.trusted], at);
        const data: Record<string, string> = { [SECRET_KEYS.ca]: pemsOf(trust, new Map([[caCertificate.fingerprint256, ca.cert]])), [SECRET_KEYS.caKey]: ca.key };
        if (step.issueLeaf) {
          const leaf = await issueLeaf(ca, at, step.leafNotAfter);
          data[SECRET_KEYS.cert] = leaf.cert;
          data[SECRET_KEYS.key] = leaf.key;
        }
        await writeSecret(client, observed, data, signal);
        logger.info({ ...secretFields, reason: step.reason, notAfter: step.notAfter.toISOString(), servingCertificateIssued: step.issueLeaf }, 'generated a new webhook CA');
        return;
      }
      case 'write-trust':
        await writeSecret(client, observed, { [SECRET_KEYS.ca]: pemsOf(step.trust, new Map()) }, signal);
        logger.info({ ...secretFields, cas: step.trust.length }, 'dropped expired CAs from the trust bundle');
        return;
      case 'publish-ca-bundle': {
        const caBundle = Buffer.from(pemsOf(step.trust, new Map()), 'utf8').toString('base64');
        for (const { ref, object } of observed.configurations) {
          // `test` on each entry's name: a concurrent edit that reorders the webhooks fails the patch instead of mixing them up.
          const patch = (object.webhooks ?? []).flatMap((webhook, index) => [
            { op: 'test', path: `/webhooks/${index}/name`, value: webhook.name },
            { op: 'add', path: `/webhooks/${index}/clientConfig/caBundle`, value: caBundle },
          ]);
          await client.patch(ref, { type: 'json', patch }, { signal });
        }
        logger.info({ configurations: observed.configurations.map(({ ref }) => ref.kind), cas: step.trust.length }, 'published the webhook CA bundle');
        return;
      }
      case 'new-leaf': {
        // The plan issues a leaf only with a signer whose key matches: both are in the Secret.
        const signer = observed.state.signer as CertificateFacts;
        const leaf = await issueLeaf({ cert: observed.pems.get(signer.id) as string, key: observed.signerKey as string }, at, step.notAfter);
        await writeSecret(client, observed, { [SECRET_KEYS.cert]: leaf.cert, [SECRET_KEYS.key]: leaf.key }, signal);
        logger.info({ ...secretFields, reason: step.reason, notAfter: step.notAfter.toISOString() }, 'issued a new serving certificate');
        return;
      }
    }
  }

  /** Steps until the plan settles; answers when to look again. */
  async function reconcile(context: ControllerContext): Promise<Date> {
    for (let steps = 0; steps < MAX_STEPS_PER_ROUND; steps++) {
      const at = now();
      const observed = await observe(context.client, context.signal);
      const step = options.mode === 'publish-only' ? planPublishOnly(observed.state, at, maxRecheckMs) : planRotation(observed.state, policy, at);
      if (step.kind === 'none') return step.nextCheckAt;
      await carryOut(step, observed, context, at);
    }
    throw new Error(`the certificate plan did not settle within ${MAX_STEPS_PER_ROUND} steps`);
  }

  return {
    name: 'certificates',
    async start(context) {
      const { informers, signal, logger } = context;
      let wake: (() => void) | undefined;
      let pending = false;
      const kick = (): void => {
        pending = true;
        wake?.();
      };
      const watched = [
        informers.informerFor(SECRET_RESOURCE.type, { namespace: options.namespace, fieldSelector: `metadata.name=${options.secretName}`, resource: SECRET_RESOURCE.resource }),
        ...WEBHOOK_CONFIGURATION_TYPES.map((type) =>
          informers.informerFor({ apiVersion: type.apiVersion, kind: type.kind }, { fieldSelector: `metadata.name=${configurationName}`, resource: { plural: type.plural, namespaced: false } }),
        ),
      ];
      for (const informer of watched) informer.addEventHandler({ add: kick, update: kick, delete: kick });
      signal.addEventListener('abort', () => wake?.(), { once: true });

      while (!signal.aborted) {
        pending = false;
        let waitMs: number;
        try {
          const nextCheckAt = await reconcile(context);
          waitMs = Math.min(Math.max(nextCheckAt.getTime() - now().getTime(), 1_000), maxRecheckMs);
        } catch (error) {
          if (signal.aborted) break;
          // A conflict (someone else wrote the Secret) is retried like any other failure.
          logger.warn({ ...secretFields, err: errorMessage(error), retryMs }, 'webhook certificate round failed; retrying');
          waitMs = retryMs;
        }
        if (pending || signal.aborted) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    },
  };
}
