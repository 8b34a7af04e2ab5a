/**
 * Patch application as kube-apiserver does it: JSON patch (RFC 6902), JSON merge patch (RFC 7386)
 * and a documented subset of strategic merge patch: merge-patch semantics plus the `$patch:
 * delete|replace` directives, `$deleteFromPrimitiveList/<key>`, and lists of objects merged by key
 * for the common keyed lists (containers, initContainers, ephemeralContainers, volumes,
 * volumeMounts (mountPath), env, ports, imagePullSecrets, ownerReferences (uid)). Other
 * strategic directives (`$setElementOrder`, `$retainKeys`) are accepted and ignored.
 */
import fastJsonPatch from 'fast-json-patch';
import type { KubeObject } from '../../domain/kube-object.js';
import { ApiError } from '../api-types.js';
import { badRequest } from './api-errors.js';

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Applies an RFC 6902 patch; 400 for a malformed patch, 422 when an operation cannot apply. */
export function applyJsonPatch(document: KubeObject, patch: unknown): KubeObject {
  if (!Array.isArray(patch)) throw badRequest('json patch must be an array of operations');
  const validationError = fastJsonPatch.validate(patch as fastJsonPatch.Operation[], structuredClone(document));
  if (validationError) {
    const malformed = ['SEQUENCE_NOT_AN_ARRAY', 'OPERATION_NOT_AN_OBJECT', 'OPERATION_OP_INVALID', 'OPERATION_PATH_INVALID', 'OPERATION_FROM_REQUIRED', 'OPERATION_VALUE_REQUIRED', 'OPERATION_VALUE_CANNOT_CONTAIN_UNDEFINED'];
    if (malformed.includes(validationError.name)) throw badRequest(`invalid json patch: ${validationError.message.split('\n')[0] ?? ''}`);
    throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${validationError.message.split('\n')[0] ?? ''}`);
  }
  return fastJsonPatch.applyPatch(structuredClone(document), patch as fastJsonPatch.Operation[], false, false).newDocument;
}

/** RFC 7386: objects merge recursively, `null` deletes, anything else replaces. */
export function mergePatchValue(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  const result: Fields = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatchValue(result[key], value);
  }
  return result;
}

/** Applies a JSON merge patch to an object; 400 when the patch is not an object. */
export function applyMergePatch(document: KubeObject, patch: unknown): KubeObject {
  if (!isRecord(patch)) throw badRequest('merge patch must be a JSON object');
  return mergePatchValue(document, patch) as KubeObject;
}

/** Merge key of a keyed list, by field name; `ports` picks whichever key its elements carry. */
const MERGE_KEYS: Record<string, string[]> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  env: ['name'],
  imagePullSecrets: ['name'],
  ownerReferences: ['uid'],
  ports: ['containerPort', 'port', 'name'],
};

function mergeKeyFor(field: string, elements: unknown[]): string | undefined {
  const candidates = MERGE_KEYS[field];
  if (!candidates) return undefined;
  return candidates.find((key) => elements.every((element) => isRecord(element) && element[key] !== undefined));
}

function mergeKeyedList(target: unknown[], patch: unknown[], key: string): unknown[] {
  const result = target.map((element) => structuredClone(element));
  for (const patchElement of patch) {
    if (!isRecord(patchElement)) continue;
    const index = result.findIndex((element) => isRecord(element) && element[key] === patchElement[key]);
    if (patchElement.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (patchElement.$patch === 'replace') {
      const { $patch: _directive, ...replacement } = patchElement;
      if (index >= 0) result[index] = replacement;
      else result.push(replacement);
      continue;
    }
    if (index >= 0) result[index] = strategicMergeValue(result[index], patchElement);
    else result.push(strategicMergeValue(undefined, patchElement));
  }
  return result;
}

/** Strategic merge of one value (see the file comment for the supported subset). */
export function strategicMergeValue(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _directive, ...replacement } = patch;
    return stripDirectives(replacement);
  }
  if (patch.$patch === 'delete') return undefined;
  const result: Fields = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key.startsWith('$setElementOrder/') || key === '$retainKeys') continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const listKey = key.slice('$deleteFromPrimitiveList/'.length);
      const existing = result[listKey];
      if (Array.isArray(existing) && Array.isArray(value)) result[listKey] = existing.filter((item) => !value.includes(item));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const existing = result[key];
    if (Array.isArray(value)) {
      const mergeKey = mergeKeyFor(key, value);
      result[key] = mergeKey && Array.isArray(existing) ? mergeKeyedList(existing, value, mergeKey) : stripDirectives(value);
      continue;
    }
    const merged = strategicMergeValue(existing, value);
    if (merged === undefined) delete result[key];
    else result[key] = merged;
  }
  return result;
}

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((element) => !(isRecord(element) && element.$patch === 'delete')).map(stripDirectives);
  if (!isRecord(value)) return structuredClone(value);
  const result: Fields = {};
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('$')) continue;
    result[key] = stripDirectives(child);
  }
  return result;
}

/** Applies a strategic merge patch (the subset above); 400 when the patch is not an object. */
export function applyStrategicMergePatch(document: KubeObject, patch: unknown): KubeObject {
  if (!isRecord(patch)) throw badRequest('strategic merge patch must be a JSON object');
  return strategicMergeValue(document, patch) as KubeObject;
}
