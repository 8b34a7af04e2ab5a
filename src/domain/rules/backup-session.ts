import type { KindRules } from '../kind-rules.js';
import { asObject, cloneJson } from '../json-access.js';
import { allowed, goDurationChecks, immutableSpecChecks, VerdictBuilder } from './common.js';

/** BackupSession: no defaults; spec immutable on UPDATE; backupTimeout must be a Go duration. */
export const backupSessionRules: KindRules = {
  applyDefaults: (object) => cloneJson(object),
  validate(context) {
    if (context.operation !== 'CREATE' && context.operation !== 'UPDATE') return allowed();
    const out = new VerdictBuilder();
    immutableSpecChecks(context, 'BackupSession', out);
    goDurationChecks(asObject(context.object.spec)?.backupTimeout, 'spec.backupTimeout', out);
    return out.verdict();
  },
};
