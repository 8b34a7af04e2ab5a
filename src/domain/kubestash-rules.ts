import { apiVersionOf, applySchemaDefaultsInPlace, kindByGroupKind, validateAgainstSchema } from '../api/index.js';
import { ErrorCodes, fieldError, type Verdict } from './errors.js';
import type { KindRules, ValidationContext } from './kind-rules.js';
import { kindRules } from './rules/index.js';
import { withAddonReferenceWarnings } from './rules/addon-reference.js';
import { parseApiVersion } from './kube-object.js';

/**
 * Wraps KubeStash's webhook rules with what the API server does around them for a CRD:
 * schema defaults (applied to the webhook-defaulted copy; the API server applies them both before
 * and after mutating webhooks, and no KubeStash default depends on a schema default), and schema
 * validation before the webhook's validation. Schema errors stop there (the API server would reject before calling validating
 * webhooks); unknown fields, which the API server would prune, become warnings.
 */
export function withSchema(rules: KindRules): KindRules {
  return {
    // rules.applyDefaults returns a fresh copy, so the schema defaults can fill it in place: one copy per call.
    applyDefaults: (object, view) => applySchemaDefaultsInPlace(rules.applyDefaults(object, view)),
    validate(context: ValidationContext): Verdict {
      if (context.operation === 'DELETE' || context.operation === 'CONNECT') return rules.validate(context);
      const schema = validateAgainstSchema(context.object);
      if (schema === undefined) return { errors: [unsupportedVersion(context.object.apiVersion, context.object.kind)], warnings: [] };
      const warnings = schema.unknownFields.map((path) => `unknown field "${path}" (it would be dropped when stored)`);
      if (schema.errors.length > 0) return { errors: schema.errors, warnings };
      const verdict = rules.validate(context);
      return { errors: verdict.errors, warnings: [...warnings, ...verdict.warnings] };
    },
  };
}

function unsupportedVersion(apiVersion: unknown, kind: unknown) {
  const group = typeof apiVersion === 'string' ? parseApiVersion(apiVersion).group : '';
  const known = typeof kind === 'string' ? kindByGroupKind({ group, kind }) : undefined;
  const supported = known ? `supported: "${apiVersionOf(known)}"` : 'not a KubeStash API version';
  return fieldError(ErrorCodes.NotSupported, 'apiVersion', `Unsupported value: "${String(apiVersion)}": ${supported}`);
}

/** Kinds that name an Addon and its tasks: autostash warns when those are not installed (rules/addon-reference.ts). */
const NAMES_ADDONS = new Set(['core.kubestash.com/BackupConfiguration', 'core.kubestash.com/BackupBlueprint', 'core.kubestash.com/RestoreSession']);

/** Every KubeStash kind's full admission rules (schema + webhook + autostash's addon warnings), keyed by groupKindKey. */
export const kubeStashRules: ReadonlyMap<string, KindRules> = new Map(
  [...kindRules].map(([key, rules]) => [key, NAMES_ADDONS.has(key) ? withAddonReferenceWarnings(withSchema(rules)) : withSchema(rules)] as const),
);

/** The scope of a KubeStash kind, undefined for kinds autostash does not serve. */
export const scopeOfKind = (group: string, kind: string): 'Namespaced' | 'Cluster' | undefined => kindByGroupKind({ group, kind })?.scope;
