/**
 * Decodes the Kubernetes protobuf request bodies kubectl's typed clients send for `kubectl create
 * namespace|configmap|secret|serviceaccount` (client-go sends built-in kinds as protobuf and does not
 * retry with JSON). Only those kinds and the ObjectMeta fields a client sets are understood; any
 * other protobuf body stays unsupported (415). Field numbers are those of k8s.io/api's generated.proto.
 */

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** The media type client-go uses for protobuf. */
export const protobufMediaType = 'application/vnd.kubernetes.protobuf';

interface Field {
  number: number;
  /** Varint value (wire type 0) or bytes (wire type 2); fixed-width values are skipped. */
  value: bigint | Buffer;
}

function readVarint(buffer: Buffer, offset: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = offset; i < buffer.length && shift < 70n; i++) {
    const byte = buffer[i] as number;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, i + 1];
    shift += 7n;
  }
  throw new Error('truncated varint');
}

function fields(buffer: Buffer): Field[] {
  const out: Field[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const [key, next] = readVarint(buffer, offset);
    offset = next;
    const number = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [value, after] = readVarint(buffer, offset);
      out.push({ number, value });
      offset = after;
    } else if (wire === 2) {
      const [length, after] = readVarint(buffer, offset);
      const end = after + Number(length);
      if (end > buffer.length) throw new Error('truncated field');
      out.push({ number, value: buffer.subarray(after, end) });
      offset = end;
    } else if (wire === 1) offset += 8;
    else if (wire === 5) offset += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const bytesOf = (field: Field): Buffer => (Buffer.isBuffer(field.value) ? field.value : Buffer.alloc(0));
const text = (field: Field): string => bytesOf(field).toString('utf8');

type Reader = (field: Field, target: Record<string, unknown>) => void;

const setString = (name: string): Reader => (field, target) => void (target[name] = text(field));
const setBool = (name: string): Reader => (field, target) => void (target[name] = field.value === 1n);
const pushString = (name: string): Reader => (field, target) => void ((target[name] as string[] | undefined) ?? (target[name] = [])).push(text(field));
const mapEntry = (name: string, value: (bytes: Buffer) => string): Reader => (field, target) => {
  let key = '';
  let entryValue = '';
  for (const f of fields(bytesOf(field))) {
    if (f.number === 1) key = text(f);
    if (f.number === 2) entryValue = value(bytesOf(f));
  }
  ((target[name] as Record<string, string> | undefined) ?? (target[name] = {}) as Record<string, string>)[key] = entryValue;
};
const message = (name: string, readers: Record<number, Reader>, repeated = false): Reader => (field, target) => {
  const decoded = decodeMessage(bytesOf(field), readers);
  if (repeated) ((target[name] as unknown[] | undefined) ?? (target[name] = [])).push(decoded);
  else target[name] = decoded;
};

function decodeMessage(buffer: Buffer, readers: Record<number, Reader>): Record<string, unknown> {
  const target: Record<string, unknown> = {};
  for (const field of fields(buffer)) readers[field.number]?.(field, target);
  return target;
}

const utf8 = (b: Buffer): string => b.toString('utf8');
const base64 = (b: Buffer): string => b.toString('base64');

const objectMeta = message('metadata', {
  1: setString('name'),
  2: setString('generateName'),
  3: setString('namespace'),
  11: mapEntry('labels', utf8),
  12: mapEntry('annotations', utf8),
  14: pushString('finalizers'),
});

const kinds: Record<string, Record<number, Reader>> = {
  'v1/Namespace': { 1: objectMeta, 2: message('spec', { 1: pushString('finalizers') }) },
  'v1/ConfigMap': { 1: objectMeta, 2: mapEntry('data', utf8), 3: mapEntry('binaryData', base64), 4: setBool('immutable') },
  'v1/Secret': { 1: objectMeta, 2: mapEntry('data', base64), 3: setString('type'), 4: mapEntry('stringData', utf8), 5: setBool('immutable') },
  'v1/ServiceAccount': {
    1: objectMeta,
    2: message('secrets', { 1: setString('kind'), 2: setString('namespace'), 3: setString('name') }, true),
    3: message('imagePullSecrets', { 1: setString('name') }, true),
    4: setBool('automountServiceAccountToken'),
  },
};

/**
 * The JSON form of a protobuf body, or undefined when it is not a protobuf envelope of a supported
 * kind (the caller answers 415). Throws on a malformed envelope of a supported kind.
 */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> | undefined {
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) return undefined;
  const envelope = decodeMessage(body.subarray(magic.length), {
    1: message('typeMeta', { 1: setString('apiVersion'), 2: setString('kind') }),
    2: (field, target) => void (target.raw = bytesOf(field)),
  }) as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Buffer };
  const apiVersion = envelope.typeMeta?.apiVersion ?? '';
  const kind = envelope.typeMeta?.kind ?? '';
  const readers = kinds[`${apiVersion}/${kind}`];
  if (readers === undefined) return undefined;
  return { apiVersion, kind, ...decodeMessage(envelope.raw ?? Buffer.alloc(0), readers) };
}
