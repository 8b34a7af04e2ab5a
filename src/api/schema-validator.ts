/**
 * Structural-schema behaviour of the API server for KubeStash kinds and autostash's own kinds, done locally and purely:
 * CRD `default:` values, schema validation (types, enums, required, formats, bounds) and the list of
 * fields the API server would prune. Kinds are looked up by apiVersion + kind.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { KubeObject } from '../domain/kube-object.js';
import { ErrorCodes, fieldError, type FieldError } from '../domain/errors.js';
import { cloneJson } from '../util/clone-json.js';
import { toCrdSchema } from './crd.js';
import { autostashKindByApiVersion } from './autostash/kinds.js';
import { kindByApiVersion, type KindInfo } from './kinds.js';

type SchemaNode = Record<string, unknown>;
type JsonObject = Record<string, unknown>;

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

/** Outcome of checking an object against its kind's schema. */
export interface SchemaCheck {
  /** Violations the API server would reject the object for. */
  errors: FieldError[];
  /** Paths of fields the API server would silently drop (not in the schema); callers may warn. */
  unknownFields: string[];
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// ---- schemas, compiled once per kind ---------------------------------------------------------------------

const crdSchemas = new Map<KindInfo, SchemaNode>();
const validators = new Map<KindInfo, ValidateFunction>();
let ajv: Ajv | undefined;

function crdSchemaOf(info: KindInfo): SchemaNode {
  let schema = crdSchemas.get(info);
  if (schema === undefined) {
    schema = toCrdSchema(info.schema);
    crdSchemas.set(info, schema);
  }
  return schema;
}

function validatorOf(info: KindInfo): ValidateFunction {
  let validate = validators.get(info);
  if (validate === undefined) {
    // strict: false lets the x-kubernetes-* keywords through; verbose gives the offending value per error.
    ajv ??= addFormats(new Ajv({ allErrors: true, strict: false, verbose: true }));
    validate = ajv.compile(crdSchemaOf(info));
    validators.set(info, validate);
  }
  return validate;
}

const kindOf = (object: KubeObject): KindInfo | undefined =>
  typeof object.apiVersion === 'string' && typeof object.kind === 'string'
    ? (kindByApiVersion(object.apiVersion, object.kind) ?? autostashKindByApiVersion(object.apiVersion, object.kind))
    : undefined;

// ---- defaulting ---------------------------------------------------------------------------------------

/** Whether any `default:` sits at or below a schema node; memoized, since schemas never change. */
const defaultsBelow = new WeakMap<SchemaNode, boolean>();
function hasDefaults(schema: SchemaNode): boolean {
  const known = defaultsBelow.get(schema);
  if (known !== undefined) return known;
  let found = 'default' in schema;
  const children: unknown[] = [schema['items'], schema['additionalProperties'], ...(isObject(schema['properties']) ? Object.values(schema['properties']) : [])];
  for (const child of children) if (!found && isObject(child)) found = hasDefaults(child);
  defaultsBelow.set(schema, found);
  return found;
}

function applyDefaultsAt(schema: SchemaNode, value: unknown): void {
  // Most of a large schema has no defaults at all: skip those subtrees without walking the value.
  if (!hasDefaults(schema)) return;
  if (Array.isArray(value)) {
    const items = schema['items'];
    if (isObject(items)) for (const item of value) applyDefaultsAt(items, item);
    return;
  }
  if (!isObject(value)) return;
  const properties = schema['properties'];
  if (isObject(properties)) {
    for (const [name, child] of Object.entries(properties) as Array<[string, SchemaNode]>) {
      // The API server drops nulls of non-nullable fields before defaulting, so they get the default too.
      const absent = !(name in value) || (value[name] === null && child['nullable'] !== true);
      if (absent && 'default' in child) value[name] = cloneJson(child['default']);
      if (name in value) applyDefaultsAt(child, value[name]);
    }
  }
  const additional = schema['additionalProperties'];
  if (isObject(additional)) for (const entry of Object.values(value)) applyDefaultsAt(additional, entry);
}

/**
 * A deep copy of `object` with its kind's CRD `default:` values applied, as the API server does for
 * structural schemas: a default fills an absent (or null) field only where its parent object exists.
 * Objects of unknown kinds come back as an unchanged copy.
 */
export function applySchemaDefaults<T extends KubeObject>(object: T): T {
  return applySchemaDefaultsInPlace(cloneJson(object));
}

/** {@link applySchemaDefaults} on an object the caller owns (a fresh copy): fills it in and returns it. */
export function applySchemaDefaultsInPlace<T extends KubeObject>(object: T): T {
  const info = kindOf(object);
  if (info !== undefined) applyDefaultsAt(crdSchemaOf(info), object);
  return object;
}

// ---- unknown fields -----------------------------------------------------------------------------------

/** `spec.sessions[0].name` style; map keys that are not plain identifiers go in brackets. */
function appendPath(path: string, segment: string | number): string {
  if (typeof segment === 'number') return `${path}[${segment}]`;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) return `${path}[${segment}]`;
  return path === '' ? segment : `${path}.${segment}`;
}

/** Path segments from the root, kept as a linked list so a path string is built only when reported. */
interface PathNode {
  parent: PathNode | undefined;
  segment: string | number;
}

