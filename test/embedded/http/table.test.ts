import t from 'tap';
import type { ResourceType } from '../../../src/embedded/api-types.js';
import { at, crdPrinterColumns, humanDuration, renderTable } from '../../../src/embedded/http/table.js';

const type = (over: Partial<ResourceType>): ResourceType => ({
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  listKind: 'ConfigMapList',
  singular: 'configmap',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: [],
  statusSubresource: false,
  ...over,
});

t.test('human durations as kubectl prints ages', async (t) => {
  const s = 1000;
  const rows: [number, string][] = [
    [-5 * s, '<invalid>'],
    [-500, '0s'],
    [45 * s, '45s'],
    [119 * s, '119s'],
    [180 * s, '3m'],
    [192 * s, '3m12s'],
    [45 * 60 * s, '45m'],
    [5 * 3600 * s, '5h'],
    [(5 * 3600 + 7 * 60) * s, '5h7m'],
    [30 * 3600 * s, '30h'],
    [3 * 86400 * s, '3d'],
    [(3 * 86400 + 4 * 3600) * s, '3d4h'],
    [100 * 86400 * s, '100d'],
    [(3 * 365 + 10) * 86400 * s, '3y10d'],
    [9 * 365 * 86400 * s, '9y'],
  ];
  for (const [ms, expected] of rows) t.equal(humanDuration(ms), expected, expected);
});

t.test('simple JSONPath', async (t) => {
  const object = { status: { phase: 'Ready', conditions: [{ type: 'A', status: 'False' }, { type: 'Ready', status: 'True' }] }, spec: { list: [1, 2] } };
  t.equal(at(object, '.status.phase'), 'Ready');
  t.equal(at(object, '.spec.list[1]'), 2);
  t.equal(at(object, '.status.conditions[?(@.type=="Ready")].status'), 'True');
  t.equal(at(object, ".status.conditions[?(@.type=='A')].status"), 'False');
  t.equal(at(object, '.status.missing.deeper'), undefined);
  t.equal(at(object, '.status.phase[0]'), undefined);
  t.equal(at(object, '.status[?(@.x=="y")]'), undefined);
  t.equal(at(object, '.status.phase.x'), undefined);
});

const now = Date.parse('2025-01-01T01:00:00Z');
const created = '2025-01-01T00:00:00Z';

t.test('built-in table: Name, extra columns, Age; rows carry PartialObjectMetadata by default', async (t) => {
  const deployment = { metadata: { name: 'app', creationTimestamp: created }, spec: { replicas: 2 }, status: { readyReplicas: 1 } };
  const table = renderTable([deployment], { resourceVersion: '5' }, {
    type: type({ group: 'apps', resource: 'deployments' }),
    includeObject: 'Metadata',
    apiVersion: 'meta.k8s.io/v1',
    now,
  }) as unknown as { kind: string; metadata: unknown; columnDefinitions: { name: string }[]; rows: { cells: unknown[]; object?: { kind: string } }[] };
  t.equal(table.kind, 'Table');
  t.same(table.metadata, { resourceVersion: '5' });
  t.same(table.columnDefinitions.map((c) => c.name), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age']);
  t.same(table.rows[0]?.cells, ['app', '1/2', 0, 0, '60m']);
  t.equal(table.rows[0]?.object?.kind, 'PartialObjectMetadata');

  const job = renderTable([{ metadata: { name: 'j' }, status: { succeeded: 1 } }], {}, { type: type({ group: 'batch', resource: 'jobs' }), includeObject: 'None', apiVersion: 'meta.k8s.io/v1beta1', now });
  const jobRow = (job as unknown as { apiVersion: string; rows: { cells: unknown[]; object?: unknown }[] });
  t.equal(jobRow.apiVersion, 'meta.k8s.io/v1beta1');
  t.same(jobRow.rows[0]?.cells, ['j', '1/1', '<unknown>']);
  t.notOk('object' in (jobRow.rows[0] ?? {}));

  const ns = renderTable([{ metadata: { name: 'demo', creationTimestamp: 'garbage' } }], {}, { type: type({ resource: 'namespaces' }), includeObject: 'Object', apiVersion: 'meta.k8s.io/v1', now });
  const nsRow = (ns as unknown as { rows: { cells: unknown[]; object: unknown }[] }).rows[0];
  t.same(nsRow?.cells, ['demo', '', '<unknown>']);
  t.same(nsRow?.object, { metadata: { name: 'demo', creationTimestamp: 'garbage' } });
  t.same((renderTable([{}], {}, { type: type({}), includeObject: 'None', apiVersion: 'meta.k8s.io/v1', now }) as unknown as { rows: { cells: unknown[] }[] }).rows[0]?.cells, ['', '<unknown>']);
});

t.test('CRD printer columns replace the defaults', async (t) => {
  const crd = {
    spec: {
      versions: [
        { name: 'v1alpha1', additionalPrinterColumns: [
          { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
          { name: 'Count', type: 'integer', jsonPath: '.status.count', priority: 1, description: 'how many' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ] },
        { name: 'v1' },
      ],
    },
  };
  const columns = crdPrinterColumns(crd, 'v1alpha1');
  t.equal(columns.length, 3);
  t.same(crdPrinterColumns(crd, 'v1'), []);
  t.same(crdPrinterColumns({}, 'v1'), []);
  const table = renderTable([{ metadata: { name: 'r', creationTimestamp: created }, status: { phase: 'Ready' } }], {}, {
    type: type({ group: 'x.io', resource: 'things' }),
    crdColumns: columns,
    includeObject: 'Metadata',
    apiVersion: 'meta.k8s.io/v1',
    now,
  }) as unknown as { columnDefinitions: { name: string; type: string; priority: number }[]; rows: { cells: unknown[] }[] };
  t.same(table.columnDefinitions.map((c) => [c.name, c.type, c.priority]), [['Name', 'string', 0], ['Phase', 'string', 0], ['Count', 'integer', 1], ['Age', 'string', 0]]);
  t.same(table.rows[0]?.cells, ['r', 'Ready', null, '60m']);
});
