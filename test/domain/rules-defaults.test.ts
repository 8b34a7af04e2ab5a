import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { createMemoryView } from '../../src/domain/memory-view.js';
import { kindRules } from '../../src/domain/rules/index.js';
import { sharedDir } from '../helpers/paths.js';
import { check, make, namespaceObject, rulesFor, validBackupConfiguration, validCluster } from '../helpers/domain-rules-fixtures.js';

const defaults = (object: KubeObject, cluster: KubeObject[] = []) => rulesFor(object.kind ?? '').applyDefaults(object, createMemoryView(cluster));
const same = { allowedNamespaces: { from: 'Same' } };

t.test('usagePolicy default (BackupStorage, RetentionPolicy, BackupBlueprint, HookTemplate)', async (t) => {
  for (const kind of ['BackupStorage', 'RetentionPolicy', 'BackupBlueprint', 'HookTemplate']) {
    t.same((defaults(make(kind, 'demo', 'x', {})).spec as any).usagePolicy, same, `${kind}: set when absent`);
    const all = { allowedNamespaces: { from: 'All' } };
    t.same((defaults(make(kind, 'demo', 'x', { usagePolicy: all })).spec as any).usagePolicy, all, `${kind}: kept when present`);
    t.same((defaults({ kind, metadata: { name: 'x' } }).spec as any).usagePolicy, same, `${kind}: spec created when absent`);
  }
});

t.test('BackupStorage trailing slash (one, on the listed fields only)', async (t) => {
  const input = make('BackupStorage', 'demo', 'x', {
    storage: { provider: 's3', s3: { bucket: 'b/', endpoint: 'https://s3/', prefix: 'p//', region: 'r/' }, gcs: { bucket: 'g/', prefix: 'q/' }, azure: { container: 'c/', prefix: 'a/' } },
  });
  const out = defaults(input).spec as any;
  t.same(out.storage.s3, { bucket: 'b', endpoint: 'https://s3', prefix: 'p/', region: 'r/' });
  t.same(out.storage.gcs, { bucket: 'g', prefix: 'q' });
  t.same(out.storage.azure, { container: 'c/', prefix: 'a' });
  t.equal((input.spec as any).storage.s3.bucket, 'b/', 'input not mutated');
});

t.test('RetentionPolicy failedSnapshots default', async (t) => {
  t.same((defaults(make('RetentionPolicy', 'demo', 'x', {})).spec as any).failedSnapshots, { last: 1 }, 'set when absent');
  t.same((defaults(make('RetentionPolicy', 'demo', 'x', { failedSnapshots: { last: 3 } })).spec as any).failedSnapshots, { last: 3 }, 'kept');
  t.same((defaults(make('RetentionPolicy', 'demo', 'x', { failedSnapshots: {} })).spec as any).failedSnapshots, {}, 'an empty object is not nil');
});

t.test('BackupConfiguration default backend and retention policy', async (t) => {
  const defaultBs = make('BackupStorage', 'demo', 'default-bs', { default: true, usagePolicy: same });
  const defaultRp = make('RetentionPolicy', 'demo', 'default-rp', { default: true, usagePolicy: same });
  const noBackends = make('BackupConfiguration', 'demo', 'bc', { sessions: [] });

  const both = defaults(noBackends, [defaultBs, defaultRp]).spec as any;
  t.same(both.backends, [{ storageRef: { name: 'default-bs', namespace: 'demo' }, retentionPolicy: { name: 'default-rp', namespace: 'demo' } }], 'backend named "" (name omitted) with both refs');

  t.same((defaults(noBackends, [defaultRp]).spec as any).backends, undefined, 'no default BackupStorage: no backend');
  t.same((defaults(noBackends, [defaultBs]).spec as any).backends, [{ storageRef: { name: 'default-bs', namespace: 'demo' } }], 'no default RetentionPolicy: storage only');

  const written = make('BackupConfiguration', 'demo', 'bc', { backends: [{ name: 'a', storageRef: { name: 's' } }, { name: 'b', storageRef: { name: 's' }, retentionPolicy: { name: 'mine' } }] });
  const filled = defaults(written, [defaultBs, defaultRp]).spec as any;
  t.same(filled.backends[0].retentionPolicy, { name: 'default-rp', namespace: 'demo' }, 'missing retentionPolicy filled');
  t.same(filled.backends[1].retentionPolicy, { name: 'mine' }, 'given retentionPolicy kept');
  t.equal(filled.backends.length, 2, 'given backends are never replaced');

  const unchanged = defaults(written, []).spec as any;
  t.equal(unchanged.backends[0].retentionPolicy, undefined, 'the loop returns when no default RetentionPolicy is found');

  const repoDefault = validBackupConfiguration();
  delete (repoDefault.spec as any).backends;
  delete (repoDefault.spec as any).sessions[0].repositories[0].backend;
  const verdict = check(repoDefault, { cluster: [...validCluster(), defaultBs, defaultRp] });
  t.same(verdict.errors, [], 'a repository without backend resolves to the "" default backend');
});

