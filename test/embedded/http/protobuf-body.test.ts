import t from 'tap';
import { decodeProtobufObject } from '../../../src/embedded/http/protobuf-body.js';
import { decodeBody } from '../../../src/embedded/http/request-body.js';

// Minimal protobuf encoder for the test inputs (varint keys, length-delimited and varint fields).
const varint = (value: number): Buffer => {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
};
const bytesField = (number: number, value: Buffer | string): Buffer => {
  const payload = Buffer.isBuffer(value) ? value : Buffer.from(value);
  return Buffer.concat([varint((number << 3) | 2), varint(payload.length), payload]);
};
const varintField = (number: number, value: number): Buffer => Buffer.concat([varint(number << 3), varint(value)]);
const entry = (number: number, key: string, value: Buffer | string): Buffer => bytesField(number, Buffer.concat([bytesField(1, key), bytesField(2, value)]));
const envelope = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
  Buffer.concat([Buffer.from('k8s\0', 'binary'), bytesField(1, Buffer.concat([bytesField(1, apiVersion), bytesField(2, kind)])), bytesField(2, raw), bytesField(4, 'application/vnd.kubernetes.protobuf')]);

const meta = bytesField(
  1,
  Buffer.concat([bytesField(1, 'n'), bytesField(2, 'gen-'), bytesField(3, 'ns'), entry(11, 'app', 'x'), entry(12, 'note', 'y'), bytesField(14, 'f1'), bytesField(14, 'f2')]),
);

t.test('supported kinds decode to their JSON form', async (t) => {
  t.same(decodeProtobufObject(envelope('v1', 'Namespace', Buffer.concat([meta, bytesField(2, bytesField(1, 'kubernetes'))]))), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'n', generateName: 'gen-', namespace: 'ns', labels: { app: 'x' }, annotations: { note: 'y' }, finalizers: ['f1', 'f2'] },
    spec: { finalizers: ['kubernetes'] },
  });
  t.same(decodeProtobufObject(envelope('v1', 'ConfigMap', Buffer.concat([entry(2, 'a', '1'), entry(3, 'bin', Buffer.from([0, 1])), varintField(4, 1)]))), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    data: { a: '1' },
    binaryData: { bin: 'AAE=' },
    immutable: true,
  });
  t.same(decodeProtobufObject(envelope('v1', 'Secret', Buffer.concat([entry(2, 'k', 'v'), bytesField(3, 'Opaque'), entry(4, 's', 't'), varintField(5, 0)]))), {
    apiVersion: 'v1',
    kind: 'Secret',
    data: { k: 'dg==' },
    type: 'Opaque',
    stringData: { s: 't' },
    immutable: false,
  });
  t.same(
    decodeProtobufObject(envelope('v1', 'ServiceAccount', Buffer.concat([bytesField(2, Buffer.concat([bytesField(1, 'Secret'), bytesField(3, 'tok')])), bytesField(3, bytesField(1, 'pull')), varintField(4, 1)]))),
    { apiVersion: 'v1', kind: 'ServiceAccount', secrets: [{ kind: 'Secret', name: 'tok' }], imagePullSecrets: [{ name: 'pull' }], automountServiceAccountToken: true },
  );
  const fixedWidth = Buffer.concat([Buffer.from([(9 << 3) | 1]), Buffer.alloc(8), Buffer.from([(9 << 3) | 5]), Buffer.alloc(4), varintField(300, 5)]);
  t.same(decodeProtobufObject(envelope('v1', 'ConfigMap', fixedWidth)), { apiVersion: 'v1', kind: 'ConfigMap' }, 'unknown and fixed-width fields are skipped');
});

t.test('other inputs', async (t) => {
  t.equal(decodeProtobufObject(Buffer.from('{"json":true}')), undefined, 'no magic prefix');
  t.equal(decodeProtobufObject(envelope('apps/v1', 'Deployment', Buffer.alloc(0))), undefined, 'unsupported kind');
  t.equal(decodeProtobufObject(Buffer.from('k8s\0', 'binary')), undefined, 'empty envelope');
  t.throws(() => decodeProtobufObject(Buffer.concat([envelope('v1', 'ConfigMap', Buffer.alloc(0)), Buffer.from([0x12, 0x05, 0x01])])), /truncated field/);
  t.throws(() => decodeProtobufObject(Buffer.concat([Buffer.from('k8s\0', 'binary'), Buffer.from([0x08, 0xff])])), /truncated varint/);
  t.throws(() => decodeProtobufObject(Buffer.concat([Buffer.from('k8s\0', 'binary'), Buffer.from([0x0b])])), /wire type 3/);
});

t.test('decodeBody routes protobuf, JSON and YAML', async (t) => {
  const protobuf = 'application/vnd.kubernetes.protobuf';
  t.match(decodeBody(envelope('v1', 'Namespace', meta), protobuf), { kind: 'Namespace', metadata: { name: 'n' } });
  t.throws(() => decodeBody(envelope('apps/v1', 'Deployment', meta), protobuf), { code: 415, reason: 'UnsupportedMediaType' });
  t.throws(() => decodeBody(Buffer.concat([Buffer.from('k8s\0', 'binary'), Buffer.from([0x08, 0xff])]), protobuf), { code: 400, reason: 'BadRequest' });
  t.throws(() => decodeBody(Buffer.from('{}'), 'application/cbor'), { code: 415 });
  t.same(decodeBody(Buffer.from('a: 1'), 'application/yaml'), { a: 1 });
  t.same(decodeBody(Buffer.from('{"a":1}'), ''), { a: 1 });
  t.equal(decodeBody(Buffer.from('  '), 'application/json'), undefined);
});
