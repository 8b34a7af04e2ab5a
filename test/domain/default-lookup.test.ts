import t from 'tap';
import { findDefault, findDefaultBackupStorage, findDefaultRetentionPolicy } from '../../src/domain/default-lookup.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { createMemoryView } from '../../src/domain/memory-view.js';

type Kind = 'BackupStorage' | 'RetentionPolicy';
const obj = (kind: Kind, namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'storage.kubestash.com/v1alpha1',
  kind,
  metadata: { name, namespace },
  spec,
});
const policy = (from: string, selector?: unknown) => ({ allowedNamespaces: selector === undefined ? { from } : { from, selector } });
const demoNs: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: { tier: 'gold' } } };

for (const kind of ['BackupStorage', 'RetentionPolicy'] as const) {
  t.test(`${kind}: lookup order`, async (t) => {
    const sameDefault = obj(kind, 'demo', 'same', { default: true, usagePolicy: policy('Same') });
    const selectorDefault = obj(kind, 'shared', 'by-selector', { default: true, usagePolicy: policy('Selector', { matchLabels: { tier: 'gold' } }) });
    const allDefault = obj(kind, 'shared', 'for-all', { default: true, usagePolicy: policy('All') });

    const step1 = findDefault(createMemoryView([allDefault, selectorDefault, sameDefault, demoNs]), kind, 'demo');
    t.equal(step1?.object.metadata?.name, 'same', 'step 1 wins over steps 2 and 3 regardless of list order');
    t.equal(step1?.step, 'same-namespace');

    const step2 = findDefault(createMemoryView([allDefault, selectorDefault, demoNs]), kind, 'demo');
    t.equal(step2?.object.metadata?.name, 'by-selector', 'step 2 wins over step 3');
    t.equal(step2?.step, 'selector');

    const step3 = findDefault(createMemoryView([allDefault, demoNs]), kind, 'demo');
    t.equal(step3?.object.metadata?.name, 'for-all');
    t.equal(step3?.step, 'all');

    t.equal(findDefault(createMemoryView([demoNs]), kind, 'demo'), undefined, 'no default: no result');
  });

  t.test(`${kind}: pitfalls`, async (t) => {
    const ownAll = obj(kind, 'demo', 'own-all', { default: true, usagePolicy: policy('All') });
    const otherAll = obj(kind, 'zzz', 'other-all', { default: true, usagePolicy: policy('All') });
    t.equal(findDefault(createMemoryView([otherAll, ownAll]), kind, 'demo')?.object.metadata?.name, 'other-all', 'a same-namespace default with from: All is only found in step 3, in list order');
    t.equal(findDefault(createMemoryView([ownAll]), kind, 'demo')?.step, 'all');

    const sameElsewhere = obj(kind, 'other', 'same-elsewhere', { default: true, usagePolicy: policy('Same') });
    t.equal(findDefault(createMemoryView([sameElsewhere]), kind, 'demo'), undefined, 'a Same default of another namespace is never used');

    const notDefault = obj(kind, 'demo', 'not-default', { usagePolicy: policy('Same') });
    t.equal(findDefault(createMemoryView([notDefault]), kind, 'demo'), undefined, 'default: false/absent is ignored');
    const stringDefault = obj(kind, 'demo', 'string-default', { default: 'true', usagePolicy: policy('Same') });
    t.equal(findDefault(createMemoryView([stringDefault]), kind, 'demo'), undefined, 'only boolean true counts');

    const noSelector = obj(kind, 'shared', 'no-selector', { default: true, usagePolicy: policy('Selector') });
    t.equal(findDefault(createMemoryView([noSelector, demoNs]), kind, 'demo'), undefined, 'from: Selector without selector matches nothing');
    const mismatch = obj(kind, 'shared', 'mismatch', { default: true, usagePolicy: policy('Selector', { matchLabels: { tier: 'silver' } }) });
    t.equal(findDefault(createMemoryView([mismatch, demoNs]), kind, 'demo'), undefined, 'a non-matching selector is skipped');
    const emptySelector = obj(kind, 'shared', 'empty-selector', { default: true, usagePolicy: policy('Selector', {}) });
    t.equal(findDefault(createMemoryView([emptySelector]), kind, 'unknown-ns')?.step, 'selector', 'unknown Namespace: treated as label-less, {} still matches');
    const noFrom = obj(kind, 'demo', 'no-from', { default: true, usagePolicy: { allowedNamespaces: {} } });
    t.equal(findDefault(createMemoryView([noFrom]), kind, 'demo'), undefined, 'from unset matches no step');
    const noPolicy = obj(kind, 'demo', 'no-policy', { default: true });
    t.equal(findDefault(createMemoryView([noPolicy]), kind, 'demo')?.step, 'same-namespace', 'no usagePolicy reads as the webhook default Same');
  });
}

t.test('named helpers look up their own kind', async (t) => {
  const bs = obj('BackupStorage', 'demo', 'bs', { default: true, usagePolicy: policy('Same') });
  const rp = obj('RetentionPolicy', 'demo', 'rp', { default: true, usagePolicy: policy('Same') });
  const view = createMemoryView([bs, rp]);
  t.equal(findDefaultBackupStorage(view, 'demo')?.object.metadata?.name, 'bs');
  t.equal(findDefaultRetentionPolicy(view, 'demo')?.object.metadata?.name, 'rp');
});
