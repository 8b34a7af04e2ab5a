import type { KubeObject } from '../../domain/kube-object.js';
import { expandVariables } from './container-command.js';

/** Reads a Secret or ConfigMap by namespace and name; undefined when it does not exist. */
export type KeyedObjectReader = (kind: 'Secret' | 'ConfigMap', namespace: string, name: string) => Promise<KubeObject | undefined>;

/** The pod a container belongs to, for `fieldRef`. */
export interface PodIdentity {
  name: string;
  namespace: string;
  uid: string;
  nodeName: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface EnvVar {
  name?: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name?: string; key?: string; optional?: boolean };
    configMapKeyRef?: { name?: string; key?: string; optional?: boolean };
    fieldRef?: { fieldPath?: string };
  };
}

interface EnvFromSource {
  prefix?: string;
  secretRef?: { name?: string; optional?: boolean };
  configMapRef?: { name?: string; optional?: boolean };
}

/** The decoded `key -> value` pairs of a Secret (`data`, base64) or ConfigMap (`data`, `binaryData`). */
export function keyedValues(object: KubeObject): Record<string, Buffer> {
  const values: Record<string, Buffer> = {};
  const data = (object.data ?? {}) as Record<string, string>;
  const binary = (object.binaryData ?? {}) as Record<string, string>;
  const isSecret = object.kind === 'Secret';
  for (const [key, value] of Object.entries(data)) values[key] = isSecret ? Buffer.from(value, 'base64') : Buffer.from(value, 'utf8');
  for (const [key, value] of Object.entries(binary)) values[key] = Buffer.from(value, 'base64');
  return values;
}

function fieldValue(fieldPath: string, pod: PodIdentity): string | undefined {
  const labelOrAnnotation = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (labelOrAnnotation) {
    const source = labelOrAnnotation[1] === 'labels' ? pod.labels : pod.annotations;
    return source[labelOrAnnotation[2]!] ?? '';
  }
  const fields: Record<string, string> = {
    'metadata.name': pod.name,
    'metadata.namespace': pod.namespace,
    'metadata.uid': pod.uid,
    'spec.nodeName': pod.nodeName,
    'spec.serviceAccountName': 'default',
    'status.podIP': '127.0.0.1',
    'status.hostIP': '127.0.0.1',
  };
  return fields[fieldPath];
}

/**
 * A container's environment as the kubelet builds it: `envFrom` first, then `env` in order, each
 * `value` `$(VAR)`-expanded against the variables before it; `secretKeyRef`/`configMapKeyRef` read
 * through `read`, `fieldRef` from the pod. A missing non-optional Secret, ConfigMap or key throws
 * (the kubelet would refuse to start the container).
 */
export async function containerEnvironment(
  container: { env?: readonly EnvVar[]; envFrom?: readonly EnvFromSource[] },
  pod: PodIdentity,
  read: KeyedObjectReader,
): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  const load = async (kind: 'Secret' | 'ConfigMap', name: string | undefined, optional: boolean | undefined): Promise<Record<string, Buffer> | undefined> => {
    const object = name ? await read(kind, pod.namespace, name) : undefined;
    if (object) return keyedValues(object);
    if (optional) return undefined;
    throw new Error(`${kind} ${pod.namespace}/${name ?? ''} not found`);
  };

  for (const source of container.envFrom ?? []) {
    const values = source.secretRef
      ? await load('Secret', source.secretRef.name, source.secretRef.optional)
      : await load('ConfigMap', source.configMapRef?.name, source.configMapRef?.optional);
    for (const [key, value] of Object.entries(values ?? {})) env[`${source.prefix ?? ''}${key}`] = value.toString('utf8');
  }

  for (const variable of container.env ?? []) {
    if (!variable.name) continue;
    const from = variable.valueFrom;
    if (!from) {
      env[variable.name] = expandVariables(variable.value ?? '', (name) => env[name]);
      continue;
    }
    const keyRef = from.secretKeyRef ?? from.configMapKeyRef;
    if (keyRef) {
      const kind = from.secretKeyRef ? 'Secret' : 'ConfigMap';
      const values = await load(kind, keyRef.name, keyRef.optional);
      const value = values?.[keyRef.key ?? ''];
      if (value !== undefined) env[variable.name] = value.toString('utf8');
      else if (values !== undefined && !keyRef.optional) throw new Error(`key ${keyRef.key ?? ''} not found in ${kind} ${pod.namespace}/${keyRef.name ?? ''}`);
      continue;
    }
    if (from.fieldRef?.fieldPath) {
      const value = fieldValue(from.fieldRef.fieldPath, pod);
      if (value === undefined) throw new Error(`fieldRef ${from.fieldRef.fieldPath} is not supported by the embedded control plane`);
      env[variable.name] = value;
    }
  }
  return env;
}
