/**
 * What kube-apiserver does with a custom resource's structural OpenAPI v3 schema on every write:
 * fills `default` values where the parent object exists, and prunes fields the schema does not
 * declare (unless `x-kubernetes-preserve-unknown-fields`). Generic over any CRD schema.
 */
type Schema = Record<string, unknown>;
type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function schemaAt(schema: Schema, key: 'items' | 'additionalProperties'): Schema | undefined {
  const sub = schema[key];
  return isRecord(sub) ? sub : undefined;
}

function propertiesOf(schema: Schema): Record<string, Schema> | undefined {
  const properties = schema.properties;
  return isRecord(properties) ? (properties as Record<string, Schema>) : undefined;
}

/** Fills schema defaults into `value` in place, depth first, only inside objects that exist. */
export function applyStructuralDefaults(value: unknown, schema: Schema): void {
  if (Array.isArray(value)) {
    const items = schemaAt(schema, 'items');
    if (items) for (const element of value) applyStructuralDefaults(element, items);
    return;
  }
  if (!isRecord(value)) return;
  const properties = propertiesOf(schema);
  if (properties) {
    for (const [key, sub] of Object.entries(properties)) {
      if (value[key] === undefined && sub.default !== undefined) value[key] = structuredClone(sub.default);
      if (value[key] !== undefined) applyStructuralDefaults(value[key], sub);
    }
  }
  const additional = schemaAt(schema, 'additionalProperties');
  if (additional) {
    for (const [key, child] of Object.entries(value)) {
      if (!properties || !(key in properties)) applyStructuralDefaults(child, additional);
    }
  }
}

/** The fields of an embedded object (`x-kubernetes-embedded-resource`) that are never pruned. */
const EMBEDDED_RESOURCE_FIELDS = ['apiVersion', 'kind', 'metadata'];

/**
 * Removes fields the schema does not declare, in place. At the root, apiVersion/kind/metadata are
 * kept (the API server handles them itself), as in embedded resources.
 */
export function pruneUnknownFields(value: unknown, schema: Schema, isRoot = true): void {
  if (schema['x-kubernetes-int-or-string'] === true) return;
  if (Array.isArray(value)) {
    const items = schemaAt(schema, 'items');
    if (items) for (const element of value) pruneUnknownFields(element, items, false);
    return;
  }
  if (!isRecord(value)) return;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const keepMeta = isRoot || schema['x-kubernetes-embedded-resource'] === true;
  const properties = propertiesOf(schema) ?? {};
  const additional = schemaAt(schema, 'additionalProperties');
  const additionalAllowed = additional !== undefined || schema.additionalProperties === true;
  for (const key of Object.keys(value)) {
    if (keepMeta && EMBEDDED_RESOURCE_FIELDS.includes(key) && !(key in properties)) continue;
    const sub = properties[key];
    if (sub) {
      if (!(keepMeta && key === 'metadata')) pruneUnknownFields(value[key], sub, false);
    } else if (additional) {
      pruneUnknownFields(value[key], additional, false);
    } else if (!preserve && !additionalAllowed) {
      delete value[key];
    }
  }
}
