import t from 'tap';
import {
  DEFAULT_RENEW_FRACTION,
  leafNotAfter,
  planPublishOnly,
  planRotation,
  renewalTime,
  trustWith,
  type CertificateFacts,
  type LeafFacts,
  type RotationPolicy,
  type SelfManagedState,
  type SignerFacts,
} from '../../../src/domain/certificates/rotation.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const start = new Date('2030-01-01T00:00:00Z');
/** A fake clock: `at(d)` is `d` days after the start. */
const at = (days: number): Date => new Date(start.getTime() + days * DAY);
const policy: RotationPolicy = { caLifetimeMs: 300 * DAY, leafLifetimeMs: 90 * DAY, renewFraction: DEFAULT_RENEW_FRACTION, propagationMs: DAY, backdateMs: 0 };
const names = ['DNS:autostash', 'DNS:autostash.ns.svc', 'IP:127.0.0.1'];

const ca = (id: string, fromDay: number, days: number, keyMatches = true): SignerFacts => ({ id, notBefore: at(fromDay), notAfter: at(fromDay + days), keyMatches });
const leaf = (issuerId: string | undefined, fromDay: number, days: number, extra: Partial<LeafFacts> = {}): LeafFacts => ({
  id: `leaf-${fromDay}`,
  notBefore: at(fromDay),
  notAfter: at(fromDay + days),
  keyMatches: true,
  issuerId,
  names,
  ...extra,
});
const caA = ca('A', 0, 300);
const caB = ca('B', 250, 300);

/** A settled state: the CA signs, ca.crt is `trusted`, every webhook trusts the same, the leaf is fresh. */
function state(overrides: Partial<SelfManagedState> = {}): SelfManagedState {
  const signer = overrides.signer === undefined && 'signer' in overrides ? undefined : (overrides.signer ?? caA);
  const trusted = overrides.trusted ?? (signer ? [signer] : []);
  return {
    signer,
    trusted,
    leaf: 'leaf' in overrides ? overrides.leaf : leaf('A', 0, 90),
    published: overrides.published ?? [trusted.map((c) => c.id), trusted.map((c) => c.id), trusted.map((c) => c.id)],
    wantedNames: overrides.wantedNames ?? names,
  };
}

