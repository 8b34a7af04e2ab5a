import t from 'tap';
import type { BackupStorage } from '../../../src/api/index.js';
import { resticTarget } from '../../../src/domain/backend/restic-repository.js';

type Backend = NonNullable<NonNullable<BackupStorage['spec']>['storage']>;

const storage = (backend: Backend): BackupStorage => ({
  apiVersion: 'storage.kubestash.com/v1alpha1',
  kind: 'BackupStorage',
  metadata: { name: 'store', namespace: 'demo' },
  spec: { storage: backend },
});

const DIR = 'demo/dep';
const COMPONENT = 'repository/v1/nightly/dump';
const SECRET_VALUES = ['AKIAEXAMPLE', 's3cr3t-key', 'my-project', '{"type":"service_account"}', 'azure-key==', '-----BEGIN CERTIFICATE-----x'];

interface OkRow {
  name: string;
  backend: Backend;
  secret?: Record<string, string>;
  directory?: string;
  component?: string;
  mountPathOverride?: string;
  repository: string;
  env?: Record<string, string>;
  files?: Array<{ name: string; content: string; env: string }>;
  args?: string[];
  warnings?: string[];
}

const okRows: OkRow[] = [
  {
    name: 'local: mountPath/directory/component',
    backend: { provider: 'local', local: { mountPath: '/safe/data', hostPath: { path: '/var/backups' } } },
    repository: '/safe/data/demo/dep/repository/v1/nightly/dump',
  },
  {
    name: 'local: subPath is included',
    backend: { provider: 'local', local: { mountPath: '/safe/data', subPath: 'team-a' } },
    repository: '/safe/data/team-a/demo/dep/repository/v1/nightly/dump',
  },
  {
    name: 'local: mountPathOverride replaces mountPath; slashes normalised',
    backend: { provider: 'local', local: { mountPath: '/safe/data', subPath: '/team-a/' } },
    mountPathOverride: '/tmp/backend//',
    directory: '/demo//dep/',
    component: 'repository/v1/nightly/dump/',
    repository: '/tmp/backend/team-a/demo/dep/repository/v1/nightly/dump',
  },
  {
    name: 'local: maxConnections becomes a restic option',
    backend: { provider: 'local', local: { mountPath: '/safe', maxConnections: 4 } },
    repository: '/safe/demo/dep/repository/v1/nightly/dump',
    args: ['--option=local.connections=4'],
  },
  {
    name: 's3: endpoint/bucket/prefix/dir/component with keys',
    backend: { provider: 's3', s3: { endpoint: 'https://minio.local:9000/', bucket: 'backups', prefix: '/cluster-1/', secretName: 's3-secret' } },
    secret: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 's3cr3t-key' },
    repository: 's3:https://minio.local:9000/backups/cluster-1/demo/dep/repository/v1/nightly/dump',
    env: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 's3cr3t-key' },
  },
  {
    name: 's3: no prefix, region → AWS_DEFAULT_REGION',
    backend: { provider: 's3', s3: { endpoint: 's3.amazonaws.com', bucket: 'b', region: 'eu-west-1', secretName: 's' } },
    secret: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 's3cr3t-key' },
    repository: 's3:s3.amazonaws.com/b/demo/dep/repository/v1/nightly/dump',
    env: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 's3cr3t-key', AWS_DEFAULT_REGION: 'eu-west-1' },
  },
  {
    name: 's3: credential-less when secretName is empty (secret data ignored)',
    backend: { provider: 's3', s3: { endpoint: 's3.amazonaws.com', bucket: 'b', secretName: '' } },
    secret: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' },
    repository: 's3:s3.amazonaws.com/b/demo/dep/repository/v1/nightly/dump',
  },
  {
    name: 's3: CA_CERT_DATA → file named by RESTIC_CACERT',
    backend: { provider: 's3', s3: { endpoint: 'https://minio', bucket: 'b', secretName: 's' } },
    secret: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 's3cr3t-key', CA_CERT_DATA: '-----BEGIN CERTIFICATE-----x' },
    repository: 's3:https://minio/b/demo/dep/repository/v1/nightly/dump',
    env: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 's3cr3t-key' },
    files: [{ name: 'ca.crt', content: '-----BEGIN CERTIFICATE-----x', env: 'RESTIC_CACERT' }],
  },
  {
    name: 's3: insecureTLS → --insecure-tls; maxConnections → option',
    backend: { provider: 's3', s3: { endpoint: 'https://minio', bucket: 'b', insecureTLS: true, maxConnections: 8 } },
    repository: 's3:https://minio/b/demo/dep/repository/v1/nightly/dump',
    args: ['--insecure-tls', '--option=s3.connections=8'],
  },
  {
    name: 's3: insecureTLS false adds nothing',
    backend: { provider: 's3', s3: { endpoint: 'https://minio', bucket: 'b', insecureTLS: false } },
    repository: 's3:https://minio/b/demo/dep/repository/v1/nightly/dump',
  },
  {
    name: 's3: empty endpoint defaults to AWS with a warning',
    backend: { provider: 's3', s3: { bucket: 'b' } },
    repository: 's3:s3.amazonaws.com/b/demo/dep/repository/v1/nightly/dump',
    warnings: ['spec.storage.s3.endpoint is empty; using s3.amazonaws.com'],
  },
  {
    name: 'gcs: gs:bucket:/prefix/dir/component, project id and key file',
    backend: { provider: 'gcs', gcs: { bucket: 'gbucket', prefix: 'p//q/', secretName: 'gcs-secret', maxConnections: 2 } },
    secret: { GOOGLE_PROJECT_ID: 'my-project', GOOGLE_SERVICE_ACCOUNT_JSON_KEY: '{"type":"service_account"}' },
    repository: 'gs:gbucket:/p/q/demo/dep/repository/v1/nightly/dump',
    env: { GOOGLE_PROJECT_ID: 'my-project' },
    files: [{ name: 'gcs-service-account.json', content: '{"type":"service_account"}', env: 'GOOGLE_APPLICATION_CREDENTIALS' }],
    args: ['--option=gs.connections=2'],
  },
  {
    name: 'gcs: no prefix',
    backend: { provider: 'gcs', gcs: { bucket: 'gbucket', secretName: 'g' } },
    secret: { GOOGLE_PROJECT_ID: 'my-project', GOOGLE_SERVICE_ACCOUNT_JSON_KEY: '{"type":"service_account"}' },
    repository: 'gs:gbucket:/demo/dep/repository/v1/nightly/dump',
    env: { GOOGLE_PROJECT_ID: 'my-project' },
    files: [{ name: 'gcs-service-account.json', content: '{"type":"service_account"}', env: 'GOOGLE_APPLICATION_CREDENTIALS' }],
  },
  {
    name: 'azure: azure:container:/prefix/dir/component, account name and key',
    backend: { provider: 'azure', azure: { container: 'c', storageAccount: 'acct', prefix: '/x/', secretName: 'az', maxConnections: 3 } },
    secret: { AZURE_ACCOUNT_KEY: 'azure-key==' },
    repository: 'azure:c:/x/demo/dep/repository/v1/nightly/dump',
    env: { AZURE_ACCOUNT_NAME: 'acct', AZURE_ACCOUNT_KEY: 'azure-key==' },
    args: ['--option=azure.connections=3'],
  },
  {
    name: 'azure: credential-less when secretName is absent',
    backend: { provider: 'azure', azure: { container: 'c', storageAccount: 'acct' } },
    repository: 'azure:c:/demo/dep/repository/v1/nightly/dump',
    env: { AZURE_ACCOUNT_NAME: 'acct' },
  },
];

