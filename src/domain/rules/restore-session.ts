import { ErrorCodes, joinPath } from '../errors.js';
import type { KindRules } from '../kind-rules.js';
import { asArray, asObject, asString, cloneJson, isNil } from '../json-access.js';
import { allowed, goDurationChecks, hookTemplateUsageChecks, namespaceOf, specOf, VerdictBuilder } from './common.js';
import { addonPathErrors } from './safe-paths.js';
import { manifestRestoreParamErrors } from '../kubedump/restore-plan.js';

/**
 * RestoreSession (SPEC §6.3): with `dataSource.pitr`, `pitr.targetTime` and `repository` are required;
 * otherwise `snapshot` is required and `snapshot: latest` needs `repository`. HookTemplates of
 * preRestore/postRestore hooks must allow the RestoreSession's namespace.
 */
export const restoreSessionRules: KindRules = {
  applyDefaults: (object) => cloneJson(object),
  validate(context) {
    if (context.operation !== 'CREATE' && context.operation !== 'UPDATE') return allowed();
    const { object, view } = context;
    const spec = specOf(object);
    const out = new VerdictBuilder();
    const dataSource = asObject(spec.dataSource);
    if (dataSource === undefined) {
      // KubeStash dereferences dataSource unconditionally, so its webhook fails on this too.
      out.error(ErrorCodes.Required, 'spec.dataSource', 'dataSource is required: give the repository and the snapshot (a name or "latest") to restore from');
    } else if (!isNil(dataSource.pitr)) {
      if (isNil(asObject(dataSource.pitr)?.targetTime)) {
        out.error(ErrorCodes.Required, 'spec.dataSource.pitr.targetTime', 'targetTime can not be empty for the Point-In-Time Recovery (PITR) feature: give the time to restore to (RFC 3339)');
      }
      if (asString(dataSource.repository) === '') {
        out.error(ErrorCodes.Required, 'spec.dataSource.repository', 'repository can not be empty for the Point-In-Time Recovery (PITR) feature');
      }
    } else {
      const snapshot = asString(dataSource.snapshot);
      if (snapshot === '') {
        out.error(ErrorCodes.Required, 'spec.dataSource.snapshot', 'snapshot can not be empty: give a Snapshot name, "latest" (with repository), or use pitr');
      } else if (snapshot === 'latest' && asString(dataSource.repository) === '') {
        out.error(ErrorCodes.Required, 'spec.dataSource.repository', 'repository can not be empty for latest snapshot: "latest" is resolved within a repository');
      }
    }
    const hooks = asObject(spec.hooks);
    for (const list of ['preRestore', 'postRestore']) {
      hookTemplateUsageChecks(view, asArray(hooks?.[list]), namespaceOf(object), joinPath('spec', 'hooks', list), out);
      asArray(hooks?.[list]).forEach((hook, index) => goDurationChecks(asObject(hook)?.timeout, joinPath('spec', 'hooks', list, index, 'timeout'), out));
    }
    goDurationChecks(spec.restoreTimeout, 'spec.restoreTimeout', out);
    out.add(addonPathErrors(spec.addon, 'spec.addon'));
    out.add(manifestRestoreParamErrors(spec.addon, asObject(asObject(spec.manifestOptions)?.workload)?.restoreNamespace, 'spec.addon', 'spec.manifestOptions.workload.restoreNamespace'));
    return out.verdict();
  },
};
