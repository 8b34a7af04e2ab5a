/**
 * validateRestoreSession over in-memory lookups: one row per rule, each failing row naming its field.
 */
import t from 'tap';
import type { Addon, AddonFunction, BackupStorage, Repository, RestoreSession, Snapshot } from '../../../src/api/index.js';
import { autostashAddons } from '../../../src/domain/execution/addons-catalog.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { newestSnapshotFirst, restoreTimeoutMs, targetRefOf, validateRestoreSession, type RestoreLookups } from '../../../src/controllers/restore/validate.js';

const catalog = autostashAddons('autostash:test');
const repository = (spec: Record<string, unknown> = {}): Repository =>
  ({ metadata: { name: 'repo', namespace: 'src' }, spec: { storageRef: { name: 'local' }, encryptionSecret: { name: 'enc' }, ...spec } }) as Repository;
const snap = (name: string, extra: { phase?: string; time?: string; created?: string; repo?: string | null; label?: string; components?: string[]; appRef?: object | null } = {}): Snapshot =>
  ({
    metadata: { name, namespace: 'src', ...(extra.created ? { creationTimestamp: extra.created } : {}), labels: extra.label ? { 'kubestash.com/repo-name': extra.label } : {} },
    spec: { ...(extra.repo === null ? {} : { repository: extra.repo ?? 'repo' }), ...(extra.appRef === null ? {} : { appRef: extra.appRef ?? { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'orig' } }) },
    status: { phase: extra.phase ?? 'Succeeded', ...(extra.time ? { snapshotTime: extra.time } : {}), components: Object.fromEntries((extra.components ?? ['dump']).map((c) => [c, { phase: 'Succeeded' }])) },
  }) as unknown as Snapshot;

interface World {
  repositories?: Repository[];
  storages?: string[];
  snapshots?: Snapshot[];
  secrets?: Record<string, 'ok' | 'noKey'>;
  targets?: string[];
  addons?: KubeObject[];
}
function lookups(world: World): RestoreLookups {
  return {
    repository: async (ns, name) => (world.repositories ?? [repository()]).find((r) => r.metadata?.namespace === ns && r.metadata?.name === name),
    storage: async (ns, name) => ((world.storages ?? ['src/local']).includes(`${ns}/${name}`) ? ({ metadata: { name, namespace: ns } } as BackupStorage) : undefined),
    snapshot: async (ns, name) => (world.snapshots ?? []).find((s) => s.metadata?.namespace === ns && s.metadata?.name === name),
    snapshotsOf: async (ns) => (world.snapshots ?? []).filter((s) => s.metadata?.namespace === ns),
    secretHasKey: async (ns, name) => (world.secrets ?? { 'src/enc': 'ok' })[`${ns}/${name}`] ?? 'missing',
    target: async (ref) => ((world.targets ?? ['dst/PersistentVolumeClaim/new']).includes(`${ref.namespace}/${ref.kind}/${ref.name}`) ? ({ kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } } as KubeObject) : undefined),
    addons: async () => (world.addons ?? catalog).filter((o) => o.kind === 'Addon') as Addon[],
    functions: async () => (world.addons ?? catalog).filter((o) => o.kind === 'Function') as AddonFunction[],
  };
}
const rs = (spec: Record<string, unknown> = {}, annotations?: Record<string, string>): RestoreSession =>
  ({
    metadata: { name: 'rs', namespace: 'dst', ...(annotations ? { annotations } : {}) },
    spec: {
      target: { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'new' },
      addon: { name: 'pvc-addon', tasks: [{ name: 'logical-backup-restore' }] },
      ...spec,
      dataSource: { namespace: 'src', repository: 'repo', snapshot: 's1', ...(spec.dataSource as object | undefined) },
    },
  }) as RestoreSession;