t.test('resticTarget: one row per provider and option', async (t) => {
  for (const row of okRows) {
    const result = resticTarget(storage(row.backend), row.directory ?? DIR, row.component ?? COMPONENT, row.secret ?? {}, row.mountPathOverride);
    if (!result.ok) {
      t.fail(`${row.name}: unexpected errors ${JSON.stringify(result.errors)}`);
      continue;
    }
    const expected: Record<string, unknown> = { repository: row.repository, env: row.env ?? {}, args: row.args ?? [], warnings: row.warnings ?? [] };
    if (row.files !== undefined) expected.files = row.files;
    t.same(result.target, expected, row.name);
  }
});

interface ErrorRow {
  name: string;
  backend?: Backend;
  secret?: Record<string, string>;
  directory?: string;
  component?: string;
  errors: Array<{ code: string; path: string; message: RegExp }>;
}

const missingKey = (key: string, path: string, secret: string) => ({
  code: 'FieldValueRequired',
  path,
  message: new RegExp(`^Secret "${secret}" has no value for key ${key}; add ${key} to the Secret$`),
});

const errorRows: ErrorRow[] = [
  {
    name: 's3: AWS_ACCESS_KEY_ID missing',
    backend: { provider: 's3', s3: { endpoint: 'e', bucket: 'b', secretName: 's3s' } },
    secret: { AWS_SECRET_ACCESS_KEY: 's3cr3t-key' },
    errors: [missingKey('AWS_ACCESS_KEY_ID', 'spec.storage.s3.secretName', 's3s')],
  },
  {
    name: 's3: AWS_SECRET_ACCESS_KEY empty counts as missing',
    backend: { provider: 's3', s3: { endpoint: 'e', bucket: 'b', secretName: 's3s' } },
    secret: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: '' },
    errors: [missingKey('AWS_SECRET_ACCESS_KEY', 'spec.storage.s3.secretName', 's3s')],
  },
  {
    name: 's3: bucket missing',
    backend: { provider: 's3', s3: { endpoint: 'e' } },
    errors: [{ code: 'FieldValueRequired', path: 'spec.storage.s3.bucket', message: /bucket is required/ }],
  },
  {
    name: 'gcs: GOOGLE_PROJECT_ID missing',
    backend: { provider: 'gcs', gcs: { bucket: 'b', secretName: 'gs' } },
    secret: { GOOGLE_SERVICE_ACCOUNT_JSON_KEY: '{"type":"service_account"}' },
    errors: [missingKey('GOOGLE_PROJECT_ID', 'spec.storage.gcs.secretName', 'gs')],
  },
  {
    name: 'gcs: GOOGLE_SERVICE_ACCOUNT_JSON_KEY missing',
    backend: { provider: 'gcs', gcs: { bucket: 'b', secretName: 'gs' } },
    secret: { GOOGLE_PROJECT_ID: 'my-project' },
    errors: [missingKey('GOOGLE_SERVICE_ACCOUNT_JSON_KEY', 'spec.storage.gcs.secretName', 'gs')],
  },
  {
    name: 'gcs: no secretName (gcs has no credential-less mode)',
    backend: { provider: 'gcs', gcs: { bucket: 'b' } },
    errors: [{ code: 'FieldValueRequired', path: 'spec.storage.gcs.secretName', message: /GOOGLE_PROJECT_ID and GOOGLE_SERVICE_ACCOUNT_JSON_KEY is required/ }],
  },
  {
    name: 'gcs: bucket missing',
    backend: { provider: 'gcs', gcs: { secretName: 'gs' } },
    secret: { GOOGLE_PROJECT_ID: 'my-project', GOOGLE_SERVICE_ACCOUNT_JSON_KEY: '{"type":"service_account"}' },
    errors: [{ code: 'FieldValueRequired', path: 'spec.storage.gcs.bucket', message: /bucket is required/ }],
  },
  {
    name: 'azure: AZURE_ACCOUNT_KEY missing',
    backend: { provider: 'azure', azure: { container: 'c', storageAccount: 'a', secretName: 'az' } },
    secret: { OTHER: 'azure-key==' },
    errors: [missingKey('AZURE_ACCOUNT_KEY', 'spec.storage.azure.secretName', 'az')],
  },
  {
    name: 'azure: container and storageAccount missing',
    backend: { provider: 'azure', azure: {} },
    errors: [
      { code: 'FieldValueRequired', path: 'spec.storage.azure.container', message: /container is required/ },
      { code: 'FieldValueRequired', path: 'spec.storage.azure.storageAccount', message: /storage account is required/ },
    ],
  },
  {
    name: 'local: mountPath missing',
    backend: { provider: 'local', local: {} },
    errors: [{ code: 'FieldValueRequired', path: 'spec.storage.local.mountPath', message: /mount path of the local backend is required/ }],
  },
  {
    name: 'local: relative mountPath',
    backend: { provider: 'local', local: { mountPath: 'data' } },
    errors: [{ code: 'FieldValueInvalid', path: 'spec.storage.local.mountPath', message: /"data" must be absolute/ }],
  },
  {
    name: 'provider missing',
    backend: {},
    errors: [{ code: 'FieldValueRequired', path: 'spec.storage.provider', message: /provider is required/ }],
  },
  {
    name: 'no storage at all',
    errors: [{ code: 'FieldValueRequired', path: 'spec.storage.provider', message: /provider is required/ }],
  },
  {
    name: 'provider not supported',
    backend: { provider: 'swift' },
    errors: [{ code: 'FieldValueNotSupported', path: 'spec.storage.provider', message: /"swift" is not supported/ }],
  },
  {
    name: 'directory and component path must not escape with ..',
    backend: { provider: 'local', local: { mountPath: '/safe' } },
    directory: 'demo/../../etc',
    component: './x',
    errors: [
      { code: 'FieldValueInvalid', path: '', message: /repository directory "demo\/..\/..\/etc" must not contain/ },
      { code: 'FieldValueInvalid', path: '', message: /repository component path ".\/x" must not contain/ },
    ],
  },
];

