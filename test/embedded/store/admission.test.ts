import t from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { ApiError, type AdmissionAttributes, type AdmissionChain } from '../../../src/embedded/api-types.js';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';

const configmaps = { group: '', version: 'v1', resource: 'configmaps' };
const deployments = { group: 'apps', version: 'v1', resource: 'deployments' };

/** A test double of the AdmissionChain interface: records calls, labels objects, denies a name. */
class RecordingChain implements AdmissionChain {
  readonly calls: Array<{ phase: 'mutate' | 'validate'; attributes: AdmissionAttributes }> = [];

  async mutate(attributes: AdmissionAttributes) {
    this.calls.push({ phase: 'mutate', attributes: structuredClone(attributes) });
    const object = attributes.object ? structuredClone(attributes.object) : undefined;
    if (object?.metadata) object.metadata.labels = { ...object.metadata.labels, mutated: 'yes' };
    return { object, warnings: [] };
  }

  async validate(attributes: AdmissionAttributes) {
    this.calls.push({ phase: 'validate', attributes: structuredClone(attributes) });
    if (attributes.name === 'denied') throw new ApiError(403, 'Forbidden', 'admission webhook "deny.example.com" denied the request: no');
    return { warnings: [] };
  }

  summary() {
    return this.calls.map((call) => `${call.phase} ${call.attributes.operation}${call.attributes.subresource ? `/${call.attributes.subresource}` : ''}`);
  }
}

t.test('create: mutate sees the defaulted object, validate sees the mutated one with its name', async (t) => {
  const chain = new RecordingChain();
  const api = createEmbeddedApi({ admission: chain });
  t.teardown(() => api.close());
  const created = await api.create(deployments, 'default', { metadata: { generateName: 'web-' }, spec: { template: {} } }, { fieldManager: 'me', user: { username: 'alice', groups: ['dev'] } });
  t.equal(created.metadata?.labels?.mutated, 'yes', 'the mutated object is stored');
  t.same(chain.summary(), ['mutate CREATE', 'validate CREATE']);
  const [mutate, validate] = chain.calls;
  t.equal((mutate?.attributes.object?.spec as { replicas: number }).replicas, 1, 'defaults are applied before mutation');
  t.equal(mutate?.attributes.name, undefined, 'generateName has not produced a name yet');
  t.equal(validate?.attributes.name, created.metadata?.name);
  t.equal(validate?.attributes.object?.metadata?.labels?.mutated, 'yes');
  t.same(validate?.attributes.user, { username: 'alice', groups: ['dev'] });
  t.same(mutate?.attributes.options, { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions', fieldManager: 'me' });
  t.equal(mutate?.attributes.resourceType.kind, 'Deployment');
  t.equal(mutate?.attributes.namespace, 'default');
});

t.test('update, status update, patch and delete are admitted with oldObject', async (t) => {
  const chain = new RecordingChain();
  const api = createEmbeddedApi({ admission: chain });
  t.teardown(() => api.close());
  const created = await api.create(deployments, 'default', { metadata: { name: 'web' }, spec: { template: {} } });
  chain.calls.length = 0;
  const scaled = await api.update(deployments, 'default', { ...created, spec: { replicas: 2, template: {} } });
  await api.updateStatus(deployments, 'default', { ...scaled, status: { replicas: 2 } });
  await api.patch(deployments, 'default', 'web', 'merge', { spec: { replicas: 3 } });
  await api.delete(deployments, 'default', 'web', { dryRun: true, propagationPolicy: 'Foreground' });
  t.same(chain.summary(), ['mutate UPDATE', 'validate UPDATE', 'mutate UPDATE/status', 'validate UPDATE/status', 'mutate UPDATE', 'validate UPDATE', 'mutate DELETE', 'validate DELETE']);
  t.equal((chain.calls[0]?.attributes.oldObject?.spec as { replicas: number }).replicas, 1);
  t.same(chain.calls[0]?.attributes.options, { apiVersion: 'meta.k8s.io/v1', kind: 'UpdateOptions' });
  const deletion = chain.calls[7]?.attributes;
  t.equal(deletion?.dryRun, true);
  t.same(deletion?.options, { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions', dryRun: ['All'], propagationPolicy: 'Foreground' });
  t.equal(deletion?.object, undefined);
  t.equal(deletion?.oldObject?.metadata?.name, 'web');
});

t.test('a denial stops the write and nothing is stored', async (t) => {
  const chain = new RecordingChain();
  const api = createEmbeddedApi({ admission: chain });
  t.teardown(() => api.close());
  await t.rejects(api.create(configmaps, 'default', { metadata: { name: 'denied' } }), { code: 403, message: /denied the request/ });
  await t.rejects(api.get(configmaps, 'default', 'denied'), { code: 404 });
  t.same(chain.summary(), ['mutate CREATE', 'validate CREATE']);
});

t.test('validation runs before validating admission; an invalid object never reaches it', async (t) => {
  const chain = new RecordingChain();
  const api = createEmbeddedApi({ admission: chain });
  t.teardown(() => api.close());
  await t.rejects(api.create(configmaps, 'default', { metadata: { name: 'Invalid_Name' } }), { code: 422 });
  t.same(chain.summary(), ['mutate CREATE']);
});

t.test('a write landing during admission: unconditional updates retry, conditional ones conflict', async (t) => {
  let interfere: (() => Promise<unknown>) | undefined;
  const chain: AdmissionChain = {
    async mutate(attributes) {
      const action = interfere;
      interfere = undefined;
      if (action) await action();
      return { object: attributes.object, warnings: [] };
    },
    async validate() {
      return { warnings: [] };
    },
  };
  const api = createEmbeddedApi({ admission: chain });
  t.teardown(() => api.close());
  const created = await api.create(configmaps, 'default', { metadata: { name: 'raced' }, data: { a: '1' } });
  interfere = () => api.patch(configmaps, 'default', 'raced', 'merge', { data: { b: '2' } });
  const retried = await api.patch(configmaps, 'default', 'raced', 'merge', { data: { c: '3' } });
  t.same(retried.data, { a: '1', b: '2', c: '3' }, 'the patch was re-applied onto the newer object');
  const current = await api.get(configmaps, 'default', 'raced');
  interfere = () => api.patch(configmaps, 'default', 'raced', 'merge', { data: { d: '4' } });
  await t.rejects(api.update(configmaps, 'default', { ...current, data: { e: '5' } }), { code: 409, reason: 'Conflict' });
  interfere = () => api.patch(configmaps, 'default', 'raced', 'merge', { data: { f: '6' } });
  await api.delete(configmaps, 'default', 'raced');
  await t.rejects(api.get(configmaps, 'default', 'raced'), { code: 404 });
  interfere = () => api.create(configmaps, 'default', { metadata: { name: 'twice' } });
  await t.rejects(api.create(configmaps, 'default', { metadata: { name: 'twice' } }), { code: 409, reason: 'AlreadyExists' });
  t.ok(created);
});

t.test('a mutating chain that returns no object keeps the defaulted one', async (t) => {
  const chain: AdmissionChain = {
    async mutate() {
      return { object: undefined, warnings: [] };
    },
    async validate() {
      return { warnings: [] };
    },
  };
  const api = createEmbeddedApi({ admission: chain });
  t.teardown(() => api.close());
  const created: KubeObject = await api.create(configmaps, 'default', { metadata: { name: 'plain' } });
  t.equal(created.metadata?.name, 'plain');
  const updated = await api.patch(configmaps, 'default', 'plain', 'merge', { data: { a: 'b' } });
  t.same(updated.data, { a: 'b' });
});