const good = [snap('s1')];
const failing: Array<{ rule: string; rs: RestoreSession; world?: World; field: string; message: RegExp; invalid?: boolean }> = [
  { rule: 'no repository named', rs: rs({ dataSource: { repository: '' } }), field: 'spec.dataSource.repository', message: /is required/ },
  { rule: 'pitr is not supported', rs: rs({ dataSource: { pitr: { targetTime: '2026-01-01T00:00:00Z' } } }), field: 'spec.dataSource.pitr', message: /not supported/ },
  { rule: 'the repository\'s storage is missing', rs: rs(), world: { storages: [], snapshots: good }, field: 'spec.dataSource.repository', message: /BackupStorage src\/local of Repository src\/repo .* not found/ },
  { rule: 'the repository has no storageRef', rs: rs(), world: { repositories: [repository({ storageRef: undefined })], snapshots: good }, field: 'spec.dataSource.repository', message: /has no spec.storageRef/ },
  { rule: 'a Snapshot without repository falls back to its label', rs: rs(), world: { snapshots: [snap('s1', { repo: null, label: 'other' })] }, field: 'spec.dataSource.snapshot', message: /belongs to Repository other, not repo/ },
  { rule: 'a Snapshot without components', rs: rs(), world: { snapshots: [snap('s1', { components: [] })] }, field: 'spec.dataSource.snapshot', message: /has no components to restore/ },
  { rule: 'no encryption Secret anywhere', rs: rs(), world: { repositories: [repository({ encryptionSecret: undefined })], snapshots: good }, field: 'spec.dataSource.encryptionSecret', message: /no encryption Secret: set spec.dataSource.encryptionSecret or spec.encryptionSecret of Repository src\/repo/ },
  { rule: 'the Repository\'s Secret without the key', rs: rs(), world: { secrets: { 'src/enc': 'noKey' }, snapshots: good }, field: 'spec.dataSource.encryptionSecret', message: /Secret src\/enc \(spec.encryptionSecret of Repository src\/repo\) has no key RESTIC_PASSWORD/ },
  { rule: 'no addon', rs: rs({ addon: {} }), world: { snapshots: good }, field: 'spec.addon.name', message: /is required/ },
  { rule: 'no task', rs: rs({ addon: { name: 'pvc-addon', tasks: [] } }), world: { snapshots: good }, field: 'spec.addon.tasks', message: /is empty/ },
  { rule: 'no target and no appRef', rs: rs({ target: undefined }), world: { snapshots: [snap('s1', { appRef: null })] }, field: 'spec.target', message: /spec.target is not set and Snapshot src\/s1 has no spec.appRef/ },
  { rule: 'the appRef target is missing', rs: rs({ target: undefined }), world: { snapshots: good }, field: 'spec.target', message: /PersistentVolumeClaim src\/orig \(spec.target \(not set; the Snapshot's spec.appRef\)\) not found/ },
  { rule: 'zero timeout', rs: rs({ restoreTimeout: '0s' }), field: 'spec.restoreTimeout', message: /is not positive/ },
  { rule: 'latest with nothing Succeeded is not Invalid', rs: rs({ dataSource: { snapshot: 'latest' } }), world: { snapshots: [snap('s1', { phase: 'Failed' })] }, field: 'spec.dataSource.snapshot', message: /has no Succeeded Snapshot/, invalid: false },
];

t.test('failing rules name their field', async (t) => {
  for (const row of failing) {
    const result = await validateRestoreSession(row.rs, lookups(row.world ?? { snapshots: good }));
    if (result.ok) {
      t.fail(`${row.rule}: passed`);
      continue;
    }
    t.equal(result.field, row.field, `${row.rule}: field`);
    t.match(result.message, row.message, `${row.rule}: message`);
    t.ok(result.message.includes(row.field), `${row.rule}: the message names ${row.field}`);
    t.equal(result.invalid, row.invalid ?? true, `${row.rule}: ${row.invalid === false ? 'Failed, not Invalid' : 'Invalid'}`);
  }
});

t.test('passing rules', async (t) => {
  const named = await validateRestoreSession(rs({ dataSource: { components: ['b'], encryptionSecret: { name: 'mine' } }, restoreTimeout: '1m30s' }), lookups({ snapshots: [snap('s1', { components: ['a', 'b'] })], secrets: { 'dst/mine': 'ok' } }));
  t.match(named, { ok: true, plan: { components: ['b'], available: ['a', 'b'], encryptionSecret: { namespace: 'dst', name: 'mine' }, timeoutMs: 90_000, manifest: false, targetRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'dst', name: 'new' } } }, 'a dataSource Secret defaults to the RestoreSession\'s namespace');

  const latest = await validateRestoreSession(
    rs({ dataSource: { snapshot: 'latest' } }),
    lookups({ snapshots: [snap('a', { time: '2026-01-01T00:00:00Z' }), snap('c', { created: '2026-01-03T00:00:00Z' }), snap('b', { time: '2026-01-03T00:00:00Z' }), snap('z', { phase: 'Failed', time: '2027-01-01T00:00:00Z' })] }),
  );
  t.equal(latest.ok && latest.plan.snapshot.metadata?.name, 'c', 'latest: newest Succeeded by snapshotTime or creation, ties by name');
  const pinned = await validateRestoreSession(rs({ dataSource: { snapshot: 'latest' } }, { 'autostash.dev/resolved-snapshot': 'a' }), lookups({ snapshots: [snap('a'), snap('b', { time: '2030-01-01T00:00:00Z' })] }));
  t.equal(pinned.ok && pinned.plan.snapshot.metadata?.name, 'a', 'the recorded resolution wins over latest');

  const appRef = await validateRestoreSession(rs({ target: undefined }), lookups({ snapshots: good, targets: ['src/PersistentVolumeClaim/orig'] }));
  t.match(appRef, { ok: true, plan: { targetRef: { namespace: 'src', name: 'orig' } } }, 'no spec.target: the Snapshot\'s appRef, in the Snapshot\'s namespace');

  const manifest = await validateRestoreSession(rs({ target: undefined, addon: { name: 'kubedump-addon', tasks: [{ name: 'manifest-restore' }] } }), lookups({ snapshots: [snap('s1', { appRef: null, components: ['manifest'] })] }));
  t.match(manifest, { ok: true, plan: { manifest: true, target: undefined, targetRef: undefined } }, 'a manifest restore needs no target');
  const manifestInto = await validateRestoreSession(
    rs({ target: { apiGroup: '', kind: 'Namespace', name: 'gone' }, addon: { name: 'kubedump-addon', tasks: [{ name: 'manifest-restore' }] } }),
    lookups({ snapshots: [snap('s1', { components: ['manifest'] })] }),
  );
  t.match(manifestInto, { ok: true, plan: { manifest: true, target: undefined } }, 'a manifest restore recreates a missing target');
});

t.test('helpers', async (t) => {
  t.same(restoreTimeoutMs(undefined), { ok: true, value: undefined });
  t.same(restoreTimeoutMs('250ms'), { ok: true, value: 250 });
  t.same(targetRefOf({ apiGroup: 'apps', kind: 'StatefulSet', name: 'db' }, 'ns'), { apiVersion: 'apps/v1', apiGroup: 'apps', kind: 'StatefulSet', namespace: 'ns', name: 'db' });
  t.same(targetRefOf({ name: 'x' }, 'ns'), { apiVersion: 'v1', apiGroup: '', kind: '', namespace: 'ns', name: 'x' });
  const undated = [snap('b'), snap('a')].sort(newestSnapshotFirst).map((s) => s.metadata?.name);
  t.same(undated, ['b', 'a'], 'no times: by name, descending');
});
