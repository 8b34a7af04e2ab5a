import t from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { containerEnvironment, keyedValues, type PodIdentity } from '../../../src/embedded/controllers/container-env.js';

const pod: PodIdentity = { name: 'job-abcde', namespace: 'ns1', uid: 'u-1', nodeName: 'node-a', labels: { app: 'x' }, annotations: { note: 'n' } };
const b64 = (text: string): string => Buffer.from(text).toString('base64');
const objects: Record<string, KubeObject> = {
  'Secret/ns1/creds': { kind: 'Secret', data: { password: b64('s3cret'), user: b64('admin') } },
  'ConfigMap/ns1/settings': { kind: 'ConfigMap', data: { mode: 'fast' }, binaryData: { blob: b64('bin') } },
};
const read = async (kind: 'Secret' | 'ConfigMap', namespace: string, name: string): Promise<KubeObject | undefined> => objects[`${kind}/${namespace}/${name}`];

t.test('keyedValues decodes Secret data and ConfigMap binaryData', async (t) => {
  t.same(keyedValues(objects['Secret/ns1/creds']!).password?.toString(), 's3cret');
  const cm = keyedValues(objects['ConfigMap/ns1/settings']!);
  t.equal(cm.mode?.toString(), 'fast');
  t.equal(cm.blob?.toString(), 'bin');
  t.same(keyedValues({ kind: 'ConfigMap' }), {});
});

t.test('env: values, references to earlier variables, key refs, field refs, envFrom', async (t) => {
  const env = await containerEnvironment(
    {
      envFrom: [{ configMapRef: { name: 'settings' } }, { prefix: 'S_', secretRef: { name: 'creds' } }, { secretRef: { name: 'absent', optional: true } }],
      env: [
        { name: 'A', value: 'one' },
        { name: 'B', value: '$(A)-two-$(LATER)' },
        { name: 'LATER', value: 'late' },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
        { name: 'OPT', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope', optional: true } } },
        { name: 'OPT2', valueFrom: { secretKeyRef: { name: 'absent', key: 'k', optional: true } } },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'NOTE', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
        { value: 'ignored without a name' },
      ],
    },
    pod,
    read,
  );
  t.same(env, {
    mode: 'fast',
    blob: 'bin',
    S_password: 's3cret',
    S_user: 'admin',
    A: 'one',
    B: 'one-two-$(LATER)',
    LATER: 'late',
    PASSWORD: 's3cret',
    MODE: 'fast',
    POD: 'job-abcde',
    NS: 'ns1',
    NODE: 'node-a',
    APP: 'x',
    NOTE: 'n',
  });
});

t.test('env: a missing Secret, key or unsupported field is an error naming it', async (t) => {
  await t.rejects(containerEnvironment({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'absent', key: 'k' } } }] }, pod, read), /Secret ns1\/absent not found/);
  await t.rejects(containerEnvironment({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'k' } } }] }, pod, read), /key k not found in Secret ns1\/creds/);
  await t.rejects(containerEnvironment({ envFrom: [{ configMapRef: { name: 'absent' } }] }, pod, read), /ConfigMap ns1\/absent not found/);
  await t.rejects(containerEnvironment({ env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'status.phase' } } }] }, pod, read), /fieldRef status.phase is not supported/);
});
