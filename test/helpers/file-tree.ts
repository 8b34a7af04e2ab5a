import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What a restore must bring back for one entry: type, permission bits, and content digest or link target. */
export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size?: number;
  sha256?: string;
  target?: string;
}

const sha256Of = (path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });

/** Every entry under `root` by relative path (sorted), with sha256 of files, modes and link targets. */
export async function describeTree(root: string): Promise<Record<string, TreeEntry>> {
  const out: Record<string, TreeEntry> = {};
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(join(root, relative), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const full = join(root, path);
      const info = await lstat(full);
      const mode = info.mode & 0o7777;
      if (info.isSymbolicLink()) out[path] = { type: 'symlink', mode: 0, target: await readlink(full) };
      else if (info.isDirectory()) {
        out[path] = { type: 'dir', mode };
        await walk(path);
      } else out[path] = { type: 'file', mode, size: info.size, sha256: await sha256Of(full) };
    }
  };
  await walk('');
  return out;
}

/**
 * Writes the data set the restore tests compare: empty files, a large random file (`largeBytes`),
 * unicode and space-bearing names, nested directories, file and directory symlinks (one dangling),
 * and unusual permission bits.
 */
export async function writeSampleTree(root: string, options: { largeBytes?: number } = {}): Promise<void> {
  await mkdir(join(root, 'nested', 'deeper'), { recursive: true });
  await writeFile(join(root, 'empty.txt'), '');
  await writeFile(join(root, 'nested', 'deeper', 'also-empty'), '');
  await writeFile(join(root, 'hello.txt'), 'hello, backup\n');
  await writeFile(join(root, 'ünïcødé — файл 文件.txt'), 'unicode name\n');
  await writeFile(join(root, 'name with spaces'), 'spaces\n');
  const large = options.largeBytes ?? 50 * 1024 * 1024;
  const chunk = 4 * 1024 * 1024;
  const parts: Buffer[] = [];
  for (let written = 0; written < large; written += chunk) parts.push(randomBytes(Math.min(chunk, large - written)));
  await writeFile(join(root, 'large.bin'), Buffer.concat(parts));
  await writeFile(join(root, 'secret.key'), 'private\n');
  await chmod(join(root, 'secret.key'), 0o600);
  await writeFile(join(root, 'run.sh'), '#!/bin/sh\necho run\n');
  await chmod(join(root, 'run.sh'), 0o755);
  await chmod(join(root, 'nested', 'deeper'), 0o700);
  await symlink('hello.txt', join(root, 'link-to-hello'));
  await symlink('nested/deeper', join(root, 'link-to-dir'));
  await symlink('does-not-exist', join(root, 'dangling-link'));
}
