/**
 * Reads a CustomResourceDefinition into the resource types it serves, the status the
 * apiextensions controllers would give it, and its validation problems.
 */
import type { KubeObject } from '../../domain/kube-object.js';
import type { ResourceType } from '../api-types.js';
import type { InvalidCause } from './api-errors.js';

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const asString = (value: unknown): string => (typeof value === 'string' ? value : '');
const asStrings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

interface CrdNames {
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  shortNames: string[];
  categories: string[];
}

/** `spec.names` with singular and listKind defaulted as the API server accepts them. */
export function acceptedNames(crd: KubeObject): CrdNames {
  const spec = isRecord(crd.spec) ? crd.spec : {};
  const names = isRecord(spec.names) ? spec.names : {};
  const kind = asString(names.kind);
  return {
    plural: asString(names.plural),
    singular: asString(names.singular) || kind.toLowerCase(),
    kind,
    listKind: asString(names.listKind) || `${kind}List`,
    shortNames: asStrings(names.shortNames),
    categories: asStrings(names.categories),
  };
}

function versionsOf(crd: KubeObject): Fields[] {
  const spec = isRecord(crd.spec) ? crd.spec : {};
  return Array.isArray(spec.versions) ? spec.versions.filter(isRecord) : [];
}

const CUSTOM_VERBS = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];

/** One ResourceType per served version of the CRD. */
export function resourceTypesOfCrd(crd: KubeObject): ResourceType[] {
  const spec = isRecord(crd.spec) ? crd.spec : {};
  const names = acceptedNames(crd);
  return versionsOf(crd)
    .filter((version) => version.served !== false)
    .map((version) => {
      const subresources = isRecord(version.subresources) ? version.subresources : {};
      const schema = isRecord(version.schema) && isRecord(version.schema.openAPIV3Schema) ? version.schema.openAPIV3Schema : undefined;
      return {
        group: asString(spec.group),
        version: asString(version.name),
        resource: names.plural,
        kind: names.kind,
        listKind: names.listKind,
        singular: names.singular,
        namespaced: spec.scope !== 'Cluster',
        shortNames: names.shortNames,
        categories: names.categories,
        verbs: CUSTOM_VERBS,
        statusSubresource: subresources.status !== undefined,
        ...(schema ? { schema } : {}),
      };
    });
}

/** The status the apiextensions controllers set once names are accepted and the CRD is established. */
export function establishedStatus(crd: KubeObject, time: string): Fields {
  const storage = versionsOf(crd).find((version) => version.storage === true);
  const previous = isRecord(crd.status) && Array.isArray(crd.status.storedVersions) ? asStrings(crd.status.storedVersions) : [];
  const storedVersions = [...previous];
  const storageName = storage ? asString(storage.name) : '';
  if (storageName !== '' && !storedVersions.includes(storageName)) storedVersions.push(storageName);
  const condition = (type: string, reason: string, message: string) => ({ type, status: 'True', lastTransitionTime: time, reason, message });
  return {
    conditions: [
      condition('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    acceptedNames: acceptedNames(crd),
    storedVersions,
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Problems that make kube-apiserver reject the CRD with 422 Invalid. */
export function crdCauses(crd: KubeObject): InvalidCause[] {
  const causes: InvalidCause[] = [];
  const spec = isRecord(crd.spec) ? crd.spec : {};
  const group = asString(spec.group);
  const names = acceptedNames(crd);
  const name = crd.metadata?.name ?? '';
  if (group === '' || !group.includes('.')) causes.push({ reason: 'FieldValueInvalid', field: 'spec.group', message: `Invalid value: "${group}": should be a domain with at least one dot` });
  if (!DNS_LABEL.test(names.plural)) causes.push({ reason: 'FieldValueInvalid', field: 'spec.names.plural', message: `Invalid value: "${names.plural}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'` });
  if (names.kind === '') causes.push({ reason: 'FieldValueRequired', field: 'spec.names.kind', message: 'Required value' });
  if (name !== `${names.plural}.${group}`) causes.push({ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": must be spec.names.plural+"."+spec.group` });
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') causes.push({ reason: 'FieldValueNotSupported', field: 'spec.scope', message: `Unsupported value: "${asString(spec.scope)}": supported values: "Cluster", "Namespaced"` });
  const versions = versionsOf(crd);
  if (versions.length === 0) causes.push({ reason: 'FieldValueRequired', field: 'spec.versions', message: 'Required value: must have exactly one version marked as storage version' });
  else if (versions.filter((version) => version.storage === true).length !== 1) causes.push({ reason: 'FieldValueInvalid', field: 'spec.versions', message: 'Invalid value: must have exactly one version marked as storage version' });
  return causes;
}
