import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmbeddedApi, GroupVersionResource, WatchEvent, WatchHandle, WatchOptions } from '../api-types.js';

/** Open watch streams, so the server can end them all promptly when it closes. */
export class OpenWatches {
  private readonly enders = new Set<() => void>();

  add(end: () => void): void {
    this.enders.add(end);
  }

  remove(end: () => void): void {
    this.enders.delete(end);
  }

  get size(): number {
    return this.enders.size;
  }

  /** Ends every open watch response cleanly (the client sees the stream end and may reconnect). */
  endAll(): void {
    for (const end of [...this.enders]) end();
  }
}

/** kube-apiserver's range for a watch without timeoutSeconds: between 30 and 60 minutes, at random. */
export const defaultWatchSeconds = (): number => 1800 + Math.floor(Math.random() * 1800);
/** No watch is held longer than this, whatever the client asks. */
export const maxWatchSeconds = 4 * 3600;

/** The watch duration for a `timeoutSeconds` query value: the default when absent or not positive, clamped to the maximum. */
export function watchSeconds(timeoutSeconds: string | null): number {
  const asked = timeoutSeconds === null ? NaN : Number(timeoutSeconds);
  if (!Number.isFinite(asked) || asked <= 0) return defaultWatchSeconds();
  return Math.min(asked, maxWatchSeconds);
}

export interface WatchStreamOptions {
  api: EmbeddedApi;
  gvr: GroupVersionResource;
  options: WatchOptions;
  seconds: number;
  /** Re-shapes each event's object (e.g. into a Table row) before it is written. */
  transform?: (object: WatchEvent['object']) => WatchEvent['object'];
  open: OpenWatches;
}

/**
 * Streams a watch as kube-apiserver does: status 200, chunked newline-delimited JSON
 * `{"type":…,"object":…}`. The stream ends cleanly after `seconds`, after an ERROR event (e.g.
 * 410 Gone, so informers relist), or when the server closes; a client disconnect stops the watch.
 * Throws (before anything is written) when the API refuses the watch, so the caller can answer
 * with a Status.
 */
export function streamWatch(request: IncomingMessage, response: ServerResponse, stream: WatchStreamOptions): void {
  let ended = false;
  let streaming = false;
  let handle: WatchHandle | undefined;
  let timer: NodeJS.Timeout | undefined;
  // Events the API delivers while `watch()` is still running (e.g. synthetic ADDED events) wait
  // until the response head is written, so a refused watch can still be answered with a Status.
  const early: WatchEvent[] = [];
  const end = (): void => {
    if (ended) return;
    ended = true;
    if (timer) clearTimeout(timer);
    handle?.stop();
    stream.open.remove(end);
    if (streaming && !response.writableEnded) response.end();
  };
  const write = (event: WatchEvent): void => {
    if (ended) return;
    const object = stream.transform && (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') ? stream.transform(event.object) : event.object;
    response.write(`${JSON.stringify({ type: event.type, object })}\n`);
    if (event.type === 'ERROR') end();
  };
  handle = stream.api.watch(stream.gvr, stream.options, (event) => (streaming ? write(event) : early.push(event)));
  response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  response.flushHeaders();
  streaming = true;
  stream.open.add(end);
  timer = setTimeout(end, stream.seconds * 1000);
  request.on('close', end);
  response.on('close', end);
  for (const event of early.splice(0)) write(event);
}
