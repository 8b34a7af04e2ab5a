/**
 * Owner references of restored objects (SPEC §11, "re-links ownerReferences to owners that exist"). A dumped
 * reference carries the uid the owner had at backup time; a recreated owner has a new uid, and the garbage
 * collector deletes any object whose owner uid does not exist. So each reference is pointed at the owner as it
 * exists after the restore (same group, kind and name, in the object's restored namespace or cluster-wide), and
 * a reference whose owner does not exist is dropped, leaving the object unowned rather than collected.
 */
import { parseApiVersion } from '../kube-object.js';

/** An ownerReference as the API serves it (only the fields this module reads are typed). */
export interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
  [field: string]: unknown;
}

/**
 * What is known about the owner a reference names: it exists with this uid, it is planned for restore and not
 * restored yet (`pending`), or neither (`missing`).
 */
export type OwnerState = { uid: string } | 'pending' | 'missing';

export type OwnerLinking =
  /** Every reference resolved: the references to write (uids replaced), and the ones dropped for a missing owner. */
  | { ready: true; ownerReferences: OwnerReference[]; relinked: number; dropped: OwnerReference[] }
  /** Some owner is still to be restored: restore the object after it. */
  | { ready: false; waitingFor: OwnerReference[] };

/**
 * `<group>/<kind>/<namespace>/<name>`: the identity of an owner or a restored object, version left out (an owner
 * reference may name another served version of the same kind). Cluster-scoped objects have an empty namespace.
 */
export function ownerKey(apiVersion: string, kind: string, namespace: string | undefined, name: string): string {
  return `${parseApiVersion(apiVersion).group}/${kind}/${namespace ?? ''}/${name}`;
}

/**
 * The keys a reference from an object in `namespace` can mean: the owner in the same namespace and, since an
 * owner may be cluster-scoped, the cluster-wide one. A reference without kind or name means nothing (empty).
 */
export function ownerKeysOf(reference: OwnerReference, namespace: string | undefined): string[] {
  if (!reference.kind || !reference.name) return [];
  const apiVersion = reference.apiVersion ?? '';
  const cluster = ownerKey(apiVersion, reference.kind, undefined, reference.name);
  return namespace ? [ownerKey(apiVersion, reference.kind, namespace, reference.name), cluster] : [cluster];
}

/**
 * Re-links `references` with `stateOf` (see OwnerState). Any pending owner makes the answer `ready: false`
 * with every pending reference, unless `final` (the owner never came: treat pending as missing). Otherwise
 * each reference to an existing owner gets that owner's uid (controller and blockOwnerDeletion kept), a
 * reference to a missing owner or without kind/name is dropped, and two references resolving to the same uid
 * keep the first.
 */
export function linkOwnerReferences(references: readonly OwnerReference[], stateOf: (reference: OwnerReference) => OwnerState, final = false): OwnerLinking {
  const states = references.map((reference) => ({ reference, state: reference.kind && reference.name ? stateOf(reference) : ('missing' as const) }));
  const waitingFor = states.filter((s) => s.state === 'pending').map((s) => s.reference);
  if (waitingFor.length > 0 && !final) return { ready: false, waitingFor };
  const ownerReferences: OwnerReference[] = [];
  const dropped: OwnerReference[] = [];
  let relinked = 0;
  for (const { reference, state } of states) {
    if (typeof state !== 'object') {
      dropped.push(reference);
      continue;
    }
    if (ownerReferences.some((kept) => kept.uid === state.uid)) continue;
    if (reference.uid !== state.uid) relinked++;
    ownerReferences.push({ ...reference, uid: state.uid });
  }
  return { ready: true, ownerReferences, relinked, dropped };
}
