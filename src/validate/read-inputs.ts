import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** Manifest text with the name it is reported under. */
export interface ManifestInput {
  source: string;
  text: string;
}

/** An input path that cannot be read; the CLI exits 2 on it. */
export class InputError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'InputError';
  }
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

async function readDirectory(dir: string): Promise<ManifestInput[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const inputs: ManifestInput[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) inputs.push(...(await readDirectory(path)));
    else if (MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) inputs.push({ source: path, text: await readFile(path, 'utf8') });
  }
  return inputs;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads every path: a file as is, a directory recursively (*.yaml, *.yml, *.json, in name order),
 * `-` from `stdin`.
 * @throws InputError naming the path that cannot be read and why.
 */
export async function readInputs(paths: readonly string[], stdin: NodeJS.ReadableStream): Promise<ManifestInput[]> {
  const inputs: ManifestInput[] = [];
  for (const path of paths) {
    if (path === '-') {
      inputs.push({ source: '<stdin>', text: await readStream(stdin) });
      continue;
    }
    try {
      const info = await stat(path);
      if (info.isDirectory()) inputs.push(...(await readDirectory(path)));
      else inputs.push({ source: path, text: await readFile(path, 'utf8') });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(path, code === 'ENOENT' ? 'no such file or directory' : (error as Error).message);
    }
  }
  return inputs;
}
