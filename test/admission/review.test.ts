import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { decodeAdmissionReview, encodeAdmissionReview } from '../../src/admission/review.js';
import { sharedDir } from '../helpers/paths.js';

const admissionDir = join(sharedDir, 'admission');
const samples = readdirSync(admissionDir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({ name, body: JSON.parse(readFileSync(join(admissionDir, name), 'utf8')) as unknown }));

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isEnvelope = (body: unknown): body is Record<string, unknown> => isRecord(body) && 'request' in body;
const v1 = (request: unknown) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });

t.test('every real sample decodes as expected', async (t) => {
  t.ok(samples.length >= 14, 'the shared samples are there');
  for (const { name, body } of samples) {
    if (body === null) {
      t.same(decodeAdmissionReview(body), { ok: false, message: 'body is JSON null: expected an AdmissionReview object' }, name);
      continue;
    }
    if (isEnvelope(body) && body.apiVersion === 'admission.k8s.io/v1beta1') {
      t.same(
        decodeAdmissionReview(body),
        { ok: false, message: 'admission.k8s.io/v1beta1 is not supported: register the webhook with admissionReviewVersions: ["v1"]' },
        name,
      );
      continue;
    }
    // Bare AdmissionRequests are what pepr and kubewarden keep in their test data; the API server sends the envelope.
    const envelope = isEnvelope(body) ? body : v1(body);
    const raw = envelope.request as Record<string, unknown>;
    const decoded = decodeAdmissionReview(envelope);
    if (!decoded.ok) {
      t.fail(`${name}: ${decoded.message}`);
      continue;
    }
    const request = decoded.request;
    t.equal(request.uid, raw.uid, `${name}: uid`);
    t.equal(request.operation, raw.operation, `${name}: operation`);
    t.same(request.kind, raw.kind, `${name}: kind`);
    t.equal(request.dryRun, false, `${name}: dryRun`);
    if (raw.operation === 'DELETE') {
      t.equal(request.object, undefined, `${name}: DELETE has no object`);
      t.ok(request.oldObject, `${name}: DELETE carries the stored object`);
    } else {
      t.same(request.object, raw.object, `${name}: object`);
    }
    if (raw.operation === 'CREATE') t.equal(request.oldObject, undefined, `${name}: oldObject absent, null or {} all decode as undefined`);
    if (raw.operation === 'UPDATE') t.same(request.oldObject, raw.oldObject, `${name}: oldObject`);
  }
});

t.test('a bare AdmissionRequest is told to wrap itself', async (t) => {
  const bare = samples.find((sample) => sample.name.startsWith('pepr_src_fixtures_data_admission-create'))?.body;
  const decoded = decodeAdmissionReview(bare);
  t.equal(decoded.ok, false);
  if (!decoded.ok) t.match(decoded.message, /^body is a bare AdmissionRequest: wrap it as \{"apiVersion":"admission.k8s.io\/v1"/);
});

const request = {
  uid: 'u-1',
  kind: { group: 'storage.kubestash.com', version: 'v1alpha1', kind: 'BackupStorage' },
  operation: 'CREATE',
  object: { metadata: { name: 'gcs' } },
};

const rejections: Array<[string, unknown, string | RegExp]> = [
  ['no body', undefined, 'body is empty: expected an AdmissionReview (admission.k8s.io/v1) as application/json'],
  ['an array', [], 'body is a JSON array: expected an AdmissionReview object'],
  ['a string', 'review', 'body is a JSON string: expected an AdmissionReview object'],
  ['a number', 7, 'body is a JSON number: expected an AdmissionReview object'],
  ['no apiVersion', { kind: 'AdmissionReview', request }, 'apiVersion must be "admission.k8s.io/v1", got nothing'],
  ['another group', { apiVersion: 'v1', kind: 'AdmissionReview', request }, 'apiVersion must be "admission.k8s.io/v1", got "v1"'],
  ['v1beta1', { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request }, /^admission.k8s.io\/v1beta1 is not supported/],
  ['wrong kind', { apiVersion: 'admission.k8s.io/v1', kind: 'Pod', request }, 'kind must be "AdmissionReview", got "Pod"'],
  ['no kind', { apiVersion: 'admission.k8s.io/v1', request }, 'kind must be "AdmissionReview", got nothing'],
  ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, 'request is required: an AdmissionReview must carry a request'],
  ['null request', v1(null), 'request is required: an AdmissionReview must carry a request'],
  ['array request', v1([request]), 'request must be an object, got a JSON array'],
  ['no uid', v1({ ...request, uid: undefined }), 'request.uid is required: a non-empty string'],
  ['empty uid', v1({ ...request, uid: '' }), 'request.uid is required: a non-empty string'],
  ['numeric uid', v1({ ...request, uid: 42 }), 'request.uid is required: a non-empty string'],
  ['no request.kind', v1({ ...request, kind: undefined }), /^request.kind is required/],
  ['string request.kind', v1({ ...request, kind: 'BackupStorage' }), /^request.kind is required/],
  ['numeric group', v1({ ...request, kind: { ...request.kind, group: 1 } }), 'request.kind.group must be a string'],
  ['numeric version', v1({ ...request, kind: { ...request.kind, version: 1 } }), 'request.kind.version must be a string'],
  ['no operation', v1({ ...request, operation: undefined }), 'request.operation must be one of CREATE, UPDATE, DELETE, CONNECT, got nothing'],
  ['lower-case operation', v1({ ...request, operation: 'create' }), 'request.operation must be one of CREATE, UPDATE, DELETE, CONNECT, got "create"'],
  ['array object', v1({ ...request, object: [] }), 'request.object must be an object or null, got a JSON array'],
  ['string oldObject', v1({ ...request, oldObject: 'x' }), 'request.oldObject must be an object or null, got a JSON string'],
  ['CREATE without object', v1({ ...request, object: null }), 'request.object is required for CREATE: the object being admitted'],
  ['UPDATE with {} object', v1({ ...request, operation: 'UPDATE', object: {} }), 'request.object is required for UPDATE: the object being admitted'],
  ['string dryRun', v1({ ...request, dryRun: 'true' }), 'request.dryRun must be a boolean'],
];

t.test('malformed reviews are rejected with a message naming the problem', async (t) => {
  for (const [name, body, message] of rejections) {
    const decoded = decodeAdmissionReview(body);
    t.equal(decoded.ok, false, name);
    if (!decoded.ok) {
      if (typeof message === 'string') t.equal(decoded.message, message, name);
      else t.match(decoded.message, message, name);
    }
  }
});

t.test('optional fields are normalised', async (t) => {
  const decoded = decodeAdmissionReview(
    v1({ ...request, name: '', namespace: 'demo', subResource: 'status', dryRun: true, kind: { kind: 'Secret' }, oldObject: {} }),
  );
  t.same(decoded, {
    ok: true,
    request: {
      uid: 'u-1',
      kind: { group: '', version: '', kind: 'Secret' },
      operation: 'CREATE',
      dryRun: true,
      namespace: 'demo',
      subResource: 'status',
      object: { metadata: { name: 'gcs' } },
    },
  });
  const nullDryRun = decodeAdmissionReview(v1({ ...request, dryRun: null, operation: 'CONNECT', object: undefined }));
  t.same(nullDryRun.ok && { dryRun: nullDryRun.request.dryRun, object: nullDryRun.request.object }, { dryRun: false, object: undefined });
});

t.test('responses always carry the v1 envelope', async (t) => {
  t.same(encodeAdmissionReview({ uid: 'u-1', allowed: true }), {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: 'u-1', allowed: true },
  });
});