t.test('resticTarget: each missing key or field is an error naming it, without secret values', async (t) => {
  for (const row of errorRows) {
    const bs = storage(row.backend ?? {});
    if (row.backend === undefined) delete bs.spec?.storage;
    const result = resticTarget(bs, row.directory ?? DIR, row.component ?? COMPONENT, row.secret ?? {});
    if (result.ok) {
      t.fail(`${row.name}: expected errors`);
      continue;
    }
    t.equal(result.errors.length, row.errors.length, `${row.name}: error count`);
    row.errors.forEach((expected, i) => {
      const actual = result.errors[i];
      t.equal(actual?.code, expected.code, `${row.name}: code`);
      t.equal(actual?.path, expected.path, `${row.name}: path`);
      t.match(actual?.message, expected.message, `${row.name}: message`);
    });
    const text = JSON.stringify(result.errors);
    for (const value of SECRET_VALUES) t.notOk(text.includes(value), `${row.name}: no secret value in errors`);
  }
});

t.test('resticTarget: warnings never carry secret values', async (t) => {
  const secret = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 's3cr3t-key' };
  const result = resticTarget(storage({ provider: 's3', s3: { bucket: 'b', secretName: 's' } }), DIR, COMPONENT, secret);
  t.ok(result.ok);
  if (!result.ok) return;
  t.equal(result.target.warnings.length, 1);
  for (const value of SECRET_VALUES) t.notOk(result.target.warnings.join('\n').includes(value), `no ${value.slice(0, 4)}… in warnings`);
});
