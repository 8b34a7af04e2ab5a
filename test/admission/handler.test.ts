import fastJsonPatch from 'fast-json-patch';
import t from 'tap';
import { mutate, validate, type AdmissionDeps } from '../../src/admission/handler.js';
import type { AdmissionRequest } from '../../src/admission/review.js';
import { emptyClusterView } from '../../src/domain/cluster-view.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import {
  backupStorage,
  backupStorageKind,
  deploymentKind,
  fakeRegistry,
  noopKind,
  secretInError,
  throwingKind,
  viewWithStorages,
  type RuleCall,
} from '../fixtures/admission/fake-rules.js';

function admission(overrides: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return { uid: 'uid-1', kind: backupStorageKind, operation: 'CREATE', dryRun: false, object: backupStorage(), namespace: 'demo', name: 's3-storage', ...overrides };
}

function deps(calls: RuleCall[] = [], view = emptyClusterView) {
  const errors: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const value: AdmissionDeps = { rules: fakeRegistry(calls), view, log: { error: (fields, message) => errors.push({ fields, message }) } };
  return { deps: value, errors };
}

const applied = (object: KubeObject, patch: string | undefined): KubeObject =>
  fastJsonPatch.applyPatch(structuredClone(object), JSON.parse(Buffer.from(patch ?? '', 'base64').toString('utf8')), true, false).newDocument;

t.test('mutate answers with the patch to the defaulted object', async (t) => {
  const request = admission();
  const outcome = mutate(request, deps().deps);
  t.equal(outcome.result, 'patched');
  t.equal(outcome.response.uid, 'uid-1');
  t.equal(outcome.response.allowed, true);
  t.equal(outcome.response.patchType, 'JSONPatch');
  const spec = applied(request.object!, outcome.response.patch).spec as Record<string, any>;
  t.same(spec.usagePolicy, { allowedNamespaces: { from: 'Same' } });
  t.equal(spec.storage.s3.bucket, 'backups');
});

t.test('mutate without a change answers without a patch', async (t) => {
  const outcome = mutate(admission({ kind: noopKind }), deps().deps);
  t.same(outcome, { response: { uid: 'uid-1', allowed: true }, result: 'allowed', dryRun: false });
});

t.test('mutate leaves DELETE and CONNECT alone', async (t) => {
  for (const operation of ['DELETE', 'CONNECT'] as const) {
    const outcome = mutate(admission({ operation, oldObject: backupStorage() }), deps().deps);
    t.same(outcome.response, { uid: 'uid-1', allowed: true }, operation);
  }
});

t.test('validate allows a valid object and returns its warnings', async (t) => {
  const calls: RuleCall[] = [];
  const outcome = validate(admission({ object: backupStorage({ deletionPolicy: 'WipeOut' }) }), deps(calls).deps);
  t.equal(outcome.result, 'allowed');
  t.same(outcome.response, {
    uid: 'uid-1',
    allowed: true,
    warnings: ['spec.deletionPolicy: WipeOut deletes the backed up data with the BackupStorage'],
  });
  t.same((calls[0]?.object.spec as Record<string, unknown>).usagePolicy, { allowedNamespaces: { from: 'Same' } }, 'rules see the defaulted object');
  t.equal(calls[0]?.oldObject, undefined, 'no oldObject on CREATE');
});

