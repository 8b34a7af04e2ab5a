import type { ClusterView, ViewKind } from '../cluster-view.js';
import { parseGoDuration } from '../duration.js';
import { ErrorCodes, fieldError, joinPath, type FieldError, type Verdict } from '../errors.js';
import type { KindRules, ValidationContext } from '../kind-rules.js';
import type { KubeObject } from '../kube-object.js';
import { asArray, asObject, asString, cloneJson, isNil, semanticallyEqual, type JsonObject } from '../json-access.js';
import { labelSelectorErrors } from '../label-selector.js';
import { evaluateUsagePolicy, NamespacesFrom, type UsagePolicyOwnerKind } from '../usage-policy.js';

/** Collects errors and warnings of one validation. */
export class VerdictBuilder {
  readonly errors: FieldError[] = [];
  readonly warnings: string[] = [];

  error(code: FieldError['code'], path: string, message: string): void {
    this.errors.push(fieldError(code, path, message));
  }

  warn(path: string, message: string): void {
    this.warnings.push(path === '' ? message : `${path}: ${message}`);
  }

  add(errors: readonly FieldError[]): void {
    this.errors.push(...errors);
  }

  verdict(): Verdict {
    return { errors: this.errors, warnings: this.warnings };
  }
}

export const allowed = (): Verdict => ({ errors: [], warnings: [] });

export const namespaceOf = (object: KubeObject): string => object.metadata?.namespace ?? '';
export const nameOf = (object: KubeObject): string => object.metadata?.name ?? '';
export const specOf = (object: KubeObject | undefined): JsonObject => asObject(object?.spec) ?? {};

/** A deep copy with `spec` guaranteed to be an object (Go structs always have one). */
export function copyWithSpec(object: KubeObject): { copy: KubeObject; spec: JsonObject } {
  const copy = cloneJson(object);
  const existing = asObject(copy.spec);
  if (existing) return { copy, spec: existing };
  if (!isNil(copy.spec)) return { copy, spec: {} };
  const spec: JsonObject = {};
  copy.spec = spec;
  return { copy, spec };
}

/** Webhook default shared by BackupStorage, RetentionPolicy, BackupBlueprint, HookTemplate (SPEC §6.2). */
export function defaultUsagePolicy(spec: JsonObject): void {
  if (isNil(spec.usagePolicy)) spec.usagePolicy = { allowedNamespaces: { from: NamespacesFrom.Same } };
}

/**
 * The usage-policy rule of every policy-carrying kind: `from: Selector` needs a selector. A usagePolicy
 * without `from` makes KubeStash's webhook crash (so it is denied there too); an invalid selector is
 * accepted by KubeStash but matches no namespace, so it only warns.
 */
export function usagePolicyChecks(spec: JsonObject, out: VerdictBuilder): void {
  const policy = asObject(spec.usagePolicy);
  if (policy === undefined) return;
  const base = 'spec.usagePolicy.allowedNamespaces';
  const allowedNamespaces = asObject(policy.allowedNamespaces);
  if (isNil(allowedNamespaces?.from)) {
    out.error(
      ErrorCodes.Required,
      `${base}.from`,
      'usagePolicy is set but allowedNamespaces.from is not; set from to Same, All or Selector (or remove usagePolicy to get from: Same)',
    );
    return;
  }
  if (allowedNamespaces?.from === NamespacesFrom.Selector) {
    if (isNil(allowedNamespaces.selector)) {
      out.error(
        ErrorCodes.Required,
        `${base}.selector`,
        'selector cannot be empty for usage policy of type "Selector": add a selector (e.g. matchLabels) choosing the namespaces allowed to use this object',
      );
      return;
    }
    for (const problem of labelSelectorErrors(allowedNamespaces.selector, `${base}.selector`)) {
      out.warn(problem.path, `${problem.message}; KubeStash treats an invalid selector as matching no namespace`);
    }
  }
}

/** Spec immutability on UPDATE (BackupSession, BackupVerificationSession). */
export function immutableSpecChecks(context: ValidationContext, kind: string, out: VerdictBuilder): void {
  if (context.operation !== 'UPDATE' || context.oldObject === undefined) return;
  if (!semanticallyEqual(context.oldObject.spec, context.object.spec)) {
    out.error(ErrorCodes.Immutable, 'spec', `spec can not be updated: a ${kind} is immutable once created; create a new ${kind} instead`);
  }
}

