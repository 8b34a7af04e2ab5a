import t from 'tap';
import { parseApiPath } from '../../../src/embedded/http/resource-path.js';

const rows: [string, unknown][] = [
  ['/healthz', { kind: 'health', check: 'healthz' }],
  ['/readyz', { kind: 'health', check: 'readyz' }],
  ['/version', { kind: 'version' }],
  ['/api', { kind: 'coreVersions' }],
  ['/api/v1', { kind: 'resourceList', group: '', version: 'v1' }],
  ['/apis', { kind: 'groupList' }],
  ['/apis/apps', { kind: 'group', group: 'apps' }],
  ['/apis/apps/v1', { kind: 'resourceList', group: 'apps', version: 'v1' }],
  ['/openapi/v2', { kind: 'openapiV2' }],
  ['/openapi/v3', { kind: 'openapiIndex' }],
  ['/openapi/v3/api/v1', { kind: 'openapiGroupVersion', group: '', version: 'v1' }],
  ['/openapi/v3/apis/apps/v1', { kind: 'openapiGroupVersion', group: 'apps', version: 'v1' }],
  ['/api/v1/namespaces', { kind: 'resource', group: '', version: 'v1', resource: 'namespaces', watchPrefix: false }],
  ['/api/v1/namespaces/demo', { kind: 'resource', group: '', version: 'v1', resource: 'namespaces', name: 'demo', watchPrefix: false }],
  ['/api/v1/namespaces/demo/status', { kind: 'resource', group: '', version: 'v1', resource: 'namespaces', name: 'demo', subresource: 'status', watchPrefix: false }],
  ['/api/v1/namespaces/demo/finalize', { kind: 'resource', group: '', version: 'v1', resource: 'namespaces', name: 'demo', subresource: 'finalize', watchPrefix: false }],
  ['/api/v1/namespaces/demo/pods', { kind: 'resource', group: '', version: 'v1', resource: 'pods', namespace: 'demo', watchPrefix: false }],
  ['/api/v1/namespaces/demo/pods/p1/status', { kind: 'resource', group: '', version: 'v1', resource: 'pods', namespace: 'demo', name: 'p1', subresource: 'status', watchPrefix: false }],
  ['/api/v1/pods', { kind: 'resource', group: '', version: 'v1', resource: 'pods', watchPrefix: false }],
  ['/apis/apps/v1/namespaces/a/deployments/d', { kind: 'resource', group: 'apps', version: 'v1', resource: 'deployments', namespace: 'a', name: 'd', watchPrefix: false }],
  ['/apis/apps/v1/watch/namespaces/a/deployments', { kind: 'resource', group: 'apps', version: 'v1', resource: 'deployments', namespace: 'a', watchPrefix: true }],
  ['/api/v1/namespaces/a/configmaps/with%20space', { kind: 'resource', group: '', version: 'v1', resource: 'configmaps', namespace: 'a', name: 'with space', watchPrefix: false }],
  ['/', undefined],
  ['/metrics', undefined],
  ['/openapi/v4', undefined],
  ['/openapi/v3/apis/apps', undefined],
  ['/openapi/v3/other/x', undefined],
  ['/api/v1/namespaces/a/pods/p/status/extra', undefined],
  ['/apis/apps/v1/watch', undefined],
  ['/api/v1/configmaps/%E0%A4%A', undefined],
];

for (const [path, expected] of rows) {
  t.same(parseApiPath(path), expected, path);
}
