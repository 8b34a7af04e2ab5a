import { joinPath } from '../errors.js';
import type { KindRules } from '../kind-rules.js';
import { asArray, asObject, cloneJson } from '../json-access.js';
import { allowed, sessionDurationChecks, specOf, VerdictBuilder } from './common.js';

/** BackupBatch: KubeStash has no rules; only its duration fields must decode. */
export const backupBatchRules: KindRules = {
  applyDefaults: (object) => cloneJson(object),
  validate(context) {
    if (context.operation !== 'CREATE' && context.operation !== 'UPDATE') return allowed();
    const out = new VerdictBuilder();
    asArray(specOf(context.object).sessions).forEach((raw, index) => sessionDurationChecks(asObject(raw) ?? {}, joinPath('spec', 'sessions', index), out));
    return out.verdict();
  },
};
