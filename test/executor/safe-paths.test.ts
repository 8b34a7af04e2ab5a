import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ExecError } from '../../src/executor/context.js';
import { mountOf, mountPointsFrom, ownMountPoints, requireSafePatterns, resolveInsideMount } from '../../src/executor/safe-paths.js';

/** A volume with a subdirectory, a link inside it, links out of it, and a directory outside it. */
async function volumeWithLinks(t: Test) {
  const root = await realpath(t.testdir());
  const volume = join(root, 'volume');
  const outside = join(root, 'outside');
  await mkdir(join(volume, 'app', 'data'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'secret'), 'not yours');
  await writeFile(join(volume, 'app', 'file'), 'a file, not a directory');
  await symlink(join(volume, 'app'), join(volume, 'inner-link'));
  await symlink(outside, join(volume, 'escape'));
  await symlink('../../outside', join(volume, 'app', 'relative-escape'));
  await symlink('/', join(volume, 'root'));
  return { volume, outside, view: { volumeMap: { '/kubestash-data': volume } } };
}

t.test('resolveInsideMount: real files and symbolic links, one row per case', async (t) => {
  const { volume, view } = await volumeWithLinks(t);
  const allowed: Array<[containerPath: string, hostPath: string]> = [
    ['/kubestash-data', volume],
    ['/kubestash-data/app/data', join(volume, 'app', 'data')],
    ['/kubestash-data/inner-link', join(volume, 'inner-link')],
    ['/kubestash-data/not/yet/there', join(volume, 'not', 'yet', 'there')],
    ['/kubestash-data/inner-link/new', join(volume, 'inner-link', 'new')],
  ];
  for (const [containerPath, hostPath] of allowed) t.equal(await resolveInsideMount(view, containerPath, '--paths entry'), hostPath, `${containerPath} stays inside`);

  const refused: Array<[containerPath: string, message: RegExp]> = [
    ['/kubestash-data/escape', /^--paths entry "\/kubestash-data\/escape" leads out of the volume mounted at \/kubestash-data through a symbolic link: refused$/],
    ['/kubestash-data/escape/secret', /leads out of the volume mounted at \/kubestash-data/],
    ['/kubestash-data/escape/new/dir', /leads out of the volume/],
    ['/kubestash-data/app/relative-escape', /leads out of the volume/],
    ['/kubestash-data/root/etc', /leads out of the volume/],
    ['/kubestash-data/../../etc', /^--paths entry "\/kubestash-data\/\.\.\/\.\.\/etc" must not contain "\.\." segments/],
    ['kubestash-data/app', /must be an absolute path/],
    ['/etc', /^--paths entry "\/etc" is not inside a volume mounted in the Job$/],
    ['/kubestash-data/app/file/below', /^--paths entry "\/kubestash-data\/app\/file\/below" cannot be resolved \(ENOTDIR\)$/],
  ];
  for (const [containerPath, message] of refused) {
    await t.rejects(resolveInsideMount(view, containerPath, '--paths entry'), message, `${containerPath} is refused`);
    await t.rejects(resolveInsideMount(view, containerPath, '--paths entry'), ExecError);
  }
});

t.test('without a volume map, the process mount points decide, and / is the mount of last resort', async (t) => {
  const { volume } = await volumeWithLinks(t);
  // As in a pod: the container path is the path on disk; the volume is a mount point.
  const view = { mountPoints: () => [volume] };
  t.equal(await resolveInsideMount(view, join(volume, 'app'), 'restore target'), join(volume, 'app'));
  await t.rejects(resolveInsideMount(view, join(volume, 'escape'), 'restore target'), /leads out of the volume mounted at .*\/volume through a symbolic link/);
  t.equal(mountOf({ mountPoints: () => [] }, '/etc'), '/');
  t.equal(await resolveInsideMount({}, join(volume, 'app'), 'restore target'), join(volume, 'app'), "by default this process's own mount points decide");
  t.equal(mountOf({ mountPoints: () => ['/data/', '/data/sub'] }, '/data/sub/x'), '/data/sub');
  t.equal(mountOf({ volumeMap: { '/data': '/tmp/x' } }, '/database'), undefined);
});

t.test('without a volume map, "." segments and doubled slashes do not hide the mount a path lies in', async (t) => {
  const { volume } = await volumeWithLinks(t);
  const view = { mountPoints: () => [volume] };
  // Spelled this way the path matched no mount point but "/", inside which every link target is allowed.
  for (const spelling of [`/.${volume}/escape`, `/${volume}/escape`, `${volume}/./escape`, `${volume.replace(/\//g, '//')}/escape`]) {
    await t.rejects(resolveInsideMount(view, spelling, 'restore target'), /leads out of the volume mounted at .*\/volume through a symbolic link/, spelling);
  }
  t.equal(await resolveInsideMount(view, `/.${volume}/app/`, 'restore target'), join(volume, 'app'), 'a harmless spelling resolves to the plain path');
  const mapped = { volumeMap: { '/kubestash-data': volume } };
  t.equal(await resolveInsideMount(mapped, '/./kubestash-data//app', '--paths entry'), join(volume, 'app'), 'with a volume map too');
  await t.rejects(resolveInsideMount(mapped, '//kubestash-data/./escape', '--paths entry'), /leads out of the volume/);
});

t.test('mountinfo parsing', async (t) => {
  const sample = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '35 22 0:31 / /kubestash-data rw,relatime - ext4 /dev/sdb rw',
    '36 22 0:32 / /with\\040space rw - tmpfs tmpfs rw',
    'garbage',
    '',
  ].join('\n');
  t.same(mountPointsFrom(sample), ['/', '/kubestash-data', '/with space']);
  t.same(ownMountPoints('/nonexistent/mountinfo'), ['/'], 'no /proc: only the root');
  t.ok(ownMountPoints().includes('/'), 'this machine lists its root mount');
});

t.test('requireSafePatterns', async (t) => {
  t.doesNotThrow(() => requireSafePatterns(['*.tmp', '/kubestash-data/cache', 'a..b'], '--exclude pattern'));
  t.throws(() => requireSafePatterns(['ok', '../../etc/shadow'], '--include pattern'), { name: 'ExecError', message: '--include pattern "../../etc/shadow" must not contain ".." segments: it would lead out of the volumes the Job mounts' });
});
