import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderCrdFiles } from '../api/index.js';

/**
 * `autostash crds --out DIR`: writes one YAML file per CustomResourceDefinition into `dir` and
 * removes CRD files there that autostash no longer generates, so the directory matches exactly.
 */
export async function runCrds(dir: string, stdout: NodeJS.WritableStream): Promise<void> {
  const files = renderCrdFiles();
  await mkdir(dir, { recursive: true });
  const wanted = new Set(files.map((f) => f.fileName));
  for (const existing of await readdir(dir)) {
    if (existing.endsWith('.yaml') && !wanted.has(existing)) await rm(join(dir, existing));
  }
  for (const file of files) await writeFile(join(dir, file.fileName), file.yaml);
  stdout.write(`wrote ${files.length} CustomResourceDefinitions to ${dir}\n`);
}
