import { PassThrough, Readable } from 'node:stream';

/** A writable stream that remembers what was written, for asserting CLI output. */
export function captureStream(): PassThrough & { text(): string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return Object.assign(stream, { text: () => Buffer.concat(chunks).toString('utf8') });
}

/** A readable stream with the given text, standing in for stdin. */
export const stdinWith = (text: string): Readable => Readable.from([Buffer.from(text)]);
