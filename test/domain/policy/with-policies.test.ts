import t from 'tap';
import { admissionRules } from '../../../src/domain/admission-rules.js';
import type { Verdict } from '../../../src/domain/errors.js';
import type { KindRules, Operation } from '../../../src/domain/kind-rules.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { createMemoryView } from '../../../src/domain/memory-view.js';
import { withPolicies } from '../../../src/domain/policy/with-policies.js';
import { autoBackup, deployment, namespace, policy, restoreSession } from '../../helpers/policy-objects.js';

const namespaces = [namespace('prod', { env: 'prod' }), namespace('dev', { env: 'dev' })];
const viewWith = (action: string, extra: KubeObject[] = []) => createMemoryView([...namespaces, ...extra, policy('production', { requireBackup: { action } })]);
const deploymentRules = admissionRules.get('apps/Deployment') as KindRules;
const unprotected = deployment('prod', 'web', { pvc: 'data' });

t.test('Deny becomes a PolicyViolation error at the violation path', async (t) => {
  const verdict = deploymentRules.validate({ operation: 'CREATE', object: unprotected, view: viewWith('Deny') });
  t.same(verdict.errors.map((e) => [e.code, e.path]), [['PolicyViolation', 'metadata.annotations']]);
  t.match(verdict.errors[0]?.message, /^BackupPolicy "production" rule requireBackup \(Deny\): Deployment prod\/web mounts PVC data/);
  t.same(verdict.warnings, []);
});

t.test('Warn becomes a warning, Audit adds nothing', async (t) => {
  const warned = deploymentRules.validate({ operation: 'CREATE', object: unprotected, view: viewWith('Warn') });
  t.same(warned.errors, []);
  t.match(warned.warnings, [/^BackupPolicy "production" rule requireBackup \(Warn\)/]);
  t.same(deploymentRules.validate({ operation: 'CREATE', object: unprotected, view: viewWith('Audit') }), { errors: [], warnings: [] });
});

t.test('compliant objects pass', async (t) => {
  const annotated = deployment('prod', 'web', { pvc: 'data', annotations: autoBackup });
  const verdict = deploymentRules.validate({ operation: 'CREATE', object: annotated, view: viewWith('Deny') });
  t.same(verdict.errors, []);
});

t.test('UPDATE: an existing Deny violation only warns; a new one denies', async (t) => {
  const view = viewWith('Deny');
  const kept = deploymentRules.validate({ operation: 'UPDATE', object: unprotected, oldObject: unprotected, view });
  t.same(kept.errors, []);
  t.match(kept.warnings, [/already violated this rule before this update/]);
  const newlyBroken = deploymentRules.validate({ operation: 'UPDATE', object: unprotected, oldObject: deployment('prod', 'web'), view });
  t.same(newlyBroken.errors.map((e) => e.code), ['PolicyViolation']);
});

t.test('DELETE, CONNECT and objects being deleted are not policed', async (t) => {
  const view = viewWith('Deny');
  for (const operation of ['DELETE', 'CONNECT'] as Operation[]) {
    t.same(deploymentRules.validate({ operation, object: unprotected, view }).errors, [], operation);
  }
  const deleting = { ...unprotected, metadata: { ...unprotected.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
  t.same(deploymentRules.validate({ operation: 'UPDATE', object: deleting, oldObject: unprotected, view }).errors, []);
});

t.test('KubeStash kinds are policed in the same call (restore into a protected namespace)', async (t) => {
  const view = createMemoryView([...namespaces, policy('protect-prod', { restore: { action: 'Deny', namespaceSelector: { matchLabels: { env: 'prod' } } } })]);
  const restoreRules = admissionRules.get('core.kubestash.com/RestoreSession') as KindRules;
  const into = (ns: string) => restoreRules.validate({ operation: 'CREATE', object: restoreRules.applyDefaults(restoreSession('dev', 'rs', ns), view), view });
  t.ok(into('prod').errors.some((e) => e.code === 'PolicyViolation' && e.path === 'spec.target.namespace'));
  t.notOk(into('dev').errors.some((e) => e.code === 'PolicyViolation'));
});

t.test('auto-backup expansion errors: deny, unless a Warn/Audit requireBackup rule covers the namespace', async (t) => {
  // Only one of the two blueprint annotations: expansion fails with AutoBackupAnnotationInvalid.
  const broken = deployment('prod', 'web', { pvc: 'data', annotations: { 'blueprint.kubestash.com/name': 'daily' } });
  const denied = deploymentRules.validate({ operation: 'CREATE', object: broken, view: createMemoryView(namespaces) });
  t.same(denied.errors.map((e) => e.code), ['AutoBackupAnnotationInvalid'], 'no policy: deny');
  for (const action of ['Warn', 'Audit']) {
    const softened = deploymentRules.validate({ operation: 'CREATE', object: broken, view: viewWith(action) });
    t.same(softened.errors, [], `${action}: allowed`);
    t.match(softened.warnings, [/AutoBackupAnnotationInvalid|blueprint\.kubestash\.com\/namespace.*only warns or audits in namespace "prod"/], `${action}: warned`);
  }
  const strict = deploymentRules.validate({ operation: 'CREATE', object: broken, view: viewWith('Deny') });
  t.ok(strict.errors.some((e) => e.code === 'AutoBackupAnnotationInvalid'), 'Deny: still denied');
});

t.test('non auto-backup errors are never softened, and verdicts pass through untouched without violations', async (t) => {
  const failing: KindRules = {
    applyDefaults: (object) => object,
    validate: (): Verdict => ({ errors: [{ code: 'FieldValueInvalid', path: 'spec', message: 'bad' }], warnings: ['w'] }),
  };
  const wrapped = withPolicies(failing);
  t.equal(wrapped.applyDefaults(unprotected, viewWith('Warn')), unprotected);
  const verdict = wrapped.validate({ operation: 'CREATE', object: deployment('prod', 'web'), view: viewWith('Warn') });
  t.same(verdict, { errors: [{ code: 'FieldValueInvalid', path: 'spec', message: 'bad' }], warnings: ['w'] });
});