t.test('validate denies with 403 and one cause per field error', async (t) => {
  const existingDefault = backupStorage({ default: true });
  existingDefault.metadata = { name: 'other', namespace: 'demo' };
  const request = admission({
    object: backupStorage({ default: true, usagePolicy: { allowedNamespaces: { from: 'Selector' } }, deletionPolicy: 'WipeOut' }),
  });
  const outcome = validate(request, deps([], viewWithStorages([existingDefault])).deps);
  t.equal(outcome.result, 'denied');
  t.same(outcome.response, {
    uid: 'uid-1',
    allowed: false,
    status: {
      status: 'Failure',
      code: 403,
      reason: 'Invalid',
      message:
        'BackupStorage "demo/s3-storage" is invalid: [spec.usagePolicy.allowedNamespaces.selector: selector cannot be empty for usage policy of type "Selector", spec.default: multiple default BackupStorages are not allowed within the same namespace]',
      details: {
        name: 's3-storage',
        group: 'storage.kubestash.com',
        kind: 'BackupStorage',
        causes: [
          {
            type: 'FieldValueRequired',
            field: 'spec.usagePolicy.allowedNamespaces.selector',
            message: 'selector cannot be empty for usage policy of type "Selector"',
          },
          { type: 'FieldValueForbidden', field: 'spec.default', message: 'multiple default BackupStorages are not allowed within the same namespace' },
        ],
      },
    },
    warnings: ['spec.deletionPolicy: WipeOut deletes the backed up data with the BackupStorage'],
  });
});

t.test('a denial made only of Forbidden errors has reason Forbidden', async (t) => {
  const existingDefault = backupStorage({ default: true });
  existingDefault.metadata = { name: 'other', namespace: 'demo' };
  const outcome = validate(admission({ object: backupStorage({ default: true }) }), deps([], viewWithStorages([existingDefault])).deps);
  t.equal(outcome.response.status?.reason, 'Forbidden');
  t.equal(outcome.response.status?.message, 'BackupStorage "demo/s3-storage" is invalid: spec.default: multiple default BackupStorages are not allowed within the same namespace');
});

t.test('UPDATE validates against oldObject', async (t) => {
  const calls: RuleCall[] = [];
  // The stored object was defaulted when it was created: its bucket has no trailing slash any more.
  const stored = backupStorage({ storage: { provider: 's3', s3: { bucket: 'backups', region: 'us-east-1', secretName: 's3-secret' } } });
  const old = { ...stored, status: { repositories: [{ name: 'r1' }] } };
  const changed = backupStorage({ storage: { provider: 's3', s3: { bucket: 'elsewhere', region: 'us-east-1' } } });
  const denied = validate(admission({ operation: 'UPDATE', object: changed, oldObject: old }), deps(calls).deps);
  t.equal(denied.result, 'denied');
  t.same(denied.response.status?.details?.causes, [{ type: 'FieldValueForbidden', field: 'spec.storage', message: 'BackupStorage is currently in use and cannot be modified' }]);
  t.same(calls[0]?.oldObject, old, 'the rules got the stored object');

  const unchanged = validate(admission({ operation: 'UPDATE', object: backupStorage(), oldObject: old }), deps().deps);
  t.equal(unchanged.result, 'allowed', 'the trailing-slash default makes the storage equal again');
});

t.test('DELETE hands the stored object to the rules, which allow it', async (t) => {
  const calls: RuleCall[] = [];
  const old = backupStorage();
  const outcome = validate(admission({ operation: 'DELETE', object: undefined, oldObject: old }), deps(calls).deps);
  t.same(outcome.response, { uid: 'uid-1', allowed: true });
  t.same(calls, [{ kind: 'BackupStorage', operation: 'DELETE', object: old, oldObject: old }]);

  const withoutOld = validate(admission({ operation: 'DELETE', object: undefined }), deps(calls).deps);
  t.same(withoutOld.response, { uid: 'uid-1', allowed: true }, 'nothing to check without the stored object');
  t.equal(calls.length, 1);
});

t.test('CONNECT is allowed without asking the rules', async (t) => {
  const calls: RuleCall[] = [];
  t.same(validate(admission({ operation: 'CONNECT', object: undefined }), deps(calls).deps).response, { uid: 'uid-1', allowed: true });
  t.equal(calls.length, 0);
});

