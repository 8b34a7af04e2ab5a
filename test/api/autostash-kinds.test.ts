// autostash's own kinds: found by the lookups and the schema validator, rendered as CRDs, never in `kinds`.
import t from 'tap';
import { autostashKindByApiVersion, autostashKindByGroupKind, autostashKinds } from '../../src/api/autostash/kinds.js';
import { allKinds, crdFor } from '../../src/api/crd.js';
import { kinds } from '../../src/api/kinds.js';
import { applySchemaDefaults, validateAgainstSchema } from '../../src/api/schema-validator.js';

const policy = (rules: Record<string, unknown>) => ({ apiVersion: 'policy.autostash.dev/v1alpha1', kind: 'BackupPolicy', metadata: { name: 'p' }, spec: { rules } });

t.test('BackupPolicy is registered apart from the KubeStash kinds', async (t) => {
  const info = autostashKindByGroupKind('policy.autostash.dev', 'BackupPolicy');
  t.ok(info);
  t.equal(info?.scope, 'Cluster');
  t.same(info?.shortNames, ['bkp']);
  t.equal(autostashKindByApiVersion('policy.autostash.dev/v1alpha1', 'BackupPolicy'), info);
  t.equal(autostashKindByApiVersion('policy.autostash.dev/v1', 'BackupPolicy'), undefined, 'other version');
  t.equal(autostashKindByApiVersion('v1', 'BackupPolicy'), undefined, 'no group');
  t.equal(autostashKindByGroupKind('core.kubestash.com', 'BackupPolicy'), undefined, 'other group');
  t.notOk(kinds.some((k) => k.kind === 'BackupPolicy'), 'not in the KubeStash registry (parity)');
  t.same(allKinds, [...kinds, ...autostashKinds]);
});

t.test('the CRD is ours: cluster-scoped, status subresource, autostash label', async (t) => {
  const crd = crdFor(autostashKinds[0]!) as { metadata: { name: string; labels: Record<string, string> }; spec: { scope: string; versions: Array<{ subresources: unknown }> } };
  t.equal(crd.metadata.name, 'backuppolicies.policy.autostash.dev');
  t.equal(crd.metadata.labels['app.kubernetes.io/name'], 'autostash');
  t.equal(crd.spec.scope, 'Cluster');
  t.same(crd.spec.versions[0]?.subresources, { status: {} });
});

t.test('schema validation and defaults know BackupPolicy', async (t) => {
  const defaulted = applySchemaDefaults(policy({ restore: {}, schedule: { action: 'Warn', maxInterval: '24h' } })) as { spec: { rules: Record<string, { action: string }> } };
  t.equal(defaulted.spec.rules['restore']?.action, 'Audit', 'action defaults to Audit');
  t.equal(defaulted.spec.rules['schedule']?.action, 'Warn', 'given actions stay');
  t.same(validateAgainstSchema(policy({ requireBackup: { action: 'Deny' } }))?.errors, []);
  const bad = validateAgainstSchema(policy({ allowedStorage: { providers: ['ftp'] }, retention: { minimumKept: { daily: -1 } } }));
  t.same(bad?.errors.map((e) => e.path).sort(), ['spec.rules.allowedStorage.providers[0]', 'spec.rules.retention.minimumKept.daily']);
  const status = validateAgainstSchema({ ...policy({ restore: {} }), status: { violationCount: 1, objects: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'a', name: 'b', rule: 'requireBackup', action: 'Audit', message: 'm' }] } });
  t.same(status?.errors, [], 'status shape');
  t.equal(validateAgainstSchema({ ...policy({}), apiVersion: 'policy.autostash.dev/v2' }), undefined, 'unknown version');
});
