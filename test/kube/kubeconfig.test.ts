import { mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import t from 'tap';
import { KubeConfigError, loadKubeConfig, loadKubeConfigWithSource } from '../../src/kube/kubeconfig.js';

const kubeconfigYaml = (name: string, server = `https://${name}.example:6443`) => `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: ${server}
users:
- name: ${name}-user
  user:
    token: not-a-secret
contexts:
- name: ${name}
  context:
    cluster: ${name}
    user: ${name}-user
current-context: ${name}
`;

/** A sandbox with every source present, so each row can switch sources on and off. */
async function sandbox(dir: string) {
  const home = join(dir, 'home');
  const serviceAccountDir = join(dir, 'sa');
  await mkdir(join(home, '.kube'), { recursive: true });
  await mkdir(serviceAccountDir, { recursive: true });
  await writeFile(join(home, '.kube', 'config'), kubeconfigYaml('home'));
  await writeFile(join(serviceAccountDir, 'token'), 'token');
  await writeFile(join(serviceAccountDir, 'ca.crt'), 'ca');
  await writeFile(join(serviceAccountDir, 'namespace'), 'backup-system\n');
  await writeFile(join(dir, 'env-a.yaml'), kubeconfigYaml('env-a'));
  await writeFile(join(dir, 'env-b.yaml'), kubeconfigYaml('env-b'));
  await writeFile(join(dir, 'flag.yaml'), kubeconfigYaml('flag'));
  return { home, serviceAccountDir };
}

t.test('sources are tried in order: flag, in-cluster, KUBECONFIG, ~/.kube/config', async (t) => {
  const dir = t.testdir();
  const { home, serviceAccountDir } = await sandbox(dir);
  const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
  const KUBECONFIG = [join(dir, 'env-a.yaml'), join(dir, 'env-b.yaml')].join(delimiter);
  const rows: Array<{ name: string; flag?: string; env: Record<string, string>; homeDir?: string; source: string | undefined; server?: string }> = [
    { name: 'flag wins over everything', flag: join(dir, 'flag.yaml'), env: { ...inCluster, KUBECONFIG }, source: 'flag', server: 'https://flag.example:6443' },
    { name: 'in-cluster next', env: { ...inCluster, KUBECONFIG }, source: 'in-cluster', server: 'https://10.96.0.1:443' },
    { name: 'in-cluster with an IPv6 service host', env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, source: 'in-cluster', server: 'https://[fd00::1]:443' },
    { name: 'KUBECONFIG next: the first file\'s context wins', env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBECONFIG }, source: 'KUBECONFIG', server: 'https://env-a.example:6443' },
    { name: 'an empty KUBECONFIG is unset', env: { KUBECONFIG: delimiter }, source: 'home', server: 'https://home.example:6443' },
    { name: '~/.kube/config last', env: {}, source: 'home', server: 'https://home.example:6443' },
    { name: 'HOME from the environment', env: { HOME: home }, homeDir: undefined, source: 'home', server: 'https://home.example:6443' },
    { name: 'nothing configured: no cluster', env: {}, homeDir: join(dir, 'nobody'), source: undefined },
  ];
  for (const row of rows) {
    const loaded = loadKubeConfigWithSource({
      kubeconfigPath: row.flag,
      env: row.env,
      homeDir: 'homeDir' in row ? row.homeDir : home,
      serviceAccountDir,
    });
    t.equal(loaded?.source, row.source, `${row.name}: source`);
    t.equal(loaded?.kubeConfig.getCurrentCluster()?.server, row.server, `${row.name}: server`);
  }
});

t.test('in-cluster config uses the mounted token file, CA and namespace', async (t) => {
  const { serviceAccountDir } = await sandbox(t.testdir());
  const loaded = loadKubeConfigWithSource({ env: { KUBERNETES_SERVICE_HOST: 'kubernetes', KUBERNETES_SERVICE_PORT: '6443' }, serviceAccountDir, homeDir: '/nonexistent' });
  t.equal(loaded?.source, 'in-cluster');
  t.same(loaded?.paths, [join(serviceAccountDir, 'token')]);
  const config = loaded!.kubeConfig;
  t.equal(config.getCurrentCluster()?.caFile, join(serviceAccountDir, 'ca.crt'));
  t.match(config.getCurrentUser(), { authProvider: { name: 'tokenFile', config: { tokenFile: join(serviceAccountDir, 'token') } } });
  t.equal(config.getContextObject(config.getCurrentContext())?.namespace, 'backup-system');
});

