/**
 * The per-write steps between a client's object and the stored one that do not depend on stored
 * state: defaulting (built-in and CRD schema defaults with pruning) and validation (names, built-in
 * rules, CRD rules). Both run before and after mutating admission, as kube-apiserver does.
 */
import type { KubeObject } from '../../domain/kube-object.js';
import type { ResourceType } from '../api-types.js';
import { invalid, type InvalidCause } from './api-errors.js';
import { applyBuiltinDefaults, builtinCauses } from './builtin-semantics.js';
import { crdCauses } from './crd-types.js';
import { nameProblems } from './object-names.js';
import { applyStructuralDefaults, pruneUnknownFields } from './structural-schema.js';

/** Fills defaults and, for custom resources, prunes unknown fields; in place. */
export function applyDefaults(type: ResourceType, object: KubeObject): void {
  applyBuiltinDefaults(type, object);
  if (type.schema) {
    pruneUnknownFields(object, type.schema);
    applyStructuralDefaults(object, type.schema);
  }
}

const isCrd = (type: ResourceType): boolean => type.group === 'apiextensions.k8s.io' && type.resource === 'customresourcedefinitions';

/** Throws 422 Invalid listing every problem with the object (name, built-in rules, CRD rules). */
export function assertValid(type: ResourceType, object: KubeObject): void {
  const name = object.metadata?.name ?? '';
  const causes: InvalidCause[] = [];
  if (name === '') {
    causes.push({ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
  } else {
    for (const problem of nameProblems(type.group, type.resource, name)) {
      causes.push({ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": ${problem}` });
    }
  }
  causes.push(...builtinCauses(type, object));
  if (isCrd(type)) causes.push(...crdCauses(object));
  if (causes.length > 0) throw invalid(type, type.kind, name, causes);
}
