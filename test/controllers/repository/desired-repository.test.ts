import t from 'tap';
import type { BackupConfiguration } from '../../../src/api/core.js';
import type { Repository } from '../../../src/api/storage.js';
import { configurationRepositories, desiredRepository, repositoryAction } from '../../../src/controllers/repository/desired-repository.js';

const bc = (repositories: Array<Record<string, unknown>>, backends: Array<Record<string, unknown>> = [{ name: 'main', storageRef: { name: 'local' } }]): BackupConfiguration =>
  ({ metadata: { name: 'bc', namespace: 'demo' }, spec: { target: { kind: 'Deployment', name: 'app' }, backends, sessions: [{ name: 's', repositories }, { name: 't', repositories: [{ name: 'r', directory: 'other' }] }] } }) as BackupConfiguration;
const info = (extra: Record<string, unknown> = {}) => ({ name: 'r', backend: 'main', directory: 'd', ...extra });
const ours = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Repository =>
  ({ metadata: { name: 'r', namespace: 'demo', labels: { 'autostash.dev/backup-configuration': 'bc', 'app.kubernetes.io/managed-by': 'autostash' }, ...extra }, spec }) as Repository;
const desiredSpec = { storageRef: { name: 'local', namespace: 'demo' }, path: 'd', deletionPolicy: 'Delete', appRef: { kind: 'Deployment', name: 'app', namespace: 'demo' } };

t.test('configurationRepositories: first occurrence of each name', async (t) => {
  t.same(configurationRepositories(bc([info(), { directory: 'nameless' }])), [info()]);
  t.same(configurationRepositories({}), []);
});

t.test('desiredRepository: one row per rule', async (t) => {
  t.match(desiredRepository(bc([]), info({ deletionPolicy: 'WipeOut', encryptionSecret: { name: 'e' } })), { repository: { spec: { deletionPolicy: 'WipeOut', encryptionSecret: { name: 'e', namespace: 'demo' } } } }, 'WipeOut kept, secret namespace defaulted');
  t.match(desiredRepository(bc([]), info({ deletionPolicy: 'Retain' })), { repository: { spec: { deletionPolicy: 'Delete' } } }, 'Retain maps to Delete');
  t.match(desiredRepository(bc([]), info({ backend: undefined })), { repository: { spec: { storageRef: { name: 'local' } } } }, 'the only backend is the default');
  t.match(desiredRepository(bc([], [{ name: 'a' }, { name: 'b' }]), info({ backend: undefined })), { error: /backend \(unset\) names no entry/ }, 'no default among several');
  t.match(desiredRepository(bc([]), info({ backend: 'nope' })), { error: /backend "nope" names no entry/ });
  t.match(desiredRepository(bc([], [{ name: 'main' }]), info()), { error: /has no storageRef/ });
  t.match(desiredRepository(bc([]), info({ directory: '' })), { error: /directory is required/ });
  const noTarget = { ...bc([]), spec: { ...bc([]).spec, target: undefined } } as BackupConfiguration;
  const withoutTarget = desiredRepository(noTarget, info());
  t.equal('repository' in withoutTarget ? withoutTarget.repository.spec?.appRef : 'error', undefined, 'no target, no appRef');
});

t.test('repositoryAction: one row per rule', async (t) => {
  const config = bc([info()]);
  t.equal(repositoryAction(config, info(), undefined).action, 'create', 'missing: create');
  t.match(repositoryAction(config, info(), { metadata: { name: 'r', namespace: 'demo' } }), { action: 'conflict', reason: /no autostash.dev\/backup-configuration label/ }, 'user-made');
  t.match(repositoryAction(config, info(), { metadata: { name: 'r', namespace: 'demo', labels: { 'autostash.dev/backup-configuration': 'other' } } }), { action: 'conflict', reason: /belongs to BackupConfiguration other/ }, "another configuration's");
  t.match(repositoryAction(config, info(), ours(desiredSpec, { deletionTimestamp: '2025-01-01T00:00:00Z' })), { action: 'wait' }, 'ours, being deleted');
  t.match(repositoryAction(config, info(), ours({ ...desiredSpec, path: 'old' })), { action: 'conflict', reason: /cannot change/ }, 'path changed');
  t.equal(repositoryAction(config, info(), ours(desiredSpec)).action, 'none', 'in line');
  t.match(repositoryAction(config, info({ deletionPolicy: 'WipeOut' }), ours({ ...desiredSpec, paused: true })), { action: 'update', repository: { spec: { deletionPolicy: 'WipeOut', paused: true } } }, 'owned field changed, others kept');
  const update = repositoryAction(config, info(), ours({ ...desiredSpec, encryptionSecret: { name: 'gone' } }));
  t.equal(update.action === 'update' && update.repository.spec?.encryptionSecret, undefined, 'a field the configuration dropped is dropped');
  const relabel = repositoryAction(config, info(), { ...ours(desiredSpec), metadata: { name: 'r', namespace: 'demo', labels: { 'autostash.dev/backup-configuration': 'bc' } } });
  t.match(relabel, { action: 'update', repository: { metadata: { labels: { 'app.kubernetes.io/managed-by': 'autostash' } } } }, 'missing managed-by label added');
  t.match(repositoryAction(config, info({ backend: 'nope' }), undefined), { action: 'conflict' }, 'bad backend');
});