t.test('in-cluster needs the host, the port and the token', async (t) => {
  const dir = t.testdir();
  const { home } = await sandbox(dir);
  const noToken = join(dir, 'empty-sa');
  await mkdir(noToken);
  const rows = [
    { name: 'no port', env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, serviceAccountDir: join(dir, 'sa') },
    { name: 'no token mounted', env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: noToken },
  ];
  for (const row of rows) {
    t.equal(loadKubeConfigWithSource({ env: row.env, serviceAccountDir: row.serviceAccountDir, homeDir: home })?.source, 'home', `${row.name}: falls through`);
  }
  await writeFile(join(noToken, 'token'), 't');
  const loaded = loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: noToken });
  t.equal(loaded?.getContextObject('in-cluster')?.namespace, undefined, 'no namespace file: no namespace');
});

t.test('a present but broken kubeconfig is an error, not "no cluster"', async (t) => {
  const dir = t.testdir({
    'garbage.yaml': 'clusters: [ {',
    'no-server.yaml': 'clusters:\n- name: x\n  cluster: {}\n',
    'no-context.yaml': kubeconfigYaml('a').replace('current-context: a\n', ''),
    'dangling-context.yaml': kubeconfigYaml('a').replace('current-context: a', 'current-context: b'),
    'dangling-cluster.yaml': kubeconfigYaml('a').replace('    cluster: a\n', '    cluster: gone\n'),
    'good.yaml': kubeconfigYaml('a'),
    'duplicate.yaml': kubeconfigYaml('a'), // defines cluster "a" again
    home: { '.kube': { config: 'not: [valid' } },
  });
  const rows: Array<{ name: string; flag?: string; env?: Record<string, string>; home?: string; source: string; path: RegExp; message: RegExp }> = [
    { name: 'missing --kubeconfig file', flag: join(dir, 'nope.yaml'), source: 'flag', path: /nope\.yaml$/, message: /file does not exist/ },
    { name: 'missing KUBECONFIG file', env: { KUBECONFIG: join(dir, 'nope.yaml') }, source: 'KUBECONFIG', path: /nope\.yaml$/, message: /^kubeconfig from KUBECONFIG .*file does not exist/ },
    { name: 'unparsable YAML', flag: join(dir, 'garbage.yaml'), source: 'flag', path: /garbage\.yaml$/, message: /cannot be parsed/ },
    { name: 'cluster without server', flag: join(dir, 'no-server.yaml'), source: 'flag', path: /no-server\.yaml$/, message: /cannot be parsed \(clusters\[0\]\.cluster\.server is missing\)/ },
    { name: 'no current-context', flag: join(dir, 'no-context.yaml'), source: 'flag', path: /no-context\.yaml$/, message: /no current-context is set/ },
    { name: 'current-context not defined', flag: join(dir, 'dangling-context.yaml'), source: 'flag', path: /dangling-context/, message: /current-context "b" is not among its contexts/ },
    { name: 'context names an undefined cluster', flag: join(dir, 'dangling-cluster.yaml'), source: 'flag', path: /dangling-cluster/, message: /refers to cluster "gone", which is not defined/ },
    { name: 'KUBECONFIG files that clash', env: { KUBECONFIG: [join(dir, 'good.yaml'), join(dir, 'duplicate.yaml')].join(delimiter) }, source: 'KUBECONFIG', path: /duplicate\.yaml$/, message: /cannot be merged \(Duplicate cluster: a\)/ },
    { name: 'broken ~/.kube/config', env: {}, home: join(dir, 'home'), source: 'home', path: /\.kube\/config$/, message: /cannot be parsed/ },
  ];
  for (const row of rows) {
    t.throws(
      () => loadKubeConfig({ kubeconfigPath: row.flag, env: row.env ?? {}, homeDir: row.home ?? join(dir, 'nobody'), serviceAccountDir: join(dir, 'no-sa') }),
      { name: 'KubeConfigError', source: row.source, path: row.path, message: row.message },
      row.name,
    );
  }
  t.type(new KubeConfigError('home', '/x', 'y'), Error);
});
