import { ErrorCodes } from '../errors.js';
import type { KindRules } from '../kind-rules.js';
import { asString, cloneJson } from '../json-access.js';
import { allowed, specOf, VerdictBuilder } from './common.js';

/** Repository: no defaults; on UPDATE `spec.path` is immutable (SPEC §3.3). */
export const repositoryRules: KindRules = {
  applyDefaults: (object) => cloneJson(object),
  validate(context) {
    if (context.operation !== 'UPDATE' || context.oldObject === undefined) return allowed();
    const out = new VerdictBuilder();
    const before = asString(specOf(context.oldObject).path);
    const after = asString(specOf(context.object).path);
    if (before !== after) {
      out.error(
        ErrorCodes.Immutable,
        'spec.path',
        `repository path can not be updated (was "${before}", now "${after}"); the backup data lives under the old path, so create a new Repository for a new path`,
      );
    }
    return out.verdict();
  },
};
