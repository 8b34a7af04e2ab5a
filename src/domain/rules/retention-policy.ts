import { parseRetentionPeriod } from '../duration.js';
import { ErrorCodes } from '../errors.js';
import type { KindRules } from '../kind-rules.js';
import { asString, isNil } from '../json-access.js';
import { allowed, copyWithSpec, defaultUsagePolicy, nameOf, namespaceOf, specOf, usagePolicyChecks, VerdictBuilder } from './common.js';

/** RetentionPolicy: usagePolicy and failedSnapshots defaults; period, policy, selector and single-default rules. */
export const retentionPolicyRules: KindRules = {
  applyDefaults(object) {
    const { copy, spec } = copyWithSpec(object);
    defaultUsagePolicy(spec);
    if (isNil(spec.failedSnapshots)) spec.failedSnapshots = { last: 1 };
    return copy;
  },
  validate(context) {
    if (context.operation !== 'CREATE' && context.operation !== 'UPDATE') return allowed();
    const { object, view } = context;
    const spec = specOf(object);
    const out = new VerdictBuilder();
    const period = asString(spec.maxRetentionPeriod);
    if (period !== '') {
      const parsed = parseRetentionPeriod(period);
      if (!parsed.ok) {
        out.error(ErrorCodes.Invalid, 'spec.maxRetentionPeriod', `${parsed.reason}; write number+unit pairs with units y, mo, w, d, h, m, e.g. "30d" or "1y6mo"`);
      }
    }
    if (period === '' && isNil(spec.successfulSnapshots)) {
      out.error(
        ErrorCodes.Required,
        'spec',
        'one of maxRetentionPeriod and successfulSnapshots policy must be provided: set spec.maxRetentionPeriod (e.g. "30d") or spec.successfulSnapshots (e.g. last: 5)',
      );
    }
    usagePolicyChecks(spec, out);
    if (spec.default === true) {
      const other = view.list('RetentionPolicy', namespaceOf(object)).find(
        (rp) => !(namespaceOf(rp) === namespaceOf(object) && nameOf(rp) === nameOf(object)) && specOf(rp).default === true,
      );
      if (other) {
        out.error(
          ErrorCodes.Conflict,
          'spec.default',
          `multiple default RetentionPolicies are not allowed within the same namespace: "${nameOf(other)}" is already the default in namespace "${namespaceOf(object)}"; set default: false on one of them`,
        );
      }
    }
    return out.verdict();
  },
};
