import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface LoggedLine {
  msg: string;
  level: number;
  [field: string]: unknown;
}

/** A pino logger writing parsed JSON lines into `lines`, for asserting what was (not) logged. */
export function memoryLogger(level = 'debug'): { logger: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as LoggedLine);
      callback();
    },
  });
  return { logger: pino({ level }, stream), lines };
}
