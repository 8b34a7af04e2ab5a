import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execCommand, kubedumpParams } from '../../../src/commands/exec.js';
import { createKubeClient } from '../../../src/kube/client.js';
import { startTestControlPlane } from '../../helpers/control-plane.js';
import { createShop, listFiles, SHOP } from './fixtures.js';

t.test('kubedump flags map to the SPEC §11 parameters', async (t) => {
  t.equal(kubedumpParams({}), undefined, 'no kubedump flag: not a manifest backup');
  t.same(kubedumpParams({ includeNamespaces: '' }), { IncludeNamespaces: '' }, 'an empty flag still counts (the Function passes every one)');
  t.same(
    kubedumpParams({ andLabelSelectors: 'a', orLabelSelectors: 'b', includeClusterResources: 'true', includeNamespaces: 'n', excludeNamespaces: 'm', includeResources: 'r', excludeResources: 's' }),
    { ANDedLabelSelectors: 'a', ORedLabelSelectors: 'b', IncludeClusterResources: 'true', IncludeNamespaces: 'n', ExcludeNamespaces: 'm', IncludeResources: 'r', ExcludeResources: 's' },
  );
});

t.test('exec dump and exec backup with kubedump flags, in-process', async (t) => {
  const { plane, kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  await createShop(client);
  const root = await mkdtemp(join(tmpdir(), 'autostash-kubedump-flags-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));

  const saved = { ...process.env };
  const savedWrite = process.stderr.write.bind(process.stderr);
  const stderr: string[] = [];
  t.teardown(() => {
    process.env = saved;
    process.stderr.write = savedWrite;
    process.exitCode = 0;
  });
  process.env.KUBECONFIG = plane.kubeconfigPath;
  delete process.env.AUTOSTASH_VOLUME_MAP;
  const run = async (args: string[]): Promise<number> => {
    process.exitCode = 0;
    stderr.length = 0;
    process.stderr.write = ((chunk: string) => stderr.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      await execCommand().parseAsync([...args, '--log-level=silent'], { from: 'user' });
    } finally {
      process.stderr.write = savedWrite;
    }
    return Number(process.exitCode ?? 0);
  };

  const output = join(root, 'out');
  t.equal(await run(['dump', '--output', output, `--include-namespaces=${SHOP}`, '--include-resources=services', '--namespace-scope', SHOP]), 0, stderr.join(''));
  t.same(await listFiles(output), ['services/namespaces/shop/db.yaml', 'services/namespaces/shop/web.yaml']);
  t.equal(await run(['dump', '--output', output]), 1);
  t.match(stderr.join(''), /^autostash exec dump: --output .* is not empty/);
  t.equal(await run(['dump', '--output', output, '--force', '--namespace-scope', SHOP, '--application', 'Deployment.apps/web', '--include-resources=deployments']), 0, stderr.join(''));
  t.ok((await listFiles(output)).includes('deployments.apps/namespaces/shop/web.yaml'));

  t.equal(await run(['backup', '--namespace=ops', '--backupsession=bs', '--component=manifest', '--paths=/data', '--include-namespaces=']), 1);
  t.match(stderr.join(''), /--paths cannot be combined with kubedump flags/);
  t.equal(await run(['backup', '--namespace=ops', '--backupsession=absent', '--component=manifest', '--include-namespaces=', '--and-label-selectors=']), 1);
  t.match(stderr.join(''), /autostash exec backup: BackupSession ops\/absent not found/, 'a manifest backup runs through the kubedump path');
});