t.test('dryRun gets the same answer and is surfaced', async (t) => {
  for (const [name, handle] of [['mutate', mutate], ['validate', validate]] as const) {
    const wet = handle(admission(), deps().deps);
    const dry = handle(admission({ dryRun: true }), deps().deps);
    t.same(dry.response, wet.response, `${name}: same answer`);
    t.equal(dry.dryRun, true, `${name}: dryRun surfaced`);
    t.equal(wet.dryRun, false, name);
  }
});

t.test('unknown kinds are allowed with a warning naming the kind', async (t) => {
  const secret = admission({ kind: { group: '', version: 'v1', kind: 'Secret' }, object: { kind: 'Secret', data: { password: 'c2VjcmV0' } } });
  for (const handle of [mutate, validate]) {
    const outcome = handle(secret, deps().deps);
    t.equal(outcome.result, 'unknown_kind');
    t.same(outcome.response, { uid: 'uid-1', allowed: true, warnings: ['autostash has no rules for kind Secret: admitted without defaulting or validation'] });
  }
  const grouped = validate(admission({ kind: { group: 'stash.appscode.com', version: 'v1beta1', kind: 'BackupConfiguration' } }), deps().deps);
  t.same(grouped.response.warnings, ['autostash has no rules for kind BackupConfiguration.stash.appscode.com: admitted without defaulting or validation']);
});

t.test('a rule that throws fails closed with 500 and keeps its internals out of the answer', async (t) => {
  for (const [name, handle, verb] of [['mutate', mutate, 'default'], ['validate', validate, 'validate']] as const) {
    const { deps: handlerDeps, errors } = deps();
    const outcome = handle(admission({ kind: throwingKind, name: undefined, namespace: undefined, object: { metadata: { generateName: 'boom-' } } }), handlerDeps);
    t.equal(outcome.result, 'error', name);
    t.same(
      outcome.response,
      {
        uid: 'uid-1',
        allowed: false,
        status: {
          status: 'Failure',
          code: 500,
          reason: 'InternalError',
          message: `autostash could not ${verb} Exploding "boom-*": internal error in its rules (see the autostash logs for admission uid uid-1)`,
        },
      },
      name,
    );
    t.notMatch(JSON.stringify(outcome.response), secretInError, `${name}: no internals in the answer`);
    t.equal(errors.length, 1, `${name}: logged`);
    t.match(errors[0], { message: 'admission rule threw', fields: { uid: 'uid-1', webhook: name, kind: 'test.autostash.dev/Exploding', operation: 'CREATE' } });
    t.ok(errors[0]?.fields.err instanceof Error, `${name}: the error is logged as err`);
  }
  const unnamed = validate(admission({ kind: throwingKind, name: undefined, namespace: undefined, object: { metadata: {} } }), deps().deps);
  t.match(unnamed.response.status?.message, /Exploding "<unnamed>"/);
});

t.test('the name in a denial comes from the object when the request has none', async (t) => {
  const outcome = validate(
    admission({ name: undefined, namespace: undefined, object: backupStorage({ usagePolicy: { allowedNamespaces: { from: 'Selector' } } }) }),
    deps().deps,
  );
  t.match(outcome.response.status, { message: /^BackupStorage "demo\/s3-storage" is invalid/, details: { name: 's3-storage' } });
  const clusterScoped = validate(
    admission({ name: undefined, namespace: undefined, object: { metadata: {}, spec: { usagePolicy: { allowedNamespaces: { from: 'Selector' } } } } }),
    deps().deps,
  );
  t.match(clusterScoped.response.status?.message, /^BackupStorage "<unnamed>" is invalid/);
  t.notOk(clusterScoped.response.status?.details && 'name' in clusterScoped.response.status.details, 'no name in details when none is known');
});

t.test('a Deployment gets its annotation default through the registry', async (t) => {
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'demo' } };
  const outcome = mutate(admission({ kind: deploymentKind, object: deployment }), deps().deps);
  t.same(applied(deployment, outcome.response.patch).metadata?.annotations, { 'autostash.dev/seen': 'true' });
});
