import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { preparePodVolumes, VolumeNotReadyError, type VolumeSources } from '../../../src/embedded/controllers/pod-volumes.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

async function fixture(t: Test): Promise<{ root: string; sources: VolumeSources }> {
  const root = await mkdtemp(join(tmpdir(), 'autostash-volumes-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const objects: Record<string, KubeObject> = {
    'Secret/ns/creds': { kind: 'Secret', data: { password: b64('pw'), 'tls.crt': b64('cert') } },
    'ConfigMap/ns/conf': { kind: 'ConfigMap', data: { 'app.conf': 'x=1' } },
  };
  return {
    root,
    sources: {
      scratchRoot: join(root, 'scratch'),
      read: async (kind, namespace, name) => objects[`${kind}/${namespace}/${name}`],
      claimHostPath: async (_namespace, claim) => (claim === 'bound' ? join(root, 'pv') : undefined),
    },
  };
}

t.test('every supported volume type maps to a host directory, subPath honoured', async (t) => {
  const { root, sources } = await fixture(t);
  const volumes = await preparePodVolumes(
    {
      volumes: [
        { name: 'data', persistentVolumeClaim: { claimName: 'bound' } },
        { name: 'host', hostPath: { path: join(root, 'hp'), type: 'DirectoryOrCreate' } },
        { name: 'scratch', emptyDir: {} },
        { name: 'secret', secret: { secretName: 'creds', defaultMode: 0o400 } },
        { name: 'picked', secret: { secretName: 'creds', items: [{ key: 'password', path: 'sub/pw.txt', mode: 0o600 }] } },
        { name: 'conf', configMap: { name: 'conf' } },
        { name: 'unused', nfs: { server: 'x' } },
      ],
    },
    [
      {
        volumeMounts: [
          { name: 'data', mountPath: '/data/' },
          { name: 'data', mountPath: '/sub', subPath: 'a/b' },
          { name: 'host', mountPath: '/host' },
          { name: 'scratch', mountPath: '/tmp/work' },
        ],
      },
      {
        volumeMounts: [
          { name: 'secret', mountPath: '/etc/secret' },
          { name: 'picked', mountPath: '/etc/picked' },
          { name: 'conf', mountPath: '/etc/app.conf', subPath: 'app.conf' },
        ],
      },
    ],
    'ns',
    sources,
  );
  const [first, second] = volumes.maps;
  t.equal(first?.['/data'], join(root, 'pv'));
  t.equal(first?.['/sub'], join(root, 'pv', 'a', 'b'));
  t.ok((await stat(join(root, 'pv', 'a', 'b'))).isDirectory(), 'a missing subPath directory is created');
  t.ok((await stat(join(root, 'hp'))).isDirectory(), 'DirectoryOrCreate creates the hostPath');
  const emptyDir = first?.['/tmp/work'] ?? '';
  t.ok(emptyDir.startsWith(sources.scratchRoot), 'emptyDir is a fresh directory under the scratch root');
  const secretDir = second?.['/etc/secret'] ?? '';
  t.equal(await readFile(join(secretDir, 'password'), 'utf8'), 'pw');
  t.equal(await readFile(join(secretDir, 'tls.crt'), 'utf8'), 'cert');
  t.equal((await stat(join(secretDir, 'password'))).mode & 0o777, 0o400, 'defaultMode');
  const picked = second?.['/etc/picked'] ?? '';
  t.equal(await readFile(join(picked, 'sub', 'pw.txt'), 'utf8'), 'pw', 'items choose keys and paths');
  t.equal((await stat(join(picked, 'sub', 'pw.txt'))).mode & 0o777, 0o600, 'item mode');
  t.equal(await readFile(second?.['/etc/app.conf'] ?? '', 'utf8'), 'x=1', 'a ConfigMap key mounted as a file through subPath');

  await volumes.cleanup();
  await t.rejects(stat(emptyDir), 'emptyDir removed');
  await t.rejects(stat(secretDir), 'secret files removed');
  t.ok((await stat(join(root, 'pv', 'a'))).isDirectory(), 'persistent volumes are kept');
});

t.test('an unbound claim is "not ready", not a failure', async (t) => {
  const { sources } = await fixture(t);
  await t.rejects(
    preparePodVolumes({ volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'pending' } }] }, [{ volumeMounts: [{ name: 'd', mountPath: '/d' }] }], 'ns', sources),
    VolumeNotReadyError,
  );
});

t.test('errors say what is wrong, and temporary directories made so far are removed', async (t) => {
  const { root, sources } = await fixture(t);
  const mount = (volume: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    preparePodVolumes({ volumes: [{ name: 'e', emptyDir: {} }, { name: 'v', ...volume }] }, [{ volumeMounts: [{ name: 'e', mountPath: '/e' }, { name: 'v', mountPath: '/v', ...extra }] }], 'ns', sources);
  const rows: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['unsupported type', () => mount({ nfs: { server: 's' } }), /type nfs is not supported/],
    ['missing secret', () => mount({ secret: { secretName: 'absent' } }), /Secret ns\/absent not found/],
    ['missing key', () => mount({ configMap: { name: 'conf', items: [{ key: 'nope', path: 'p' }] } }), /key nope not found in ConfigMap ns\/conf/],
    ['relative hostPath', () => mount({ hostPath: { path: 'rel' } }), /hostPath.path must be absolute/],
    ['escaping subPath', () => mount({ emptyDir: {} }, { subPath: '../x' }), /subPath "..\/x" must be a relative path/],
    ['absolute subPath', () => mount({ emptyDir: {} }, { subPath: '/x' }), /subPath/],
    ['escaping item path', () => mount({ secret: { secretName: 'creds', items: [{ key: 'password', path: '../p' }] } }), /item path/],
    ['relative mountPath', () => mount({ emptyDir: {} }, { mountPath: 'v' }), /mountPath must be absolute/],
    ['mount without volume', () => preparePodVolumes({ volumes: [] }, [{ volumeMounts: [{ name: 'x', mountPath: '/x' }] }], 'ns', sources), /names no volume/],
  ];
  for (const [label, attempt, pattern] of rows) await t.rejects(attempt(), pattern, label);
  t.same(await readdir(join(root, 'scratch')), [], 'no temporary directory left behind');
});

t.test('an optional missing Secret is an empty directory', async (t) => {
  const { sources } = await fixture(t);
  const volumes = await preparePodVolumes({ volumes: [{ name: 's', secret: { secretName: 'absent', optional: true } }] }, [{ volumeMounts: [{ name: 's', mountPath: '/s' }] }], 'ns', sources);
  t.same(await readdir(volumes.maps[0]?.['/s'] ?? ''), []);
  await volumes.cleanup();
});
