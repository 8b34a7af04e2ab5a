import type { ClusterView } from '../domain/cluster-view.js';
import { ErrorCodes, formatDenial, type FieldError } from '../domain/errors.js';
import type { KindRules } from '../domain/kind-rules.js';
import { groupKindKey, type KubeObject } from '../domain/kube-object.js';
import { admissionPatch } from './patch.js';
import type { AdmissionRequest, AdmissionResponse } from './review.js';

/** The one logging call the handlers make (a pino logger fits). */
export interface AdmissionLogger {
  error(fields: Record<string, unknown>, message: string): void;
}

export interface AdmissionDeps {
  /** Rules per kind, keyed by `groupKindKey` (`storage.kubestash.com/BackupStorage`). */
  rules: ReadonlyMap<string, KindRules>;
  /** The cluster as the rules should see it for this request. */
  view: ClusterView;
  log?: AdmissionLogger;
}

/** How a request ended, for metrics and logs. */
export type AdmissionResult = 'allowed' | 'patched' | 'denied' | 'error' | 'unknown_kind';

export interface AdmissionOutcome {
  response: AdmissionResponse;
  result: AdmissionResult;
  /**
   * The API server marked the request as a dry run. The answer is the same (the handlers are pure);
   * callers must skip any side effect they would otherwise trigger.
   */
  dryRun: boolean;
}

type Webhook = 'mutate' | 'validate';

const objectOf = (request: AdmissionRequest): KubeObject | undefined => request.object ?? request.oldObject;

/** `namespace/name` as the API server prints it; the generateName prefix when the name is not chosen yet. */
function displayName(request: AdmissionRequest): string {
  const metadata = objectOf(request)?.metadata;
  const name = request.name ?? metadata?.name ?? (metadata?.generateName ? `${metadata.generateName}*` : '<unnamed>');
  const namespace = request.namespace ?? metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

function unknownKind(request: AdmissionRequest): AdmissionOutcome {
  const kind = request.kind.group ? `${request.kind.kind}.${request.kind.group}` : request.kind.kind;
  return {
    response: {
      uid: request.uid,
      allowed: true,
      warnings: [`autostash has no rules for kind ${kind}: admitted without defaulting or validation`],
    },
    result: 'unknown_kind',
    dryRun: request.dryRun,
  };
}

const allowed = (request: AdmissionRequest, warnings: readonly string[] = []): AdmissionOutcome => ({
  response: warnings.length > 0 ? { uid: request.uid, allowed: true, warnings: [...warnings] } : { uid: request.uid, allowed: true },
  result: 'allowed',
  dryRun: request.dryRun,
});

/** Fails closed: a rule that throws denies with 500 and a message that tells the user where to look, never the internals. */
function ruleFailure(webhook: Webhook, request: AdmissionRequest, error: unknown, log: AdmissionLogger | undefined): AdmissionOutcome {
  log?.error(
    { err: error, uid: request.uid, webhook, kind: groupKindKey(request.kind), operation: request.operation },
    'admission rule threw',
  );
  return {
    response: {
      uid: request.uid,
      allowed: false,
      status: {
        status: 'Failure',
        code: 500,
        reason: 'InternalError',
        message: `autostash could not ${webhook === 'mutate' ? 'default' : 'validate'} ${request.kind.kind} "${displayName(request)}": internal error in its rules (see the autostash logs for admission uid ${request.uid})`,
      },
    },
    result: 'error',
    dryRun: request.dryRun,
  };
}

function denial(request: AdmissionRequest, errors: readonly FieldError[], warnings: readonly string[]): AdmissionOutcome {
  const reason = errors.every((error) => error.code === ErrorCodes.Forbidden) ? 'Forbidden' : 'Invalid';
  const metadataName = objectOf(request)?.metadata?.name;
  const response: AdmissionResponse = {
    uid: request.uid,
    allowed: false,
    status: {
      status: 'Failure',
      code: 403,
      reason,
      message: formatDenial(request.kind.kind, displayName(request), errors),
      details: {
        ...((request.name ?? metadataName) !== undefined ? { name: request.name ?? metadataName } : {}),
        group: request.kind.group,
        kind: request.kind.kind,
        causes: errors.map((error) => ({ type: error.code, field: error.path, message: error.message })),
      },
    },
  };
  if (warnings.length > 0) response.warnings = [...warnings];
  return { response, result: 'denied', dryRun: request.dryRun };
}

/**
 * The object as the rules must see it: in the request's namespace. Samples from other tools leave
 * metadata.namespace out on CREATE; the rules resolve references relative to it. The namespace is
 * not part of a mutation patch, since the original is compared with this copy.
 */
function withRequestNamespace(object: KubeObject | undefined, namespace: string | undefined): KubeObject | undefined {
  if (object === undefined || namespace === undefined || namespace === '' || object.metadata?.namespace) return object;
  return { ...object, metadata: { ...object.metadata, namespace } };
}

/**
 * Mutating webhook: on CREATE and UPDATE, answers with the JSONPatch from the object to its defaulted copy
 * (no patch when defaulting changes nothing). Other operations and unknown kinds are allowed unchanged.
 * Never throws: a failing rule becomes a 500 denial.
 */
export function mutate(request: AdmissionRequest, deps: AdmissionDeps): AdmissionOutcome {
  const rules = deps.rules.get(groupKindKey(request.kind));
  if (rules === undefined) return unknownKind(request);
  const object = withRequestNamespace(request.object, request.namespace);
  if ((request.operation !== 'CREATE' && request.operation !== 'UPDATE') || object === undefined) return allowed(request);
  try {
    const patch = admissionPatch(object, rules.applyDefaults(object, deps.view));
    if (patch.patch === undefined) return allowed(request);
    return { response: { uid: request.uid, allowed: true, ...patch }, result: 'patched', dryRun: request.dryRun };
  } catch (error) {
    return ruleFailure('mutate', request, error, deps.log);
  }
}

/**
 * Validating webhook: CREATE and UPDATE validate the defaulted object (UPDATE also sees oldObject, for
 * immutability rules); DELETE hands the rules the stored object; CONNECT and unknown kinds are allowed.
 * Errors deny with 403 and one cause per field error; warnings ride along either way.
 * Never throws: a failing rule becomes a 500 denial (fail closed).
 */
export function validate(request: AdmissionRequest, deps: AdmissionDeps): AdmissionOutcome {
  const rules = deps.rules.get(groupKindKey(request.kind));
  if (rules === undefined) return unknownKind(request);
  try {
    let verdict;
    if (request.operation === 'CREATE' || request.operation === 'UPDATE') {
      const object = withRequestNamespace(request.object, request.namespace);
      if (object === undefined) return allowed(request);
      const defaulted = rules.applyDefaults(object, deps.view);
      verdict = rules.validate({
        operation: request.operation,
        object: defaulted,
        ...(request.operation === 'UPDATE' && request.oldObject !== undefined ? { oldObject: request.oldObject } : {}),
        view: deps.view,
      });
    } else if (request.operation === 'DELETE' && request.oldObject !== undefined) {
      verdict = rules.validate({ operation: 'DELETE', object: request.oldObject, oldObject: request.oldObject, view: deps.view });
    } else {
      return allowed(request);
    }
    if (verdict.errors.length > 0) return denial(request, verdict.errors, verdict.warnings);
    return allowed(request, verdict.warnings);
  } catch (error) {
    return ruleFailure('validate', request, error, deps.log);
  }
}
