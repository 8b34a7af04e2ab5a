import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { parse } from 'yaml';
import { startApiServer } from '../../../src/embedded/http/api-server.js';
import { generateToken, writeKubeconfig } from '../../../src/embedded/http/kubeconfig-file.js';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';
import { generateCertificates } from '../../../src/server/certificates.js';
import { repoRoot, sharedDir } from '../../helpers/paths.js';

const kubectlMissing = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).error !== undefined;
const skip = kubectlMissing ? 'kubectl is not on PATH; install kubectl to run the kubectl compatibility tests' : false;

t.test('kubectl against the embedded API server', { skip }, async (t) => {
  const certs = await generateCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const token = generateToken();
  const api = createEmbeddedApi();
  const requests: string[] = [];
  const server = await startApiServer({
    api,
    port: 0,
    tls: { key: certs.tlsKey, cert: certs.tlsCert },
    caCert: certs.caCert,
    token,
    logger: {
      debug: (entry: unknown) => {
        const { method, path, query } = entry as { method: string; path: string; query: string };
        requests.push(`${method} ${path}${query}`);
      },
      warn: () => undefined,
      error: () => undefined,
    },
  });
  const dir = await mkdtemp(join(tmpdir(), 'embedded-kubectl-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeKubeconfig(kubeconfig, { server: server.url, caCert: certs.caCert, token });
  t.teardown(async () => {
    await server.close();
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  const stderrs: string[] = [];
  const kubectl = async (...args: string[]): Promise<string> => {
    const { stdout, stderr } = await promisify(execFile)('kubectl', ['--cache-dir', join(dir, 'cache'), ...args], {
      env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir },
      encoding: 'utf8',
    });
    stderrs.push(stderr);
    return stdout;
  };
  const kubectlFails = async (...args: string[]): Promise<string> => {
    try {
      await kubectl(...args);
    } catch (error) {
      return (error as { stderr: string }).stderr;
    }
    throw new Error(`kubectl ${args.join(' ')} succeeded`);
  };

  t.test('version, api-resources and get ns', async (t) => {
    t.match(await kubectl('version'), /Server Version: v1\.32\.0-autostash/);
    const resources = await kubectl('api-resources');
    t.match(resources, /deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    t.match(resources, /customresourcedefinitions\s+crd,crds\s+apiextensions\.k8s\.io\/v1\s+false\s+CustomResourceDefinition/);
    t.match(await kubectl('get', 'ns'), /NAME\s+STATUS\s+AGE\n(.*\n)*default\s+Active\s+\d+s/);
  });

  t.test('apply (validation on), get, apply a change, server-side apply, delete', async (t) => {
    const manifest = join(dir, 'deployment.yaml');
    const deployment = (image: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: default
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: ${image}
        ports: [{containerPort: 80}]
`;
    await writeFile(manifest, deployment('nginx:1.25', 1));
    t.match(await kubectl('apply', '-f', manifest), 'deployment.apps/app created');
    t.match(await kubectl('get', 'deploy'), /NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\napp\s+0\/1\s+0\s+0\s+\d+s/);
    const asYaml = parse(await kubectl('get', 'deploy', 'app', '-o', 'yaml')) as { metadata: { annotations: Record<string, string> }; spec: unknown };
    t.ok(asYaml.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);

    await writeFile(manifest, deployment('nginx:1.27', 2));
    t.match(await kubectl('apply', '-f', manifest), 'deployment.apps/app configured');
    const changed = JSON.parse(await kubectl('get', 'deploy', 'app', '-o', 'json')) as { spec: { replicas: number; template: { spec: { containers: unknown[] } } } };
    t.equal(changed.spec.replicas, 2);
    t.match(changed.spec.template.spec.containers, [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }]);
    t.equal(changed.spec.template.spec.containers.length, 1);

    await writeFile(manifest, deployment('nginx:1.28', 3));
    t.match(await kubectl('apply', '--server-side', '-f', manifest), 'deployment.apps/app serverside-applied');
    const serverSide = JSON.parse(await kubectl('get', 'deploy', 'app', '-o', 'json')) as { spec: { replicas: number } };
    t.equal(serverSide.spec.replicas, 3);

    t.match(await kubectl('delete', '-f', manifest), 'deployment.apps "app" deleted');
    t.match(await kubectlFails('get', 'deploy', 'app'), /NotFound|not found/);
  });

  t.test('our CRDs and the KubeStash examples apply', async (t) => {
    t.match(await kubectl('apply', '-f', join(repoRoot, 'charts', 'autostash', 'crds')), /customresourcedefinition\.apiextensions\.k8s\.io\/backupconfigurations\.core\.kubestash\.com created/);
    t.match(await kubectl('api-resources', '--api-group', 'storage.kubestash.com'), /backupstorages/);
    t.match(await kubectl('create', 'namespace', 'demo'), 'namespace/demo created');
    const examples = ['backends-local__backupstorage-hostpath.yaml', 'concepts__retentionpolicy-same-namespace.yaml', 'hooks__hooktemplate.yaml', 'auto-backup-workload__deployment-annotated.yaml'];
    for (const example of examples) {
      t.match(await kubectl('apply', '-f', join(sharedDir, 'kubestash', 'examples', example)), / created\n/, example);
    }
    t.match(await kubectl('get', 'backupstorages', '-n', 'demo'), /^NAME\s+/);
    t.match(await kubectl('get', 'retentionpolicies.storage.kubestash.com', '-A', '-o', 'name'), /retentionpolicy\.storage\.kubestash\.com\//);
    t.match(await kubectl('get', 'retentionpolicies', '-n', 'demo'), /NAME\s+MAX-RETENTION-PERIOD\s+DEFAULT\s+AGE\ndemo-retention\s+2mo\s+true\s+\d+s/);

    // A second client-side apply of a custom resource is a JSON merge patch; then server-side apply.
    const original = await readFile(join(sharedDir, 'kubestash', 'examples', 'concepts__retentionpolicy-same-namespace.yaml'), 'utf8');
    const changed = join(dir, 'retention.yaml');
    await writeFile(changed, original.replace('maxRetentionPeriod: 2mo', 'maxRetentionPeriod: 3mo'));
    t.match(await kubectl('apply', '-f', changed), 'retentionpolicy.storage.kubestash.com/demo-retention configured');
    await writeFile(changed, original.replace('maxRetentionPeriod: 2mo', 'maxRetentionPeriod: 4mo'));
    t.match(await kubectl('apply', '--server-side', '--force-conflicts', '-f', changed), 'retentionpolicy.storage.kubestash.com/demo-retention serverside-applied');
    t.equal(await kubectl('get', 'retentionpolicy', 'demo-retention', '-n', 'demo', '-o', 'jsonpath={.spec.maxRetentionPeriod}'), '4mo');
    t.match(await kubectl('delete', '-f', join(sharedDir, 'kubestash', 'examples', 'hooks__hooktemplate.yaml')), /deleted/);
  });

  t.test('kubectl create sends protobuf for built-in kinds; namespace, configmap, secret and serviceaccount are decoded', async (t) => {
    t.match(await kubectl('create', 'namespace', 'made'), 'namespace/made created');
    t.match(await kubectl('create', 'configmap', 'conf', '-n', 'made', '--from-literal=a=1', '--from-literal=b=two'), 'configmap/conf created');
    t.match(await kubectl('create', 'secret', 'generic', 'creds', '-n', 'made', '--from-literal=password=s3cret'), 'secret/creds created');
    t.match(await kubectl('create', 'serviceaccount', 'runner', '-n', 'made'), 'serviceaccount/runner created');
    t.same(JSON.parse(await kubectl('get', 'configmap', 'conf', '-n', 'made', '-o', 'json')).data, { a: '1', b: 'two' });
    const secret = JSON.parse(await kubectl('get', 'secret', 'creds', '-n', 'made', '-o', 'json')) as { type: string; data: Record<string, string> };
    t.equal(secret.type, 'Opaque');
    t.equal(Buffer.from(secret.data.password ?? '', 'base64').toString(), 's3cret');
    t.match(await kubectl('get', 'sa', '-n', 'made'), /runner/);
    t.match(await kubectlFails('create', 'deployment', 'd', '--image=nginx', '-n', 'made'), /unknown format: application\/vnd.kubernetes.protobuf \(only Namespace/, 'other kinds: a clear 415');
  });

  t.test('get -w prints the table, then watched changes as rows', async (t) => {
    const watching = promisify(execFile)('kubectl', ['--cache-dir', join(dir, 'cache'), 'get', 'configmaps', '-n', 'made', '-w'], {
      env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir },
      encoding: 'utf8',
      timeout: 4000,
    }).catch((error: { stdout: string }) => error);
    for (let i = 0; i < 200 && !requests.some((r) => r.startsWith('GET /api/v1/namespaces/made/configmaps?') && r.includes('watch=true')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await kubectl('create', 'configmap', 'late', '-n', 'made');
    const { stdout } = (await watching) as { stdout: string };
    t.ok(requests.some((r) => r.includes('/namespaces/made/configmaps?') && r.includes('watch=true')), 'kubectl watched');
    t.match(stdout, /NAME\s+AGE\nconf\s+\d+s\n(.*\n)*late\s+\d+s/);
  });

  t.test('what kubectl asked for', async (t) => {
    t.same(stderrs.filter((e) => e !== ''), [], 'no warnings from any successful command (discovery, OpenAPI, patches)');
    t.ok(requests.some((r) => r.startsWith('GET /openapi/v3?')), 'the OpenAPI v3 index (validation and patch strategy)');
    t.ok(requests.some((r) => r.startsWith('GET /openapi/v3/apis/apps/v1')), 'a group/version OpenAPI document');
  });
});