/** A metav1.Duration field must parse with Go's time.ParseDuration, or KubeStash cannot decode the object. */
export function goDurationChecks(value: unknown, path: string, out: VerdictBuilder): void {
  if (isNil(value)) return;
  if (typeof value !== 'string') {
    out.error(ErrorCodes.TypeInvalid, path, 'must be a duration string such as "30s", "5m" or "1h30m"');
    return;
  }
  const parsed = parseGoDuration(value);
  if (!parsed.ok) {
    out.error(ErrorCodes.Invalid, path, `"${value}" is not a valid duration (${parsed.reason}); use a sequence of number+unit with units ns, us, ms, s, m, h, e.g. "30s" or "1h30m"`);
  }
}

/** Go durations of one session (BackupConfiguration, BackupBlueprint, BackupBatch sessions). */
export function sessionDurationChecks(session: JsonObject, path: string, out: VerdictBuilder): void {
  goDurationChecks(asObject(session.retryConfig)?.delay, joinPath(path, 'retryConfig', 'delay'), out);
  goDurationChecks(session.backupTimeout, joinPath(path, 'backupTimeout'), out);
  const hooks = asObject(session.hooks);
  for (const list of ['preBackup', 'postBackup']) {
    asArray(hooks?.[list]).forEach((hook, index) => goDurationChecks(asObject(hook)?.timeout, joinPath(path, 'hooks', list, index, 'timeout'), out));
  }
}

/** An ObjectReference as written: undefined when nil. */
export function objectRef(value: unknown): { name: string; namespace: string } | undefined {
  const ref = asObject(value);
  return ref === undefined ? undefined : { name: asString(ref.name), namespace: asString(ref.namespace) };
}

/**
 * Usage check for a referenced object (SPEC §6.3 items 6, 7 and blueprint backends): NotFound is ignored
 * (KubeStash does the same; we warn so the user knows nothing was checked), a refusal is an error, and a
 * decision that needs the labels of a Namespace the view does not know becomes a warning.
 */
export function referenceUsageChecks(
  view: ClusterView,
  kind: UsagePolicyOwnerKind & ViewKind,
  ref: { name: string; namespace: string },
  requesterNamespace: string,
  path: string,
  out: VerdictBuilder,
  warnWhenMissing: boolean,
): void {
  const target = view.get(kind, ref.namespace, ref.name);
  if (target === undefined) {
    if (warnWhenMissing) out.warn(path, `${kind} ${ref.namespace}/${ref.name} was not found, so its usage policy was not checked`);
    return;
  }
  const decision = evaluateUsagePolicy(target, kind, { name: requesterNamespace, object: view.namespace(requesterNamespace) });
  if (decision.allowed === false) {
    out.error(
      ErrorCodes.Forbidden,
      path,
      `namespace "${requesterNamespace}" is not allowed to refer ${kind} ${ref.namespace}/${ref.name}: ${decision.reason}. Please, check the \`usagePolicy\` of the ${kind}`,
    );
  } else if (decision.allowed === undefined) {
    out.warn(path, decision.reason);
  }
}

/**
 * HookTemplate usage of hooks (BackupConfiguration sessions, RestoreSession). KubeStash looks the template
 * up with the namespace exactly as written, so a reference without namespace never matches and is not checked.
 */
export function hookTemplateUsageChecks(view: ClusterView, hooks: unknown[], requesterNamespace: string, path: string, out: VerdictBuilder): void {
  hooks.forEach((hook, index) => {
    const ref = objectRef(asObject(hook)?.hookTemplate);
    if (ref === undefined) return;
    const refPath = joinPath(path, index, 'hookTemplate');
    if (ref.namespace === '') {
      out.warn(refPath, 'has no namespace, so its usage policy is not checked; set hookTemplate.namespace');
      return;
    }
    referenceUsageChecks(view, 'HookTemplate', ref, requesterNamespace, refPath, out, false);
  });
}

/** Rules for kinds KubeStash neither defaults nor validates. */
export const permissiveRules: KindRules = {
  applyDefaults: (object) => cloneJson(object),
  validate: () => allowed(),
};