const rows: Array<{ rule: string; state: SelfManagedState; now: Date; policy?: RotationPolicy; step: Record<string, unknown> }> = [
  // The CA
  { rule: 'empty Secret: a CA, with a serving certificate in the same write', state: state({ signer: undefined, trusted: [], leaf: undefined, published: [] }), now: at(0), step: { kind: 'new-ca', reason: 'the Secret holds no CA', notAfter: at(300), issueLeaf: true, leafNotAfter: at(90) } },
  { rule: 'ca.key of another CA', state: state({ signer: ca('A', 0, 300, false) }), now: at(10), step: { kind: 'new-ca', reason: 'ca.key does not belong to the CA in ca.crt', issueLeaf: false } },
  { rule: 'CA expired', state: state({ leaf: leaf('A', 250, 50) }), now: at(301), step: { kind: 'new-ca', reason: 'the CA has expired', issueLeaf: true } },
  { rule: 'CA not valid yet', state: state({ signer: ca('A', 5, 300) }), now: at(1), step: { kind: 'new-ca', reason: 'the CA is not valid yet' } },
  { rule: 'CA with less than 1/3 of its lifetime left', state: state({ leaf: leaf('A', 190, 90) }), now: at(201), step: { kind: 'new-ca', reason: 'less than the renewal fraction of the CA lifetime is left', issueLeaf: false, notAfter: at(501) } },
  { rule: 'CA with just over 1/3 left: kept', state: state({ leaf: leaf('A', 190, 90) }), now: at(199), step: { kind: 'none' } },
  { rule: 'a CA renewal while the serving certificate is broken issues one at once', state: state({ leaf: leaf('A', 190, 90, { keyMatches: false }) }), now: at(201), step: { kind: 'new-ca', issueLeaf: true, leafNotAfter: at(291) } },
  { rule: 'a serving certificate not valid yet counts as unusable', state: state({ signer: undefined, trusted: [], leaf: leaf(undefined, 20, 90) }), now: at(10), step: { kind: 'new-ca', issueLeaf: true } },
  // The trust bundle
  { rule: 'an older CA that expired is dropped from ca.crt', state: state({ signer: caB, trusted: [caB, caA], leaf: leaf('B', 290, 90) }), now: at(301), step: { kind: 'write-trust', trust: ['B'] } },
  { rule: 'a new CA not yet published: publish both, newest first', state: state({ signer: caB, trusted: [caB, caA], leaf: leaf('A', 190, 90), published: [['A'], ['A'], ['A']] }), now: at(251), step: { kind: 'publish-ca-bundle', trust: ['B', 'A'] } },
  { rule: 'one webhook entry lagging is enough to publish', state: state({ signer: caB, trusted: [caB, caA], leaf: leaf('A', 190, 90), published: [['B', 'A'], ['A']] }), now: at(251), step: { kind: 'publish-ca-bundle' } },
  { rule: 'an empty caBundle (fresh install) is published', state: state({ published: [[], []] }), now: at(1), step: { kind: 'publish-ca-bundle', trust: ['A'] } },
  // The serving certificate, once the bundle is published
  { rule: 'published: the serving certificate switches to the new CA', state: state({ signer: caB, trusted: [caB, caA], leaf: leaf('A', 190, 90) }), now: at(251), step: { kind: 'new-leaf', reason: 'the serving certificate was issued by another CA', notAfter: at(341) } },
  { rule: 'published, but the new CA is younger than the propagation delay: wait for it', state: state({ signer: caB, trusted: [caB, caA], leaf: leaf('A', 190, 90) }), now: new Date(at(250).getTime() + HOUR), step: { kind: 'none', nextCheckAt: at(251) } },
  { rule: 'the propagation delay counts from the issue time, not the backdated notBefore', state: state({ signer: caB, trusted: [caB, caA], leaf: leaf('A', 190, 90) }), now: at(251), policy: { ...policy, backdateMs: HOUR }, step: { kind: 'none', nextCheckAt: new Date(at(251).getTime() + HOUR) } },
  { rule: 'no webhook configuration yet: nothing to publish, the leaf is renewed anyway', state: state({ leaf: leaf('A', 0, 90), published: [] }), now: at(61), step: { kind: 'new-leaf' } },
  { rule: 'serving certificate missing', state: state({ leaf: undefined }), now: at(1), step: { kind: 'new-leaf', reason: 'the Secret holds no serving certificate', notAfter: at(91) } },
  { rule: 'tls.key of another certificate', state: state({ leaf: leaf('A', 0, 90, { keyMatches: false }) }), now: at(1), step: { kind: 'new-leaf', reason: 'tls.key does not belong to tls.crt' } },
  { rule: 'serving certificate expired', state: state({ leaf: leaf('A', 0, 90) }), now: at(91), step: { kind: 'new-leaf', reason: 'the serving certificate has expired' } },
  { rule: 'serving certificate not valid yet', state: state({ leaf: leaf('A', 5, 90) }), now: at(1), step: { kind: 'new-leaf', reason: 'the serving certificate is not valid yet' } },
  { rule: 'names changed (another namespace)', state: state({ wantedNames: ['DNS:autostash', 'DNS:autostash.other.svc'] }), now: at(1), step: { kind: 'new-leaf', reason: 'the serving certificate names differ from the wanted ones' } },
  { rule: 'same names in another order are fine', state: state({ wantedNames: [...names].reverse() }), now: at(1), step: { kind: 'none' } },
  { rule: 'less than 1/3 of the serving lifetime left', state: state(), now: at(61), step: { kind: 'new-leaf', reason: 'less than the renewal fraction of the serving certificate lifetime is left', notAfter: at(151) } },
  { rule: 'a new serving certificate never outlives its CA', state: state({ leaf: leaf('A', 130, 90) }), now: at(190), step: { kind: 'new-leaf', notAfter: at(280) } },
  { rule: 'near the CA end the serving certificate is cut at the CA end', state: state({ signer: ca('A', 0, 300), leaf: leaf('A', 0, 90) }), now: at(61), step: { kind: 'new-leaf', notAfter: at(151) } },
  // Settled
  { rule: 'all fine: next check at the serving certificate renewal', state: state(), now: at(1), step: { kind: 'none', nextCheckAt: at(60) } },
  { rule: 'all fine: next check at the CA renewal when it comes first', state: state({ leaf: leaf('A', 180, 90) }), now: at(181), step: { kind: 'none', nextCheckAt: at(200) } },
  { rule: 'all fine: next check when an older CA expires', state: state({ signer: caB, trusted: [caB, caA], leaf: leaf('B', 260, 90) }), now: at(261), step: { kind: 'none', nextCheckAt: at(300) } },
];

for (const row of rows) {
  t.test(row.rule, async (t) => {
    t.match(planRotation(row.state, row.policy ?? policy, row.now), row.step);
  });
}

