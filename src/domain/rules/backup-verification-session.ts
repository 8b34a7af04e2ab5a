import type { KindRules } from '../kind-rules.js';
import { cloneJson } from '../json-access.js';
import { allowed, immutableSpecChecks, VerdictBuilder } from './common.js';

/** BackupVerificationSession: no defaults; spec immutable on UPDATE. */
export const backupVerificationSessionRules: KindRules = {
  applyDefaults: (object) => cloneJson(object),
  validate(context) {
    if (context.operation !== 'UPDATE') return allowed();
    const out = new VerdictBuilder();
    immutableSpecChecks(context, 'BackupVerificationSession', out);
    return out.verdict();
  },
};
