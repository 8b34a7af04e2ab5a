/**
 * A kubedump manifest restore (kubedump-addon / manifest-restore, SPEC §9, §11): no target, or a target that does
 * not exist yet; one `manifest` Job in the RestoreSession's namespace; the per-object results the executor
 * writes end in a summary Event.
 */
import t from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { eventually } from '../../helpers/control-plane.js';
import { conditionOf, createSnapshot, NS, RS_TYPE, restoreSession, snapshot, startHarness } from './harness.js';

const manifestRestore = (name: string, target: Record<string, string> | null) =>
  restoreSession(name, { snapshot: 'dump-1', target, addon: 'kubedump-addon', task: 'manifest-restore' });

type JobArgs = { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> }; spec?: { template?: { spec?: { containers?: Array<{ args?: string[] }> } } } };

t.test('manifest restores: one manifest Job in the RestoreSession namespace, results in a summary Event', async (t) => {
  const h = await startHarness(t);
  await createSnapshot(h, snapshot('dump-1', { components: ['manifest'], appRef: { apiGroup: '', kind: 'Namespace', name: 'gone-app', namespace: NS } }));
  await h.start();

  t.test('into a namespace that does not exist any more', async (t) => {
    await h.client.create(manifestRestore('into-gone', null));
    const [job] = await eventually('the manifest Job', async () => {
      const jobs = await h.jobsOf('into-gone');
      return jobs.length > 0 ? jobs : undefined;
    });
    const { metadata, spec } = job as JobArgs;
    t.equal(metadata?.namespace, NS, 'runs in the RestoreSession\'s namespace, not the missing one');
    t.equal(metadata?.labels?.['autostash.dev/component'], 'manifest');
    t.match(spec?.template?.spec?.containers?.[0]?.args, ['exec', 'restore', `--namespace=${NS}`, '--restoresession=into-gone', '--component=manifest', '--snapshot=dump-1']);
    t.ok(spec?.template?.spec?.containers?.[0]?.args?.includes('--override-resources=false'), 'the restore parameters are passed with their defaults');
    const running = await h.phase('into-gone', 'Running');
    t.match(conditionOf(running, 'RestoreTargetFound'), { status: 'False', reason: 'TargetNotFound', message: /Namespace .*gone-app does not exist yet: the manifest restore creates it/ });
    t.equal(running.status?.targetFound, false);

    const written = await h.client.get<KubeObject & { status?: Record<string, unknown> }>({ ...RS_TYPE, namespace: NS, name: 'into-gone' });
    await h.client.updateStatus({ ...written, status: { ...written.status, manifestRestore: { total: 5, created: 3, updated: 0, skipped: 2, failed: 0, excluded: 1, resources: [], unlisted: 2 } } });
    await h.reportComponent('into-gone', 'manifest', { phase: 'Succeeded', duration: '2s' });
    await h.phase('into-gone', 'Succeeded');
    const events = await eventually('the summary Event', async () => {
      const found = await h.events('into-gone');
      return found.some((e) => e.reason === 'ManifestRestored') ? found : undefined;
    });
    t.match(events.find((e) => e.reason === 'ManifestRestored'), { type: 'Normal', message: 'manifests: 3 created, 0 updated, 2 skipped (exist), 0 failed, 1 excluded by filters' });
  });

  t.test('failed objects make the summary a Warning', async (t) => {
    await h.client.create(manifestRestore('with-failures', { apiGroup: '', kind: 'Namespace', name: 'gone-app' }));
    await eventually('the manifest Job', async () => ((await h.jobsOf('with-failures')).length > 0 ? true : undefined));
    const written = await h.client.get<KubeObject & { status?: Record<string, unknown> }>({ ...RS_TYPE, namespace: NS, name: 'with-failures' });
    await h.client.updateStatus({ ...written, status: { ...written.status, manifestRestore: { total: 2, created: 1, failed: 1, resources: [{ kind: 'Widget', name: 'w', result: 'Failed', reason: 'not served' }] } } });
    await h.reportComponent('with-failures', 'manifest', { phase: 'Failed', error: '1 of 2 objects failed to restore' });
    await h.phase('with-failures', 'Failed');
    const events = await eventually('the summary Event', async () => {
      const found = await h.events('with-failures');
      return found.some((e) => e.reason === 'ManifestRestoreIncomplete') ? found : undefined;
    });
    t.match(events.find((e) => e.reason === 'ManifestRestoreIncomplete'), { type: 'Warning', message: /1 created, 0 updated, 0 skipped \(exist\), 1 failed/ });
  });
});