t.test('a CA lifetime shorter than configured counts as its own (a foreign short-lived CA)', async (t) => {
  const short: CertificateFacts = { id: 'x', notBefore: at(0), notAfter: at(30) };
  t.same(renewalTime(short, policy.caLifetimeMs, 1 / 3), at(20));
  t.same(renewalTime({ id: 'y', notBefore: at(0), notAfter: at(300) }, 90 * DAY, 1 / 3), at(270), 'a longer span than configured: the configured lifetime counts');
});

t.test('trustWith: signer first, then valid others, once each', async (t) => {
  t.same(trustWith('B', [caA, caB, caA], at(10)), ['B', 'A']);
  t.same(trustWith('B', [caA], at(300)), ['B'], 'an expired CA is not trusted');
});

t.test('leafNotAfter', async (t) => {
  t.same(leafNotAfter(at(300), policy, at(0)), at(90));
  t.same(leafNotAfter(at(50), policy, at(0)), at(50));
});

t.test('a full life: walking the fake clock, every step leads to a settled state and the leaf is always trusted', async (t) => {
  // A tiny simulator of the adapter, to prove the plan converges and keeps the invariant.
  let counter = 0;
  let signer: SignerFacts | undefined;
  let trusted: CertificateFacts[] = [];
  let current: LeafFacts | undefined;
  let published: string[][] = [[], []];
  const violations: string[] = [];
  for (let day = 0; day <= 1500; day += 1) {
    const now = at(day);
    for (let steps = 0; ; steps++) {
      if (steps >= 5) {
        violations.push(`day ${day}: not settled after 5 steps`);
        break;
      }
      const step = planRotation({ signer, trusted, leaf: current, published, wantedNames: names }, policy, now);
      if (step.kind === 'none') break;
      if (step.kind === 'new-ca') {
        const fresh: SignerFacts = { id: `ca${++counter}`, notBefore: now, notAfter: step.notAfter, keyMatches: true };
        const all = [fresh, ...trusted];
        trusted = trustWith(fresh.id, all, now).map((id) => all.find((c) => c.id === id) as CertificateFacts);
        signer = fresh;
        if (step.issueLeaf) current = { id: `leaf${++counter}`, notBefore: now, notAfter: step.leafNotAfter, keyMatches: true, issuerId: fresh.id, names };
      } else if (step.kind === 'write-trust') {
        trusted = step.trust.map((id) => trusted.find((c) => c.id === id) as CertificateFacts);
      } else if (step.kind === 'publish-ca-bundle') {
        published = published.map(() => [...step.trust]);
      } else {
        current = { id: `leaf${++counter}`, notBefore: now, notAfter: step.notAfter, keyMatches: true, issuerId: signer?.id, names };
      }
      // The invariant: whenever a serving certificate is served, every webhook trusts its issuer.
      if (published.some((bundle) => bundle.length > 0) && current !== undefined) {
        if (!published.every((bundle) => bundle.includes(current?.issuerId ?? ''))) violations.push(`day ${day}: a webhook does not trust the serving certificate's CA after ${step.kind}`);
      }
    }
    if (current === undefined || now >= current.notAfter) violations.push(`day ${day}: no valid serving certificate`);
  }
  t.same(violations, [], 'settles every day within a few steps; the webhooks always trust the serving certificate');
  t.ok(counter > 20, 'several CAs and leaves were issued over four years');
});

t.test('publish-only (a Secret the user keeps): ca.crt goes to every caBundle as it is, nothing else happens', async (t) => {
  const recheck = HOUR;
  t.same(planPublishOnly(state({ published: [[], ['A']] }), at(1), recheck), { kind: 'publish-ca-bundle', trust: ['A'] }, 'an entry without the CA gets it');
  t.same(planPublishOnly(state({ signer: caB, trusted: [caB, caA], published: [['A']] }), at(260), recheck), { kind: 'publish-ca-bundle', trust: ['B', 'A'] }, 'a second CA in ca.crt is published in its order');
  t.same(planPublishOnly(state({ signer: ca('A', 0, 300, false), leaf: undefined, published: [['A'], ['A']] }), at(1), recheck), { kind: 'none', nextCheckAt: new Date(at(1).getTime() + recheck) }, 'published already: no step, whatever the key or serving certificate');
  t.same(planPublishOnly(state({ signer: undefined, trusted: [], published: [['X']] }), at(1), recheck), { kind: 'none', nextCheckAt: new Date(at(1).getTime() + recheck) }, 'no ca.crt: a caBundle set by hand is left alone');
  t.same(planPublishOnly(state({ leaf: leaf('A', 0, 1) }), at(400), recheck).kind, 'none', 'expired certificates are not renewed: the Secret is not ours');
});
