import type { PolicyAction, PolicyRuleName } from '../../api/autostash/backup-policy.js';
import type { KubeObject } from '../kube-object.js';

export type { PolicyAction, PolicyRuleName } from '../../api/autostash/backup-policy.js';

/** The object a violation is about. */
export interface ViolationSubject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** One rule of one BackupPolicy broken by one object. */
export interface PolicyViolation {
  /** Name of the BackupPolicy. */
  policy: string;
  rule: PolicyRuleName;
  action: PolicyAction;
  object: ViolationSubject;
  /** Field path in the object the violation is about (e.g. `spec.sessions[0].scheduler.schedule`). */
  path: string;
  /** `BackupPolicy "<policy>" rule <rule> (<action>): <what is wrong>: <how to fix it>`. */
  message: string;
}

/** What a rule evaluator reports before the policy, rule and action are attached. */
export interface RuleFinding {
  path: string;
  /** What is wrong and how to fix it, starting with the object (e.g. `Deployment demo/web mounts ...`). */
  message: string;
}

export function subjectOf(object: KubeObject): ViolationSubject {
  const namespace = object.metadata?.namespace;
  return {
    apiVersion: object.apiVersion ?? '',
    kind: object.kind ?? '',
    ...(typeof namespace === 'string' && namespace !== '' ? { namespace } : {}),
    name: object.metadata?.name ?? '',
  };
}

/** `Deployment demo/web` (or `BackupStorage s3` for objects without a namespace). */
export function describeSubject(object: KubeObject): string {
  const subject = subjectOf(object);
  return `${subject.kind} ${subject.namespace === undefined ? '' : `${subject.namespace}/`}${subject.name}`;
}
