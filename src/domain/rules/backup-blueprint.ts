import { ErrorCodes, joinPath } from '../errors.js';
import type { KindRules } from '../kind-rules.js';
import { asArray, asObject } from '../json-access.js';
import { addonPathErrors } from './safe-paths.js';
import {
  allowed,
  copyWithSpec,
  defaultUsagePolicy,
  namespaceOf,
  objectRef,
  referenceUsageChecks,
  sessionDurationChecks,
  specOf,
  usagePolicyChecks,
  VerdictBuilder,
} from './common.js';

/**
 * BackupBlueprint: usagePolicy default; selector rule; backupConfigurationTemplate required; each template
 * backend's BackupStorage (namespace defaulting to the blueprint's), when found, must allow the
 * blueprint's own namespace (not the future target's).
 */
export const backupBlueprintRules: KindRules = {
  applyDefaults(object) {
    const { copy, spec } = copyWithSpec(object);
    defaultUsagePolicy(spec);
    return copy;
  },
  validate(context) {
    if (context.operation !== 'CREATE' && context.operation !== 'UPDATE') return allowed();
    const { object, view } = context;
    const spec = specOf(object);
    const namespace = namespaceOf(object);
    const out = new VerdictBuilder();
    usagePolicyChecks(spec, out);
    const template = asObject(spec.backupConfigurationTemplate);
    if (template === undefined) {
      out.error(
        ErrorCodes.Required,
        'spec.backupConfigurationTemplate',
        'backupConfigurationTemplate can not be empty: it holds the backends and sessions of the BackupConfigurations this blueprint generates',
      );
      return out.verdict();
    }
    const base = 'spec.backupConfigurationTemplate';
    asArray(template.backends).forEach((raw, index) => {
      const path = joinPath(base, 'backends', index, 'storageRef');
      const storage = objectRef(asObject(raw)?.storageRef);
      if (storage === undefined) {
        // KubeStash dereferences it unconditionally (its webhook fails), so the blueprint is denied there too.
        out.error(ErrorCodes.Required, path, 'every template backend needs a storageRef {name, namespace} of a BackupStorage');
        return;
      }
      referenceUsageChecks(view, 'BackupStorage', { name: storage.name, namespace: storage.namespace || namespace }, namespace, path, out, false);
    });
    asArray(template.sessions).forEach((raw, index) => {
      sessionDurationChecks(asObject(raw) ?? {}, joinPath(base, 'sessions', index), out);
      out.add(addonPathErrors(asObject(raw)?.addon, joinPath(base, 'sessions', index, 'addon'), true));
    });
    if (asArray(template.backends).length === 0) {
      out.warn(`${base}.backends`, 'no backends: generated BackupConfigurations will use the default BackupStorage of their namespace, if there is one');
    }
    return out.verdict();
  },
};
