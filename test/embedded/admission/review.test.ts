import t from 'tap';
import type { AdmissionAttributes, ResourceType } from '../../../src/embedded/api-types.js';
import { buildAdmissionReview } from '../../../src/embedded/admission/review-request.js';
import { verifyAdmissionResponse } from '../../../src/embedded/admission/review-response.js';
import { resolveEndpoint } from '../../../src/embedded/admission/webhook-client.js';

const pods: ResourceType = {
  group: '',
  version: 'v1',
  resource: 'pods',
  kind: 'Pod',
  listKind: 'PodList',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  verbs: ['create', 'get'],
  statusSubresource: true,
};
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'demo' } };
const base: AdmissionAttributes = { operation: 'CREATE', resourceType: pods, namespace: 'demo', name: 'web', object: pod, dryRun: false, user: { username: 'admin', groups: ['system:masters'], uid: 'u-1' } };

t.test('the AdmissionReview v1 request', async (t) => {
  const review = buildAdmissionReview('uid-1', base, pod);
  t.same(review, {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: 'uid-1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      name: 'web',
      namespace: 'demo',
      operation: 'CREATE',
      userInfo: { username: 'admin', uid: 'u-1', groups: ['system:masters'] },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  });

  const status = buildAdmissionReview('uid-2', { ...base, operation: 'UPDATE', subresource: 'status', oldObject: pod, dryRun: true, user: { username: '', groups: [] } }, pod);
  t.match(status.request, {
    subResource: 'status',
    requestSubResource: 'status',
    operation: 'UPDATE',
    oldObject: pod,
    dryRun: true,
    userInfo: {},
    options: { kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1', dryRun: ['All'] },
  });

  const deletion = buildAdmissionReview('uid-3', { ...base, operation: 'DELETE', object: undefined, oldObject: pod }, pod);
  t.match(deletion.request, { operation: 'DELETE', object: null, oldObject: pod, options: { kind: 'DeleteOptions' } });

  const generated = buildAdmissionReview('uid-4', { ...base, name: undefined, options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl' } }, pod);
  const request = generated.request as Record<string, unknown>;
  t.notOk('name' in request, 'no name (generateName) is left out');
  t.same(request.options, { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl' }, 'the caller options are sent as given');

  const connect = buildAdmissionReview('uid-5', { ...base, operation: 'CONNECT', namespace: undefined }, undefined);
  t.match(connect.request, { options: null, object: null });
  t.notOk('namespace' in (connect.request as object));
});

const envelope = (response: unknown) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
const patch = Buffer.from('[]').toString('base64');

t.test('webhook responses kube-apiserver accepts', async (t) => {
  t.same(verifyAdmissionResponse(envelope({ uid: 'u', allowed: true }), 'u', false), { allowed: true, status: undefined, patch: undefined, warnings: [] });
  const mutated = verifyAdmissionResponse(envelope({ uid: 'u', allowed: true, patchType: 'JSONPatch', patch, warnings: ['w', 3] }), 'u', true);
  t.same(mutated.patch?.toString(), '[]');
  t.same(mutated.warnings, ['w'], 'non-string warnings are dropped');
  t.same(verifyAdmissionResponse(envelope({ uid: 'u', allowed: false, status: { code: 403 } }), 'u', false).status, { code: 403 });
  t.equal(verifyAdmissionResponse(envelope({ uid: 'u', allowed: 'yes' }), 'u', false).allowed, false, 'only a true allowed allows');
});

t.test('webhook responses kube-apiserver refuses (failurePolicy applies)', async (t) => {
  const rows: Array<[string, unknown, boolean, RegExp]> = [
    ['not an object', 'ok', false, /not an AdmissionReview object/],
    ['v1beta1 envelope', { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', response: { uid: 'u', allowed: true } }, false, /expected webhook response of admission\.k8s\.io\/v1, Kind=AdmissionReview, got admission\.k8s\.io\/v1beta1/],
    ['wrong kind', { apiVersion: 'admission.k8s.io/v1', kind: 'Status' }, false, /Kind=Status/],
    ['no response', envelope(undefined), false, /webhook response was absent/],
    ['wrong uid', envelope({ uid: 'other', allowed: true }), false, /expected response\.uid="u", got "other"/],
    ['missing uid', envelope({ allowed: true }), false, /got ""/],
    ['patch from a validating webhook', envelope({ uid: 'u', allowed: true, patchType: 'JSONPatch', patch }), false, /validating webhook may not return response\.patch/],
    ['patch without patchType', envelope({ uid: 'u', allowed: true, patch }), true, /response\.patch but not response\.patchType/],
    ['other patchType', envelope({ uid: 'u', allowed: true, patchType: 'MergePatch', patch }), true, /invalid response\.patchType of "MergePatch"/],
    ['patch not base64', envelope({ uid: 'u', allowed: true, patchType: 'JSONPatch', patch: '[{"op":"add"}]' }), true, /not base64/],
  ];
  for (const [name, body, mutating, message] of rows) {
    t.throws(() => verifyAdmissionResponse(body, 'u', mutating), { name: 'WebhookCallError', message: /^received invalid webhook response: / }, name);
    t.throws(() => verifyAdmissionResponse(body, 'u', mutating), { message }, `${name}: message`);
  }
});

t.test('endpoints', async (t) => {
  t.same(resolveEndpoint({ url: 'https://127.0.0.1:8443/mutate', caPem: 'CA' }, undefined), { url: new URL('https://127.0.0.1:8443/mutate'), caPem: 'CA' });
  t.throws(() => resolveEndpoint({ url: 'http://127.0.0.1/mutate' }, undefined), { message: /must use https/ });
  t.throws(() => resolveEndpoint({ url: 'not a url' }, undefined), { message: /is not a valid URL/ });
  t.throws(() => resolveEndpoint({}, undefined), { message: /neither url nor service/ });
  const service = { namespace: 'autostash', name: 'autostash', path: '/mutate', port: 443 };
  t.throws(() => resolveEndpoint({ service }, undefined), { message: 'service "autostash/autostash" cannot be reached: the embedded control plane has no cluster DNS and no address is known for it; use clientConfig.url' });
  t.throws(() => resolveEndpoint({ service }, () => undefined), { message: /cannot be reached/ });
  const resolved = resolveEndpoint({ service }, (namespace, name, port) => (namespace === 'autostash' && name === 'autostash' && port === 443 ? 'https://127.0.0.1:9443/' : undefined));
  t.equal(resolved.url.toString(), 'https://127.0.0.1:9443/mutate');
  t.equal(resolved.serverName, 'autostash.autostash.svc', 'the certificate is checked for the service DNS name, as kube does');
});
