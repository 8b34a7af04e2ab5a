import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Keeps the last `maxBytes` of a process's output in memory and mirrors it to a file on `flush()`,
 * so a chatty job can never fill the disk and the file always holds the most recent output.
 */
export class BoundedLog {
  private chunks: Buffer[] = [];
  private size = 0;
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly maxBytes = 1024 * 1024,
  ) {}

  write(chunk: Buffer | string): void {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.chunks.push(buffer);
    this.size += buffer.length;
    this.dirty = true;
    while (this.size > this.maxBytes && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const excess = this.size - this.maxBytes;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  /** The whole retained output as text. */
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** The last `count` non-empty lines, joined by newlines. */
  tail(count: number): string {
    const lines = this.text().split('\n').map((line) => line.trimEnd()).filter((line) => line !== '');
    return lines.slice(-count).join('\n');
  }

  /** Writes the retained output to the file when it changed since the last flush. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(this.path, Buffer.concat(this.chunks));
    });
    return this.writing;
  }
}