t.test('kinds without webhook defaulting return an equal copy', async (t) => {
  for (const kind of ['Repository', 'Snapshot', 'BackupSession', 'RestoreSession', 'BackupBatch', 'BackupVerifier', 'BackupVerificationSession', 'Addon', 'Function']) {
    const input = make(kind, 'demo', 'x', { a: 1 });
    const out = defaults(input);
    t.same(out, input, `${kind}: unchanged`);
    t.not(out, input, `${kind}: a copy`);
  }
});

t.test('DELETE is always allowed; Snapshot, Addon, Function validate nothing', async (t) => {
  for (const [key, rules] of kindRules) {
    const verdict = rules.validate({ operation: 'DELETE', object: { kind: key, spec: {} }, oldObject: { kind: key, spec: {} }, view: createMemoryView([]) });
    t.same(verdict.errors, [], `${key}: DELETE`);
  }
  for (const kind of ['Snapshot', 'Addon', 'Function']) t.same(check(make(kind, 'demo', 'x', { anything: 'goes' })).errors, [], kind);
  t.equal(kindRules.size, 14, 'every KubeStash kind has rules');
});

t.test('advisory warnings never deny', async (t) => {
  const bc = validBackupConfiguration();
  delete (bc.spec as any).sessions[0].repositories[0].encryptionSecret;
  (bc.spec as any).backends[0].storageRef.name = 'missing-bs';
  const verdict = check(bc, { cluster: validCluster() });
  t.same(verdict.errors, []);
  t.match(verdict.warnings.join('\n'), /encryptionSecret: not set: restic backups need a Secret with key RESTIC_PASSWORD/);
  t.match(verdict.warnings.join('\n'), /storageRef: BackupStorage demo\/missing-bs does not exist/);

  const unknownNs = check(validBackupConfiguration(), {
    cluster: [make('BackupStorage', 'demo', 'gcs-storage', { usagePolicy: { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { a: 'b' } } } } }), make('RetentionPolicy', 'demo', 'keep-1mo', { usagePolicy: same })],
  });
  t.same(unknownNs.errors, [], 'a selector decision on an unknown Namespace is not an error');
  t.match(unknownNs.warnings.join('\n'), /Namespace "demo" is unknown/);

  const badSelector = check(make('BackupStorage', 'demo', 'x', { usagePolicy: { allowedNamespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'a', operator: 'In' }] } } } }));
  t.same(badSelector.errors, [], 'KubeStash accepts an invalid selector');
  t.match(badSelector.warnings.join("\n"), /matching no namespace/);

  const noNsHook = validBackupConfiguration();
  (noNsHook.spec as any).sessions[0].hooks = { preBackup: [{ name: 'h', hookTemplate: { name: 'ht' } }] };
  const hookVerdict = check(noNsHook, { cluster: [...validCluster(), make('HookTemplate', '', 'ht', { usagePolicy: same })] });
  t.same(hookVerdict.errors, [], 'a HookTemplate ref without namespace is not checked (as KubeStash)');
  t.match(hookVerdict.warnings.join('\n'), /has no namespace/);

  const localOnly = check(make('BackupStorage', 'demo', 'a', { storage: { provider: 'local', local: { mountPath: '/m' } } }), {
    cluster: [make('BackupStorage', 'x', 'b', { storage: { provider: 'local', local: { mountPath: '/m' } } })],
  });
  t.same(localOnly.errors, [], 'local storage is never checked for directory uniqueness');
  t.match(check(make('BackupStorage', 'demo', 'a', { storage: { provider: 's3' } })).warnings.join(), /spec.storage.s3 is missing/);

  const nsMissingStorage = check(validBackupConfiguration(), { cluster: [namespaceObject('demo')] });
  t.same(nsMissingStorage.errors, [], 'NotFound references are ignored by usage checks');
});

t.test('KubeStash documentation examples pass', async (t) => {
  const dir = join(sharedDir, 'kubestash', 'examples');
  const objects: KubeObject[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) continue;
      const object = doc.toJS() as KubeObject | null;
      if (object && typeof object === 'object' && typeof object.kind === 'string') objects.push(object);
    }
  }
  const known = objects.filter((o) => typeof o.apiVersion === 'string' && o.apiVersion.includes('kubestash.com'));
  t.ok(known.length >= 15, `found ${known.length} KubeStash objects`);
  for (const object of known) {
    const group = (object.apiVersion ?? '').split('/')[0] ?? '';
    const rules = kindRules.get(`${group}/${object.kind}`);
    t.ok(rules, `${object.kind} has rules`);
    if (!rules) continue;
    const view = createMemoryView([]);
    const verdict = rules.validate({ operation: 'CREATE', object: rules.applyDefaults(object, view), view });
    t.same(verdict.errors, [], `${object.kind} ${object.metadata?.namespace}/${object.metadata?.name}`);
  }
});
