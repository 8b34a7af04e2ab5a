import type { ClusterView } from '../cluster-view.js';
import { compileLabelSelector } from '../label-selector.js';
import { isNil } from '../json-access.js';

/**
 * Whether a rule's `namespaceSelector` selects `namespace`: an absent selector selects every namespace;
 * otherwise the labels of the Namespace object in the view must match. A namespace the view does not
 * know is selected only by an absent or empty selector (its labels are unknown, so a selector that
 * asks for labels cannot be decided; the audit re-evaluates once the informer has it). An invalid
 * selector selects nothing (BackupPolicy's own validation rejects it).
 */
export function selectsNamespace(selector: unknown, namespace: string, view: ClusterView): boolean {
  if (isNil(selector)) return true;
  const compiled = compileLabelSelector(selector);
  if (!compiled.ok) return false;
  if (compiled.selector.kind === 'everything') return true;
  const object = view.namespace(namespace);
  if (object === undefined) return false;
  return compiled.selector.matches(object.metadata.labels);
}
