import type { ClusterView } from '../domain/cluster-view.js';
import { ErrorCodes, fieldError, type FieldError } from '../domain/errors.js';
import type { KindRules } from '../domain/kind-rules.js';
import { groupKindKey, parseApiVersion, type KubeObject } from '../domain/kube-object.js';
import { objectShapeError } from '../domain/object-shape.js';
import type { ManifestDocument } from './parse-documents.js';

export type Scope = 'Namespaced' | 'Cluster';

export interface DocumentVerdict {
  source: string;
  line: number;
  kind: string;
  /** `<namespace>/<name>` for namespaced objects, `<name>` for cluster-scoped ones. */
  displayName: string;
  /** False when autostash has no rules for the kind: only apiVersion, kind and metadata were checked. */
  checked: boolean;
  errors: FieldError[];
  warnings: string[];
}

export interface ValidateDocumentsOptions {
  /** Rules per `group/Kind`, with schema defaults and schema validation folded in. */
  rules: ReadonlyMap<string, KindRules>;
  /** Scope of a kind autostash knows, undefined for other kinds. */
  scopeOf: (group: string, kind: string) => Scope | undefined;
  /** Builds the cluster view from the documents (after defaulting). */
  createView: (objects: KubeObject[]) => ClusterView;
}

/** Built-in kinds that are cluster-scoped, so their names print without a namespace. */
const CLUSTER_SCOPED_BUILTINS = new Set([
  '/Namespace',
  '/Node',
  '/PersistentVolume',
  'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/ClusterRoleBinding',
  'storage.k8s.io/StorageClass',
  'apiextensions.k8s.io/CustomResourceDefinition',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
]);

interface Prepared {
  doc: ManifestDocument;
  object: KubeObject;
  kind: string;
  displayName: string;
  rules: KindRules | undefined;
  errors: FieldError[];
  /** The envelope has wrong types: the document is reported, not put into the cluster view. */
  malformed: boolean;
}

function prepare(doc: ManifestDocument, options: ValidateDocumentsOptions): Prepared {
  const errors: FieldError[] = [];
  const shape = objectShapeError(doc.object);
  if (shape !== undefined) {
    // Wrong envelope types (`metadata: null`, `apiVersion: 7`): report them and keep the document away from the rules and the view.
    const kind = typeof doc.object.kind === 'string' && doc.object.kind !== '' ? doc.object.kind : '<unknown>';
    const metadata = doc.object.metadata as Record<string, unknown> | null | undefined;
    const displayName = typeof metadata === 'object' && metadata !== null && typeof metadata.name === 'string' ? metadata.name : '<unnamed>';
    return { doc, object: doc.object, kind, displayName, rules: undefined, errors: [fieldError(ErrorCodes.TypeInvalid, shape.path, shape.reason)], malformed: true };
  }
  const { apiVersion, kind } = doc.object;
  const kindName = typeof kind === 'string' && kind !== '' ? kind : '<unknown>';
  if (typeof apiVersion !== 'string' || apiVersion === '') errors.push(fieldError(ErrorCodes.Required, 'apiVersion', 'Required value: every object needs an apiVersion, e.g. core.kubestash.com/v1alpha1'));
  if (typeof kind !== 'string' || kind === '') errors.push(fieldError(ErrorCodes.Required, 'kind', 'Required value: every object needs a kind, e.g. BackupConfiguration'));
  const metadata = doc.object.metadata;
  const name = typeof metadata?.name === 'string' ? metadata.name : undefined;
  if (metadata === undefined || typeof metadata !== 'object' || metadata === null) {
    errors.push(fieldError(ErrorCodes.Required, 'metadata', 'Required value: every object needs metadata with a name'));
  } else if (name === undefined && typeof metadata.generateName !== 'string') {
    errors.push(fieldError(ErrorCodes.Required, 'metadata.name', 'Required value: name or generateName is required'));
  }
  const group = typeof apiVersion === 'string' ? parseApiVersion(apiVersion).group : '';
  const key = groupKindKey({ group, kind: kindName });
  const scope = options.scopeOf(group, kindName) ?? (CLUSTER_SCOPED_BUILTINS.has(key) ? 'Cluster' : 'Namespaced');
  let object = doc.object;
  const shownName = name ?? (typeof metadata?.generateName === 'string' ? `${metadata.generateName}*` : '<unnamed>');
  let displayName = shownName;
  if (scope === 'Namespaced') {
    // kubectl puts objects without a namespace into "default"; the rules must see the same.
    const namespace = typeof metadata?.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : 'default';
    if (metadata !== undefined && metadata.namespace !== namespace) object = { ...object, metadata: { ...metadata, namespace } };
    displayName = `${namespace}/${shownName}`;
  }
  return { doc, object, kind: kindName, displayName, rules: errors.length === 0 ? options.rules.get(key) : undefined, errors, malformed: false };
}

/**
 * Validates manifests offline as the webhook would on CREATE: the documents themselves are the
 * cluster (after defaulting), so references between them resolve. Pure; never throws for bad input.
 */
export function validateDocuments(documents: readonly ManifestDocument[], options: ValidateDocumentsOptions): DocumentVerdict[] {
  const prepared = documents.map((doc) => prepare(doc, options));
  // Objects in a cluster are stored defaulted; default against the raw documents first so that
  // defaulting that reads other objects (a BackupConfiguration's default storage) sees defaulted ones.
  const wellFormed = prepared.filter((p) => !p.malformed);
  const rawView = options.createView(wellFormed.map((p) => p.object));
  const firstPass = wellFormed.map((p) => (p.rules ? safeDefaults(p.rules, p.object, rawView) ?? p.object : p.object));
  const view = options.createView(firstPass);

  return prepared.map((p): DocumentVerdict => {
    const base = { source: p.doc.source, line: p.doc.line, kind: p.kind, displayName: p.displayName };
    if (p.rules === undefined) return { ...base, checked: p.errors.length > 0, errors: p.errors, warnings: [] };
    try {
      const object = p.rules.applyDefaults(p.object, view);
      const verdict = p.rules.validate({ operation: 'CREATE', object, view });
      return { ...base, checked: true, errors: verdict.errors, warnings: verdict.warnings };
    } catch (error) {
      return { ...base, checked: true, errors: [fieldError(ErrorCodes.Invalid, '', `internal error while validating: ${(error as Error).message}`)], warnings: [] };
    }
  });
}

function safeDefaults(rules: KindRules, object: KubeObject, view: ClusterView): KubeObject | undefined {
  try {
    return rules.applyDefaults(object, view);
  } catch {
    return undefined;
  }
}
