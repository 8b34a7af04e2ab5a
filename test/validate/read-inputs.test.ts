import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { InputError, readInputs } from '../../src/validate/read-inputs.js';

const emptyStdin = () => Readable.from([]);

t.test('files, directories (recursive, manifest extensions only, sorted) and stdin', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-inputs-'));
  await mkdir(join(dir, 'nested'));
  await writeFile(join(dir, 'b.yaml'), 'b');
  await writeFile(join(dir, 'a.yml'), 'a');
  await writeFile(join(dir, 'notes.txt'), 'ignored');
  await writeFile(join(dir, 'nested', 'c.JSON'), 'c');
  const single = join(dir, 'single.txt');
  await writeFile(single, 'explicit files are read whatever their name');

  const inputs = await readInputs([dir, single, '-'], Readable.from([Buffer.from('from '), 'stdin']));
  t.same(inputs.map((i) => [i.source.replace(dir, '<dir>'), i.text]), [
    ['<dir>/a.yml', 'a'],
    ['<dir>/b.yaml', 'b'],
    ['<dir>/nested/c.JSON', 'c'],
    ['<dir>/single.txt', 'explicit files are read whatever their name'],
    ['<stdin>', 'from stdin'],
  ]);
});

t.test('a missing path is an InputError naming it', async (t) => {
  await t.rejects(readInputs(['/no/such/manifest.yaml'], emptyStdin()), new InputError('/no/such/manifest.yaml', 'no such file or directory'));
});

t.test('a broken symbolic link is an InputError, not a crash', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-inputs-'));
  const link = join(dir, 'dangling.yaml');
  await symlink(join(dir, 'gone.yaml'), link);
  await t.rejects(readInputs([link], emptyStdin()), { name: 'InputError', message: /dangling\.yaml: no such file or directory/ });
});
