/**
 * Reading untrusted, already-parsed JSON the way Go's decoder would see it: a missing or mistyped
 * field reads as the zero value, so rules can mirror KubeStash's nil/empty checks without casts.
 */
export type JsonObject = Record<string, unknown>;

/** The value as a plain object, or undefined (Go: a nil pointer to a struct). */
export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

/** The value as an array; anything else reads as an empty list (Go: a nil slice). */
export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The value as a string; anything else reads as `''` (Go: the zero string). */
export function asString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** True when a pointer field would be nil after decoding: absent or null. */
export function isNil(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

/** A deep copy of a JSON value (see src/util/clone-json.ts). */
export { cloneJson } from '../util/clone-json.js';

/** Drops zero values (null, '', 0, false, empty lists and objects) recursively; undefined when nothing is left. */
function pruneZero(value: unknown): unknown {
  if (value === null || value === undefined || value === '' || value === 0 || value === false) return undefined;
  if (Array.isArray(value)) {
    return value.length === 0 ? undefined : value.map((item) => pruneZero(item) ?? null);
  }
  if (typeof value === 'object') {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value as JsonObject)) {
      const pruned = pruneZero(item);
      if (pruned !== undefined) out[key] = pruned;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => deepEqual(item, b[index]));
  }
  const left = a as JsonObject;
  const right = b as JsonObject;
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => key in right && deepEqual(left[key], right[key]));
}

/**
 * Equality as Go's reflect.DeepEqual sees two decoded specs: a field that is absent, null or set to its
 * zero value compares equal to any other of those. (Go keeps nil and a pointer to a zero value apart;
 * that nuance is deliberately not modelled.)
 */
export function semanticallyEqual(a: unknown, b: unknown): boolean {
  return deepEqual(pruneZero(a), pruneZero(b));
}
