import { ErrorCodes } from '../errors.js';
import type { KindRules, ValidationContext } from '../kind-rules.js';
import type { KubeObject } from '../kube-object.js';
import { asArray, asObject, asString, semanticallyEqual, type JsonObject } from '../json-access.js';
import { allowed, copyWithSpec, defaultUsagePolicy, nameOf, namespaceOf, specOf, usagePolicyChecks, VerdictBuilder } from './common.js';

/** Fields whose one trailing `/` the webhook strips (Go strings.TrimSuffix: only one). */
const TRAILING_SLASH_FIELDS: Readonly<Record<string, readonly string[]>> = {
  s3: ['bucket', 'endpoint', 'prefix'],
  gcs: ['bucket', 'prefix'],
  azure: ['prefix'],
};

function stripTrailingSlash(storage: JsonObject | undefined): void {
  for (const [provider, fields] of Object.entries(TRAILING_SLASH_FIELDS)) {
    const block = asObject(storage?.[provider]);
    if (!block) continue;
    for (const field of fields) {
      const value = block[field];
      if (typeof value === 'string' && value.endsWith('/')) block[field] = value.slice(0, -1);
    }
  }
}

/** The fields that identify a backend directory per provider; local storage is never compared. */
const DIRECTORY_FIELDS: Readonly<Record<string, readonly string[]>> = {
  s3: ['bucket', 'region', 'prefix'],
  gcs: ['bucket', 'prefix'],
  azure: ['storageAccount', 'container', 'prefix'],
};

/** isPointToSameDir: same provider and the same directory fields (s3 endpoint ignored). */
export function pointsToSameDirectory(a: KubeObject, b: KubeObject): boolean {
  const storageA = asObject(specOf(a).storage);
  const storageB = asObject(specOf(b).storage);
  const provider = asString(storageA?.provider);
  if (provider !== asString(storageB?.provider)) return false;
  const fields = DIRECTORY_FIELDS[provider];
  if (fields === undefined) return false;
  const blockA = asObject(storageA?.[provider]);
  const blockB = asObject(storageB?.[provider]);
  return fields.every((field) => asString(blockA?.[field]) === asString(blockB?.[field]));
}

const isSameObject = (a: KubeObject, b: KubeObject): boolean => namespaceOf(a) === namespaceOf(b) && nameOf(a) === nameOf(b);

function validate(context: ValidationContext) {
  if (context.operation !== 'CREATE' && context.operation !== 'UPDATE') return allowed();
  const { object, view } = context;
  const spec = specOf(object);
  const out = new VerdictBuilder();

  if (spec.default === true) {
    const other = view.list('BackupStorage', namespaceOf(object)).find((bs) => !isSameObject(object, bs) && specOf(bs).default === true);
    if (other) {
      out.error(
        ErrorCodes.Conflict,
        'spec.default',
        `multiple default BackupStorages are not allowed within the same namespace: "${nameOf(other)}" is already the default in namespace "${namespaceOf(object)}"; set default: false on one of them`,
      );
    }
  }

  usagePolicyChecks(spec, out);

  if (context.operation === 'UPDATE' && context.oldObject) {
    const repositories = asArray(asObject(object.status)?.repositories);
    if (repositories.length > 0 && !semanticallyEqual(specOf(context.oldObject).storage, spec.storage)) {
      out.error(
        ErrorCodes.Forbidden,
        'spec.storage',
        `BackupStorage is currently in use and cannot be modified: ${repositories.length} repositories are stored in it (status.repositories); create a new BackupStorage instead`,
      );
    }
  }

  const storage = asObject(spec.storage);
  const provider = asString(storage?.provider);
  const clash = view.list('BackupStorage').find((bs) => !isSameObject(object, bs) && pointsToSameDirectory(object, bs));
  if (clash) {
    out.error(
      ErrorCodes.Conflict,
      'spec.storage',
      `no two BackupStorage should point to the same directory of the same bucket: BackupStorage ${namespaceOf(clash)}/${nameOf(clash)} already uses this ${provider} location; change the bucket/container or the prefix`,
    );
  }
  if (provider in DIRECTORY_FIELDS && asObject(storage?.[provider]) === undefined) {
    out.warn('spec.storage', `provider is "${provider}" but spec.storage.${provider} is missing`);
  }
  return out.verdict();
}

export const backupStorageRules: KindRules = {
  applyDefaults(object) {
    const { copy, spec } = copyWithSpec(object);
    defaultUsagePolicy(spec);
    stripTrailingSlash(asObject(spec.storage));
    return copy;
  },
  validate,
};
