/**
 * Optional persistence of the embedded plane's objects: one JSON snapshot (`state.json` in the data
 * directory) holding every object and the resourceVersion counter, written atomically (temporary
 * file + rename), debounced, and flushed on close.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../../domain/kube-object.js';
import { writeFileAtomic } from '../../util/write-file-atomic.js';

export interface StoredResource {
  group: string;
  resource: string;
  objects: KubeObject[];
}

export interface StateSnapshot {
  formatVersion: 1;
  resourceVersion: number;
  resources: StoredResource[];
}

export const STATE_FILE_NAME = 'state.json';

/** Reads the snapshot in `dataDir`, or undefined when there is none yet. Throws on a corrupt file. */
export function readStateSnapshot(dataDir: string): StateSnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, STATE_FILE_NAME), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<StateSnapshot>;
  if (parsed.formatVersion !== 1 || typeof parsed.resourceVersion !== 'number' || !Array.isArray(parsed.resources)) {
    throw new Error(`${join(dataDir, STATE_FILE_NAME)} is not an autostash embedded state file (formatVersion 1); move it away to start empty`);
  }
  return parsed as StateSnapshot;
}

/** Writes snapshots at most once per `delayMs`; `flush()` writes any pending one now. */
export class DebouncedStateWriter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(
    private readonly dataDir: string,
    private readonly takeSnapshot: () => StateSnapshot,
    private readonly delayMs = 100,
  ) {}

  /** Marks the state changed; a write follows within `delayMs`. */
  schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.delayMs);
    this.timer.unref();
  }

  /** Writes the current state if it changed since the last write; resolves when it is on disk. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const previous = this.writing;
    const next = previous.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      await this.write(this.takeSnapshot());
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async write(snapshot: StateSnapshot): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    const target = join(this.dataDir, STATE_FILE_NAME);
    await writeFileAtomic(target, JSON.stringify(snapshot), 0o600);
  }
}
