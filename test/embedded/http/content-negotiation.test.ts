import t from 'tap';
import { negotiateShape, parseAccept } from '../../../src/embedded/http/content-negotiation.js';

const kubectlGet = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const rows: [string | undefined, boolean, unknown][] = [
  [undefined, true, { as: 'object' }],
  ['application/json', true, { as: 'object' }],
  ['*/*', true, { as: 'object' }],
  [kubectlGet, true, { as: 'Table', apiVersion: 'meta.k8s.io/v1' }],
  [kubectlGet, false, { as: 'object' }],
  ['application/json;as=Table;v=v1beta1;g=meta.k8s.io', true, { as: 'Table', apiVersion: 'meta.k8s.io/v1beta1' }],
  ['application/json;as=Table;v=v2;g=meta.k8s.io, application/json', true, { as: 'object' }],
  ['application/json;as=Table;g=other.io', true, { as: 'object' }],
  ['application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json', true, { as: 'object' }],
  ['application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io', true, { as: 'object' }],
  ['application/json;as=Table', true, { as: 'Table', apiVersion: 'meta.k8s.io/v1' }],
];
for (const [accept, tableAllowed, expected] of rows) t.same(negotiateShape(accept, tableAllowed), expected, `${accept} (table ${tableAllowed})`);

t.same(parseAccept('text/plain; q=0.5; broken'), [{ type: 'text/plain', params: { q: '0.5' } }]);
