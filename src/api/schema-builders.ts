/**
 * Small builders that produce schema nodes in the shape a structural CRD schema expects
 * (`type: string` + `enum`, maps as `additionalProperties`, int32/int64 formats) while giving
 * TypeBox a precise static type. TypeBox's own Union/Record produce `anyOf`/`patternProperties`,
 * which structural CRD schemas do not use, so those are avoided here.
 */
import { Type, type TSchema, type TUnsafe, type SchemaOptions } from '@sinclair/typebox';

/** A string restricted to `values`, emitted as `{type: string, enum: [...]}`. */
export function stringEnum<const V extends readonly string[]>(
  values: V,
  options: SchemaOptions = {},
): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ ...options, type: 'string', enum: [...values] });
}

/** A map from string keys to strings (labels, annotations, node selectors). */
export function stringMap(options: SchemaOptions = {}): TUnsafe<Record<string, string>> {
  return Type.Unsafe<Record<string, string>>({ ...options, type: 'object', additionalProperties: { type: 'string' } });
}

/** A map from string keys to values of `value`. */
export function mapOf<T extends TSchema>(value: T, options: SchemaOptions = {}): TUnsafe<Record<string, T['static']>> {
  return Type.Unsafe<Record<string, T['static']>>({ ...options, type: 'object', additionalProperties: value });
}

/**
 * Schema key marking a field autostash adds to a KubeStash kind (never emitted into a CRD; the parity test
 * accepts a marked field KubeStash's CRD does not have). The value says what the field is for.
 */
export const AUTOSTASH_EXTENSION_MARKER = 'x-autostash-extension';

export const int32 = (options: SchemaOptions = {}) => Type.Integer({ ...options, format: 'int32' });
export const int64 = (options: SchemaOptions = {}) => Type.Integer({ ...options, format: 'int64' });
/** RFC 3339 timestamp (metav1.Time). */
export const dateTime = (options: SchemaOptions = {}) => Type.String({ ...options, format: 'date-time' });
/** A float64 value. */
export const double = (options: SchemaOptions = {}) => Type.Number({ ...options, format: 'double' });

/** intstr.IntOrString: a port number or a port name. */
export function intOrString(): TUnsafe<number | string> {
  return Type.Unsafe<number | string>({
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
  });
}

/** A free-form object whose fields the API server keeps as given (e.g. task `params`). */
export function freeFormObject(): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
}
