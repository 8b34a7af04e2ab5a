import { ErrorCodes } from '../errors.js';
import type { KindRules } from '../kind-rules.js';
import { asObject, asString, isNil } from '../json-access.js';
import { allowed, copyWithSpec, defaultUsagePolicy, specOf, usagePolicyChecks, VerdictBuilder } from './common.js';

/**
 * HookTemplate (SPEC §6.3): executor required; any executor but Function needs `action`; selector rule;
 * Function needs `executor.function`; Pod needs `executor.pod` with a selector of comma-separated
 * `key=value` terms.
 */
export const hookTemplateRules: KindRules = {
  applyDefaults(object) {
    const { copy, spec } = copyWithSpec(object);
    defaultUsagePolicy(spec);
    return copy;
  },
  validate(context) {
    if (context.operation !== 'CREATE' && context.operation !== 'UPDATE') return allowed();
    const spec = specOf(context.object);
    const out = new VerdictBuilder();
    const executor = asObject(spec.executor);
    if (executor === undefined) {
      out.error(ErrorCodes.Required, 'spec.executor', 'executor can not be empty: set executor.type to Function, Pod or Operator');
      return out.verdict();
    }
    const type = asString(executor.type);
    if (type !== 'Function' && isNil(spec.action)) {
      out.error(ErrorCodes.Required, 'spec.action', `action can not be empty for pod or operator type executor (type is "${type}"): add action.exec, httpGet, httpPost or tcpSocket`);
    }
    usagePolicyChecks(spec, out);
    if (type === 'Function' && isNil(executor.function)) {
      out.error(ErrorCodes.Required, 'spec.executor.function', 'function field can not be empty for function type executor: give the Function name');
    }
    if (type === 'Pod') {
      const pod = asObject(executor.pod);
      if (pod === undefined) {
        out.error(ErrorCodes.Required, 'spec.executor.pod', 'pod field can not be empty for pod type executor: give pod.selector, e.g. "app=my-app"');
      } else {
        const selector = asString(pod.selector);
        if (selector === '') {
          out.error(ErrorCodes.Required, 'spec.executor.pod.selector', 'selector field can not be empty for pod type executor: give comma-separated key=value terms, e.g. "app=my-app"');
        } else {
          // Go: strings.Split(strings.Trim(term, " "), "=") must give at least two parts.
          const bad = selector.split(',').find((term) => !term.replace(/^ +| +$/g, '').includes('='));
          if (bad !== undefined) {
            out.error(ErrorCodes.Invalid, 'spec.executor.pod.selector', `invalid selector is provided for pod type executor: term "${bad}" is not key=value; write comma-separated key=value terms, e.g. "app=my-app,tier=db"`);
          }
        }
      }
    }
    return out.verdict();
  },
};
