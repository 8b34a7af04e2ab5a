/**
 * Decisions of the self-managed webhook certificates (docs/decisions/0011): when the CA and the
 * serving certificate are renewed, what the trust bundle holds, and in which order the steps run so
 * that no admission call fails across a rotation. Pure: the adapter reads the Secret and the webhook
 * configurations into {@link SelfManagedState}, asks {@link planRotation} for the next step, carries
 * it out, reads again and repeats until the answer is `none`.
 */

/** What the adapter read from one certificate. */
export interface CertificateFacts {
  /** A stable identity, e.g. the SHA-256 fingerprint. */
  id: string;
  notBefore: Date;
  notAfter: Date;
}

/** The signing CA: the first certificate of ca.crt, with whether ca.key belongs to it. */
export interface SignerFacts extends CertificateFacts {
  keyMatches: boolean;
}

/** The serving certificate (tls.crt) and how it relates to the rest of the Secret. */
export interface LeafFacts extends CertificateFacts {
  /** Whether tls.key belongs to it. */
  keyMatches: boolean;
  /** `id` of the certificate in ca.crt that issued it; undefined when none did. */
  issuerId: string | undefined;
  /** Its subject alternative names, normalized as `DNS:<name>` and `IP:<address>`. */
  names: readonly string[];
}

export interface SelfManagedState {
  /** Undefined when the Secret has no parsable ca.crt. */
  signer: SignerFacts | undefined;
  /** Every certificate of ca.crt, in order (the signer first). */
  trusted: readonly CertificateFacts[];
  /** Undefined when the Secret has no parsable tls.crt. */
  leaf: LeafFacts | undefined;
  /**
   * The CA ids each webhook entry of both configurations trusts (its caBundle), one list per entry;
   * empty when no configuration exists yet (nobody calls the webhook then, so nothing can break).
   */
  published: readonly (readonly string[])[];
  /** The names the serving certificate must carry (same normalization as {@link LeafFacts.names}). */
  wantedNames: readonly string[];
}

export interface RotationPolicy {
  /** Lifetime of a new CA. */
  caLifetimeMs: number;
  /** Lifetime of a new serving certificate (cut short at its CA's end). */
  leafLifetimeMs: number;
  /** Renew when less than this fraction of a certificate's lifetime is left; 1/3 by default. */
  renewFraction: number;
  /**
   * How long a new CA must have existed before the serving certificate switches to it: time for every
   * API server to see the published caBundle (they read webhook configurations through informers).
   */
  propagationMs: number;
  /** How far before its issue time a certificate's notBefore lies (the generator's clock-skew allowance). */
  backdateMs: number;
}

export const DEFAULT_RENEW_FRACTION = 1 / 3;
export const DEFAULT_PROPAGATION_MS = 2 * 60_000;

export type RotationStep =
  /**
   * Generate a CA valid until `notAfter`; ca.crt becomes {@link trustWith}(new CA): the new one first,
   * then the still valid older ones. With `issueLeaf` (no usable serving certificate exists, so nobody
   * can be broken) a serving certificate is issued by it in the same write; otherwise the current one
   * stays until the new CA is published.
   */
  | { kind: 'new-ca'; reason: string; notAfter: Date; issueLeaf: boolean; leafNotAfter: Date }
  /** Rewrite ca.crt as exactly `trust` (drops CAs that have expired). */
  | { kind: 'write-trust'; trust: readonly string[] }
  /** Set every webhook entry's caBundle to the certificates `trust` names, in that order. */
  | { kind: 'publish-ca-bundle'; trust: readonly string[] }
  /** Issue a serving certificate with the signer, valid until `notAfter`. */
  | { kind: 'new-leaf'; reason: string; notAfter: Date }
  /** Everything is in order; look again at `nextCheckAt`. */
  | { kind: 'none'; nextCheckAt: Date };

/** The lifetime renewal is measured against: the configured one, or the certificate's own span when shorter. */
function lifetimeOf(certificate: CertificateFacts, configuredMs: number): number {
  return Math.min(configuredMs, certificate.notAfter.getTime() - certificate.notBefore.getTime());
}

/** When `certificate` is due for renewal: once less than `fraction` of its lifetime is left. */
export function renewalTime(certificate: CertificateFacts, configuredLifetimeMs: number, fraction: number): Date {
  return new Date(certificate.notAfter.getTime() - fraction * lifetimeOf(certificate, configuredLifetimeMs));
}

const isValidAt = (certificate: CertificateFacts, now: Date): boolean =>
  certificate.notBefore.getTime() <= now.getTime() && now.getTime() < certificate.notAfter.getTime();

/** Why the signer must be replaced, or undefined when it can keep signing. */
function signerProblem(signer: SignerFacts | undefined, policy: RotationPolicy, now: Date): string | undefined {
  if (signer === undefined) return 'the Secret holds no CA';
  if (!signer.keyMatches) return 'ca.key does not belong to the CA in ca.crt';
  if (!isValidAt(signer, now)) return now < signer.notBefore ? 'the CA is not valid yet' : 'the CA has expired';
  if (now >= renewalTime(signer, policy.caLifetimeMs, policy.renewFraction)) return 'less than the renewal fraction of the CA lifetime is left';
  return undefined;
}

