import { ErrorCodes } from '../errors.js';
import type { KindRules } from '../kind-rules.js';
import { asObject, asString, cloneJson, isNil } from '../json-access.js';
import { allowed, specOf, VerdictBuilder } from './common.js';

/**
 * BackupVerifier (KubeStash's handler; the KubeStash installer does not register it): restoreOption and
 * restoreOption.addonInfo required; type required; Query needs query and function; Script needs
 * script.location and function. KubeStash's handler also rejects any `scheduler` (its message says
 * "cannot be empty", so the condition is inverted); that bug is not reproduced.
 */
export const backupVerifierRules: KindRules = {
  applyDefaults: (object) => cloneJson(object),
  validate(context) {
    if (context.operation !== 'CREATE' && context.operation !== 'UPDATE') return allowed();
    const spec = specOf(context.object);
    const out = new VerdictBuilder();
    const restoreOption = asObject(spec.restoreOption);
    if (restoreOption === undefined) {
      out.error(ErrorCodes.Required, 'spec.restoreOption', 'restoreOption cannot be empty: give the addonInfo (and optionally the target) used to restore the snapshot under test');
    } else if (isNil(restoreOption.addonInfo)) {
      out.error(ErrorCodes.Required, 'spec.restoreOption.addonInfo', 'addonInfo in restoreOption cannot be empty: give the addon name and its restore tasks');
    }
    const type = asString(spec.type);
    if (type === '') {
      out.error(ErrorCodes.Required, 'spec.type', 'type cannot be empty: use RestoreOnly, Query or Script');
    }
    if (type === 'Query' && isNil(spec.query)) {
      out.error(ErrorCodes.Required, 'spec.query', 'query cannot be empty for type Query');
    }
    if (type === 'Script') {
      const script = asObject(spec.script);
      if (script === undefined) out.error(ErrorCodes.Required, 'spec.script', 'script cannot be empty for type Script');
      else if (asString(script.location) === '') out.error(ErrorCodes.Required, 'spec.script.location', 'script location cannot be empty for type Script');
    }
    if ((type === 'Query' || type === 'Script') && asString(spec.function) === '') {
      out.error(ErrorCodes.Required, 'spec.function', `function cannot be empty for type ${type}: give the Function that runs the ${type === 'Query' ? 'query' : 'script'}`);
    }
    return out.verdict();
  },
};
