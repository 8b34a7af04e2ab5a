/**
 * Per-kind behaviour of built-in resources that clients and our controllers rely on: defaults
 * kube-apiserver fills in, the status a new object starts with, Secret `stringData` folding, and
 * the few validations that matter (Secret/ConfigMap keys, base64 Secret data).
 */
import type { KubeObject } from '../../domain/kube-object.js';
import type { ResourceType } from '../api-types.js';
import type { InvalidCause } from './api-errors.js';

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function record(parent: Fields, key: string): Fields {
  const existing = parent[key];
  if (isRecord(existing)) return existing;
  const created: Fields = {};
  parent[key] = created;
  return created;
}

const keyOf = (type: ResourceType): string => `${type.group}/${type.resource}`;

/** Defaults applied on every create and update (the API server defaults on each decode). */
export function applyBuiltinDefaults(type: ResourceType, object: KubeObject): void {
  switch (keyOf(type)) {
    case '/secrets':
      foldStringData(object);
      if (object.type === undefined || object.type === '') object.type = 'Opaque';
      return;
    case 'apps/deployments':
    case 'apps/statefulsets':
    case 'apps/replicasets': {
      const spec = record(object, 'spec');
      if (spec.replicas === undefined) spec.replicas = 1;
      return;
    }
    case 'batch/jobs': {
      const spec = record(object, 'spec');
      if (spec.completions === undefined && spec.parallelism === undefined) {
        spec.completions = 1;
        spec.parallelism = 1;
      }
      if (spec.parallelism === undefined) spec.parallelism = 1;
      if (spec.backoffLimit === undefined) spec.backoffLimit = 6;
      return;
    }
    default:
      return;
  }
}

/** What kube-apiserver sets on create only: a namespace's `kubernetes` finalizer and name label. */
export function applyCreateDefaults(type: ResourceType, object: KubeObject): void {
  if (keyOf(type) !== '/namespaces') return;
  const spec = record(object, 'spec');
  spec.finalizers = ['kubernetes'];
  const metadata = record(object, 'metadata');
  const labels = record(metadata, 'labels');
  if (typeof metadata.name === 'string') labels['kubernetes.io/metadata.name'] = metadata.name;
}

/** The status a new object starts with (kube drops client-sent status for kinds with a status subresource). */
export function initialStatus(type: ResourceType): Fields | undefined {
  switch (keyOf(type)) {
    case '/namespaces':
      return { phase: 'Active' };
    case '/pods':
    case '/persistentvolumeclaims':
    case '/persistentvolumes':
      return { phase: 'Pending' };
    default:
      return undefined;
  }
}

/** Moves `stringData` into base64 `data` (stringData wins on a shared key) and removes it. */
export function foldStringData(secret: KubeObject): void {
  const stringData = secret.stringData;
  if (!isRecord(stringData)) {
    delete secret.stringData;
    return;
  }
  const data = record(secret, 'data');
  for (const [key, value] of Object.entries(stringData)) {
    data[key] = Buffer.from(String(value), 'utf8').toString('base64');
  }
  delete secret.stringData;
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function keyCauses(map: unknown, field: string): InvalidCause[] {
  if (!isRecord(map)) return [];
  return Object.keys(map)
    .filter((key) => !CONFIG_KEY.test(key) || key.length > 253)
    .map((key) => ({
      reason: 'FieldValueInvalid' as const,
      field: `${field}[${key}]`,
      message: `Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
    }));
}

/** Validation problems of built-in objects the embedded plane checks (beyond names). */
export function builtinCauses(type: ResourceType, object: KubeObject): InvalidCause[] {
  switch (keyOf(type)) {
    case '/secrets': {
      const causes = keyCauses(object.data, 'data');
      if (isRecord(object.data)) {
        for (const [key, value] of Object.entries(object.data)) {
          if (typeof value !== 'string' || !BASE64.test(value)) {
            causes.push({ reason: 'FieldValueInvalid', field: `data[${key}]`, message: 'Invalid value: "<secret contents redacted>": illegal base64 data' });
          }
        }
      }
      return causes;
    }
    case '/configmaps':
      return [...keyCauses(object.data, 'data'), ...keyCauses(object.binaryData, 'binaryData')];
    default:
      return [];
  }
}