/** Why the serving certificate cannot be served at all, or undefined when it can. */
function leafUnusable(leaf: LeafFacts | undefined, now: Date): string | undefined {
  if (leaf === undefined) return 'the Secret holds no serving certificate';
  if (!leaf.keyMatches) return 'tls.key does not belong to tls.crt';
  if (!isValidAt(leaf, now)) return now < leaf.notBefore ? 'the serving certificate is not valid yet' : 'the serving certificate has expired';
  return undefined;
}

/** Why the serving certificate must be reissued by `signer`, or undefined when it is fine. */
function leafProblem(state: SelfManagedState, signer: SignerFacts, policy: RotationPolicy, now: Date): string | undefined {
  const unusable = leafUnusable(state.leaf, now);
  if (unusable !== undefined || state.leaf === undefined) return unusable;
  const leaf = state.leaf;
  if (leaf.issuerId !== signer.id) {
    // A usable leaf of an older CA switches once the new CA's caBundle had time to reach every API server.
    return now >= switchTime(signer, policy) ? 'the serving certificate was issued by another CA' : undefined;
  }
  if (!sameSet(leaf.names, state.wantedNames)) return 'the serving certificate names differ from the wanted ones';
  if (now >= renewalTime(leaf, policy.leafLifetimeMs, policy.renewFraction)) return 'less than the renewal fraction of the serving certificate lifetime is left';
  return undefined;
}

/** When a serving certificate of an older CA may switch to `signer`. */
const switchTime = (signer: CertificateFacts, policy: RotationPolicy): Date => new Date(signer.notBefore.getTime() + policy.backdateMs + policy.propagationMs);

/**
 * The trust bundle with `signerId` as signer: it first, then every other certificate of `trusted`
 * still valid at `now` (a replica may still serve a certificate an older CA issued, so an older CA
 * stays trusted until it expires).
 */
export function trustWith(signerId: string, trusted: readonly CertificateFacts[], now: Date): string[] {
  const others = trusted.filter((certificate) => certificate.id !== signerId && now < certificate.notAfter).map((certificate) => certificate.id);
  return [signerId, ...new Set(others)];
}

/** End of a serving certificate issued at `now`: its configured lifetime, but never past its CA. */
export function leafNotAfter(signerNotAfter: Date, policy: RotationPolicy, now: Date): Date {
  return new Date(Math.min(now.getTime() + policy.leafLifetimeMs, signerNotAfter.getTime()));
}

/**
 * The next step towards a Secret with a CA and a serving certificate that are not due for renewal,
 * trusted by every webhook entry. The order is what keeps admissions working: a new CA is written
 * first (kept beside the old one in ca.crt), then published to every caBundle, and only then does the
 * serving certificate switch to it, {@link RotationPolicy.propagationMs} after the CA was made.
 */
export function planRotation(state: SelfManagedState, policy: RotationPolicy, now: Date): RotationStep {
  const caReason = signerProblem(state.signer, policy, now);
  if (caReason !== undefined) {
    const notAfter = new Date(now.getTime() + policy.caLifetimeMs);
    return { kind: 'new-ca', reason: caReason, notAfter, issueLeaf: leafUnusable(state.leaf, now) !== undefined, leafNotAfter: leafNotAfter(notAfter, policy, now) };
  }
  const signer = state.signer as SignerFacts;
  const trust = trustWith(signer.id, state.trusted, now);
  if (!sameList(trust, state.trusted.map((certificate) => certificate.id))) return { kind: 'write-trust', trust };
  if (state.published.some((bundle) => !sameList(bundle, trust))) return { kind: 'publish-ca-bundle', trust };
  const reason = leafProblem(state, signer, policy, now);
  if (reason !== undefined) return { kind: 'new-leaf', reason, notAfter: leafNotAfter(signer.notAfter, policy, now) };

  const leaf = state.leaf as LeafFacts;
  const checks = [
    renewalTime(signer, policy.caLifetimeMs, policy.renewFraction).getTime(),
    leaf.issuerId === signer.id ? renewalTime(leaf, policy.leafLifetimeMs, policy.renewFraction).getTime() : switchTime(signer, policy).getTime(),
    ...state.trusted.filter((certificate) => certificate.id !== signer.id).map((certificate) => certificate.notAfter.getTime()),
  ];
  return { kind: 'none', nextCheckAt: new Date(Math.min(...checks)) };
}

/**
 * The only step for a Secret someone else keeps (`--cert-source secret`): nobody else sets the caBundle
 * (cert-manager has its cainjector; a user Secret has nothing), so every webhook entry gets the CAs of
 * ca.crt as they are, in that order. A Secret without a parsable ca.crt publishes nothing: an empty
 * caBundle would replace one the user set by hand. Never generates or rewrites anything.
 */
export function planPublishOnly(state: SelfManagedState, now: Date, recheckMs: number): RotationStep {
  const trust = [...new Set(state.trusted.map((certificate) => certificate.id))];
  if (trust.length > 0 && state.published.some((bundle) => !sameList(bundle, trust))) return { kind: 'publish-ca-bundle', trust };
  return { kind: 'none', nextCheckAt: new Date(now.getTime() + recheckMs) };
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((value, index) => value === b[index]);

const sameSet = (a: readonly string[], b: readonly string[]): boolean => {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((value) => right.has(value));
};
