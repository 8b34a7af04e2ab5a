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

/** Largest input read: manifests this large are generated bundles to split, and reading more only costs memory. */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;

const tooLarge = (size: number | undefined): string =>
  `is larger than the ${MAX_INPUT_BYTES / (1024 * 1024)} MiB limit${size === undefined ? '' : ` (${size} bytes)`}: split it into smaller files`;

async function readFileWithinLimit(path: string): Promise<string> {
  const info = await stat(path);
  if (info.size > MAX_INPUT_BYTES) throw new InputError(path, tooLarge(info.size));
  return readFile(path, 'utf8');
}

async function readDirectory(dir: string): Promise<ManifestInput[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const inputs: ManifestInput[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) inputs.push(...(await readDirectory(path)));
    else if (MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) inputs.push({ source: path, text: await readFileWithinLimit(path) });
  }
  return inputs;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_INPUT_BYTES) throw new InputError('<stdin>', tooLarge(undefined));
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads every path: a file as is, a directory recursively (*.yaml, *.yml, *.json, in name order),
 * `-` from `stdin`. No input may exceed MAX_INPUT_BYTES.
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
      else inputs.push({ source: path, text: await readFileWithinLimit(path) });
    } catch (error) {
      if (error instanceof InputError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(path, code === 'ENOENT' ? 'no such file or directory' : (error as Error).message);
    }
  }
  return inputs;
}