function pathString(node: PathNode | undefined): string {
  const segments: Array<string | number> = [];
  for (let at = node; at !== undefined; at = at.parent) segments.push(at.segment);
  let path = '';
  for (let i = segments.length - 1; i >= 0; i--) path = appendPath(path, segments[i] as string | number);
  return path;
}

function collectUnknownFields(schema: SchemaNode, value: unknown, path: PathNode | undefined, out: string[]): void {
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (Array.isArray(value)) {
    const items = schema['items'];
    if (isObject(items)) for (let index = 0; index < value.length; index++) collectUnknownFields(items, value[index], { parent: path, segment: index }, out);
    return;
  }
  if (!isObject(value) || schema['type'] !== 'object') return;
  const properties = isObject(schema['properties']) ? (schema['properties'] as Record<string, SchemaNode>) : undefined;
  const additional = schema['additionalProperties'];
  for (const name of Object.keys(value)) {
    const childSchema = properties?.[name];
    const childPath = { parent: path, segment: name };
    if (childSchema !== undefined) collectUnknownFields(childSchema, value[name], childPath, out);
    else if (isObject(additional)) collectUnknownFields(additional, value[name], childPath, out);
    else if (additional !== true) out.push(pathString(childPath));
  }
}

// ---- validation ---------------------------------------------------------------------------------------

/** Turns ajv's `/spec/sessions/0/name` into `spec.sessions[0].name`, using the data to tell lists from maps. */
function kubernetesPath(instancePath: string, data: unknown): string {
  let path = '';
  let current = data;
  if (instancePath === '') return path;
  for (const raw of instancePath.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(segment);
      path = appendPath(path, index);
      current = current[index];
    } else {
      path = appendPath(path, segment);
      current = isObject(current) ? current[segment] : undefined;
    }
  }
  return path;
}

/** How a value appears in a message: JSON for scalars, its JSON type for lists and objects. */
function describeValue(value: unknown): string {
  if (Array.isArray(value)) return '"array"';
  if (isObject(value)) return '"object"';
  return JSON.stringify(value) ?? 'undefined';
}

const formatHints: Record<string, string> = {
  'date-time': 'must be an RFC 3339 date-time, e.g. "2024-01-02T15:04:05Z"',
  int32: 'must fit in a 32-bit signed integer',
  int64: 'must fit in a 64-bit signed integer',
  double: 'must be a number',
};

function toFieldError(error: ErrorObject, data: unknown): FieldError {
  const path = kubernetesPath(error.instancePath, data);
  const value = describeValue(error.data);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return fieldError(ErrorCodes.Required, appendPath(path, String(params['missingProperty'])), 'Required value');
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return fieldError(ErrorCodes.NotSupported, path, `Unsupported value: ${value}: supported values: ${allowed}`);
    }
    case 'type':
      return fieldError(ErrorCodes.TypeInvalid, path, `Invalid value: ${value}: must be of type ${String(params['type'])}`);
    case 'anyOf': {
      const schema = error.parentSchema as SchemaNode | undefined;
      const reason = schema?.['x-kubernetes-int-or-string'] === true ? 'must be an integer or a string' : 'matches none of the allowed shapes';
      return fieldError(ErrorCodes.TypeInvalid, path, `Invalid value: ${value}: ${reason}`);
    }
    case 'format': {
      const format = String(params['format']);
      return fieldError(ErrorCodes.Invalid, path, `Invalid value: ${value}: ${formatHints[format] ?? `must be a valid ${format}`}`);
    }
    case 'minimum':
      return fieldError(ErrorCodes.Invalid, path, `Invalid value: ${value}: must be greater than or equal to ${String(params['limit'])}`);
    case 'maximum':
      return fieldError(ErrorCodes.Invalid, path, `Invalid value: ${value}: must be less than or equal to ${String(params['limit'])}`);
    default:
      return fieldError(ErrorCodes.Invalid, path, `Invalid value: ${value}: ${error.message ?? 'is invalid'}`);
  }
}

function toFieldErrors(errors: readonly ErrorObject[], data: unknown): FieldError[] {
  // An int-or-string mismatch reports each branch and then the anyOf itself; only the anyOf is useful.
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const error of errors) {
    if (anyOfPaths.some((prefix) => error.schemaPath.startsWith(prefix))) continue;
    const converted = toFieldError(error, data);
    // allOf of two enums (Addon task driver) reports the same field twice.
    const key = `${converted.code} ${converted.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(converted);
  }
  return out;
}

/**
 * Checks `object` against the schema of its kind (found by apiVersion + kind), as the API server would:
 * returns the violations and, separately, the paths of fields that would be pruned.
 * Returns undefined for kinds that are neither KubeStash nor autostash kinds, so the caller can decide what to do.
 */
export function validateAgainstSchema(object: KubeObject): SchemaCheck | undefined {
  const info = kindOf(object);
  if (info === undefined) return undefined;
  const validate = validatorOf(info);
  const errors = validate(object) ? [] : toFieldErrors(validate.errors ?? [], object);
  const unknownFields: string[] = [];
  const schema = crdSchemaOf(info);
  const properties = schema['properties'] as Record<string, SchemaNode>;
  for (const [name, value] of Object.entries(object)) {
    // metadata is validated by the API server itself, never pruned by the CRD schema.
    if (name === 'metadata') continue;
    const child = properties[name];
    if (child === undefined) unknownFields.push(name);
    else collectUnknownFields(child, value, { parent: undefined, segment: name }, unknownFields);
  }
  return { errors, unknownFields };
}
