/**
 * Discovery against an API server whose aggregated group is down (as a cluster with metrics-server
 * unavailable answers): a plain HTTP server serving the discovery documents, one group answering 503.
 */
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { discoverDumpResourceTypes } from '../../../src/executor/kubedump/discovery.js';
import { createKubeClient } from '../../../src/kube/client.js';
import { silentLogger } from '../../helpers/control-plane.js';

const documents: Record<string, unknown> = {
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap', verbs: ['create', 'get', 'list'] },
      { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
      { name: 'bindings', singularName: 'binding', namespaced: true, kind: 'Binding', verbs: ['create'] },
      { name: 'componentstatuses', singularName: 'componentstatus', namespaced: false, kind: 'ComponentStatus', verbs: ['get', 'list'] },
    ],
  },
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [
      { name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } },
      { name: 'metrics.k8s.io', versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }], preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' } },
      { name: 'empty.example.com', versions: [] },
      { name: 'metrics.up.example.com', versions: [{ groupVersion: 'metrics.up.example.com/v1beta1', version: 'v1beta1' }], preferredVersion: { groupVersion: 'metrics.up.example.com/v1beta1', version: 'v1beta1' } },
      { name: 'example.com', versions: [{ groupVersion: 'example.com/v2', version: 'v2' }, { groupVersion: 'example.com/v1', version: 'v1' }] },
    ],
  },
  '/apis/apps/v1': { kind: 'APIResourceList', groupVersion: 'apps/v1', resources: [{ name: 'deployments', singularName: 'deployment', namespaced: true, kind: 'Deployment', verbs: ['create', 'list', 'get'] }] },
  '/apis/example.com/v2': { kind: 'APIResourceList', groupVersion: 'example.com/v2', resources: [{ name: 'widgets', singularName: 'widget', namespaced: false, kind: 'Widget', verbs: ['list', 'create'] }] },
  // metrics-server's types can be listed but never created, so never restored.
  '/apis/metrics.up.example.com/v1beta1': {
    kind: 'APIResourceList',
    groupVersion: 'metrics.up.example.com/v1beta1',
    resources: [
      { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
      { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
    ],
  },
};

t.test('discovery keeps listable top-level resources and skips a group that is down', async (t) => {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const document = documents[path];
    response.writeHead(document === undefined ? 503 : 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(document ?? { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'ServiceUnavailable', code: 503, message: 'the server is currently unable to handle the request' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const discovered = await discoverDumpResourceTypes(client, silentLogger());
  t.same(discovered.types, [
    { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true },
    { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true },
    { group: 'example.com', version: 'v2', resource: 'widgets', kind: 'Widget', namespaced: false },
  ], 'subresources and types without list or create are left out; a group without preferredVersion uses its first version; one without versions is skipped');
  t.same(discovered.unavailable, ['metrics.k8s.io/v1beta1']);
});
