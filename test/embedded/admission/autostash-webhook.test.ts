import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { kubeStashRules } from '../../../src/domain/kubestash-rules.js';
import { createAdmissionChain } from '../../../src/embedded/admission/index.js';
import type { AdmissionAttributes, ResourceType } from '../../../src/embedded/api-types.js';
import { buildApp } from '../../../src/server/app.js';
import { generateCertificates, toCaBundle } from '../../../src/server/certificates.js';
import { sharedDir } from '../../helpers/paths.js';

const example = (name: string) => parse(readFileSync(join(sharedDir, 'kubestash', 'examples', name), 'utf8')) as KubeObject;

const resourceType = (group: string, resource: string, kind: string): ResourceType => ({
  group,
  version: 'v1alpha1',
  resource,
  kind,
  listKind: `${kind}List`,
  singular: kind.toLowerCase(),
  namespaced: true,
  shortNames: [],
  categories: ['kubestash'],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  statusSubresource: true,
});
const backupStorages = resourceType('storage.kubestash.com', 'backupstorages', 'BackupStorage');
const backupConfigurations = resourceType('core.kubestash.com', 'backupconfigurations', 'BackupConfiguration');

const create = (type: ResourceType, object: KubeObject): AdmissionAttributes => ({
  operation: 'CREATE',
  resourceType: type,
  namespace: object.metadata?.namespace ?? 'demo',
  name: object.metadata?.name ?? '',
  object,
  dryRun: false,
  user: { username: 'kubernetes-admin', groups: ['system:masters'] },
});

t.test("autostash's own webhook app behind the embedded admission chain", async (t) => {
  const certs = await generateCertificates();
  const app = buildApp({ rules: kubeStashRules, logger: false, https: { key: certs.tlsKey, cert: certs.tlsCert } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const base = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const webhook = (name: string, path: string) => ({
    name,
    clientConfig: { url: `${base}${path}`, caBundle: toCaBundle(certs.caCert) },
    rules: [
      {
        operations: ['CREATE', 'UPDATE'],
        apiGroups: ['core.kubestash.com', 'storage.kubestash.com'],
        apiVersions: ['v1alpha1'],
        resources: ['*'],
        scope: 'Namespaced',
      },
    ],
    failurePolicy: 'Fail',
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    timeoutSeconds: 5,
  });
  const configuration = (kind: string, hook: unknown): KubeObject => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    metadata: { name: 'autostash' },
    webhooks: [hook],
  });
  const chain = createAdmissionChain({
    mutatingConfigurations: () => [configuration('MutatingWebhookConfiguration', webhook('mutate.autostash.dev', '/mutate'))],
    validatingConfigurations: () => [configuration('ValidatingWebhookConfiguration', webhook('validate.autostash.dev', '/validate'))],
    namespace: (name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
    logger: { info() {}, warn() {}, error() {}, debug() {} } as never,
  });
  t.teardown(() => chain.close());

  const storage = example('backends-local__backupstorage-hostpath.yaml');
  const { usagePolicy: _usagePolicy, ...specWithoutPolicy } = storage.spec as Record<string, unknown>;
  const withoutPolicy = { ...storage, spec: specWithoutPolicy };
  const mutated = await chain.mutate(create(backupStorages, withoutPolicy));
  t.same((mutated.object?.spec as Record<string, unknown>).usagePolicy, { allowedNamespaces: { from: 'Same' } }, '/mutate defaulted usagePolicy');
  t.notOk('usagePolicy' in (withoutPolicy.spec as object), 'the input object is left alone');
  t.same(await chain.validate(create(backupStorages, mutated.object as KubeObject)), { warnings: [] }, 'the defaulted BackupStorage is valid');

  const backupConfiguration = example('volumes-pvc__backupconfiguration.yaml');
  const invalid = { ...backupConfiguration, spec: { ...(backupConfiguration.spec as object), sessions: [] } };
  const error = await chain.validate(create(backupConfigurations, invalid)).catch((caught: unknown) => caught);
  t.match(error, {
    name: 'ApiError',
    code: 403,
    message: /^admission webhook "validate\.autostash\.dev" denied the request: BackupConfiguration "demo\/nfs-pvc-backup" is invalid: .*spec\.sessions/,
    details: { causes: [{ field: /^spec\.sessions/ }] },
  });
});
