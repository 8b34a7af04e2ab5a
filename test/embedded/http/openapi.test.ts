import t from 'tap';
import type { ResourceType } from '../../../src/embedded/api-types.js';
import { kindSchema, OpenapiDocuments, openapiGroupVersionDocument, schemaName } from '../../../src/embedded/http/openapi.js';

const base: ResourceType = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  listKind: 'DeploymentList',
  singular: 'deployment',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  verbs: ['get', 'list', 'create', 'update', 'patch', 'delete', 'deletecollection', 'watch'],
  statusSubresource: true,
};
const widget: ResourceType = {
  ...base,
  group: 'example.com',
  resource: 'widgets',
  kind: 'Widget',
  listKind: 'WidgetList',
  singular: 'widget',
  namespaced: false,
  statusSubresource: false,
  schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } },
};
const namespaces: ResourceType = { ...base, group: '', resource: 'namespaces', kind: 'Namespace', listKind: 'NamespaceList', singular: 'namespace', namespaced: false };
const leases: ResourceType = { ...base, group: 'coordination.k8s.io', resource: 'leases', kind: 'Lease', listKind: 'LeaseList', singular: 'lease' };

t.test('schema names follow kube-apiserver', async (t) => {
  t.equal(schemaName(namespaces), 'io.k8s.api.core.v1.Namespace');
  t.equal(schemaName(base), 'io.k8s.api.apps.v1.Deployment');
  t.equal(schemaName(leases), 'io.k8s.coordination.v1.Lease');
  t.equal(schemaName(widget), 'com.example.v1.Widget');
});

t.test('built-ins get a permissive schema, custom resources their CRD schema; both carry their GVK', async (t) => {
  t.match(kindSchema(base), {
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    'x-kubernetes-group-version-kind': [{ group: 'apps', version: 'v1', kind: 'Deployment' }],
    properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } },
  });
  const custom = kindSchema(widget);
  t.match(custom, { properties: { spec: { properties: { size: { type: 'integer' } } }, metadata: { type: 'object' } } });
  t.notOk('x-kubernetes-preserve-unknown-fields' in custom, 'a CRD schema stays structural');
});

t.test('a group/version document has PATCH operations kubectl recognises (GVK + fieldValidation)', async (t) => {
  const doc = openapiGroupVersionDocument([base, widget], 'apps', 'v1') as { paths: Record<string, Record<string, Record<string, unknown>>>; components: { schemas: Record<string, unknown> } };
  t.same(Object.keys(doc.components.schemas), ['io.k8s.api.apps.v1.Deployment']);
  const item = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
  const patch = item?.patch as { 'x-kubernetes-group-version-kind': unknown; parameters: { name: string; in: string }[]; requestBody: { content: Record<string, unknown> } };
  t.same(patch['x-kubernetes-group-version-kind'], { group: 'apps', version: 'v1', kind: 'Deployment' });
  t.ok(patch.parameters.some((p) => p.name === 'fieldValidation' && p.in === 'query'));
  t.notOk('application/strategic-merge-patch+json' in patch.requestBody.content, 'kubectl falls back to its compiled-in patch strategies');
  t.ok(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status']);
  const cluster = openapiGroupVersionDocument([widget], 'example.com', 'v1') as { paths: Record<string, unknown> };
  t.same(Object.keys(cluster.paths), ['/apis/example.com/v1/widgets', '/apis/example.com/v1/widgets/{name}']);
  t.ok(openapiGroupVersionDocument([namespaces], '', 'v1')?.paths);
  t.equal(openapiGroupVersionDocument([base], 'apps', 'v2'), undefined);
});

t.test('the index points at hashed documents and is rebuilt only when the resource set changes', async (t) => {
  const documents = new OpenapiDocuments();
  const first = documents.index([base, namespaces]) as { paths: Record<string, { serverRelativeURL: string }> };
  t.same(Object.keys(first.paths), ['apis/apps/v1', 'api/v1']);
  t.match(first.paths['api/v1']?.serverRelativeURL, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
  t.equal(documents.index([base, namespaces]), first, 'same resource set: cached');
  const second = documents.index([base, namespaces, widget]) as { paths: Record<string, unknown> };
  t.not(second, first);
  t.ok(second.paths['apis/example.com/v1']);
  t.match(JSON.parse(documents.document([base, namespaces, widget], 'example.com', 'v1') ?? '{}'), { openapi: '3.0.0' });
  t.equal(documents.document([base], 'nothing.io', 'v1'), undefined);
});
