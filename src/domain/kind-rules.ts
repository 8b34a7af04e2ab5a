import type { ClusterView } from './cluster-view.js';
import type { Verdict } from './errors.js';
import type { KubeObject } from './kube-object.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface ValidationContext {
  operation: Operation;
  /** The object after defaulting (for DELETE: the old object). */
  object: KubeObject;
  /** The stored object on UPDATE and DELETE. */
  oldObject?: KubeObject;
  view: ClusterView;
}

/**
 * Defaulting and validation of one kind, as KubeStash's webhooks do them (SPEC §6.2, §6.3).
 * Both are pure: no I/O, no clock, the cluster only through `view`.
 */
export interface KindRules {
  /** Returns a defaulted deep copy; never mutates its input. */
  applyDefaults(object: KubeObject, view: ClusterView): KubeObject;
  /** Checks a defaulted object. */
  validate(context: ValidationContext): Verdict;
}
