import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { lazyChildLoggerFactory } from '../../src/server/lazy-child-logger.js';

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level }, new Writable({ write(chunk, _e, done) { lines.push(JSON.parse(String(chunk))); done(); } }));
  return { logger, lines };
}

t.test('the child is made on the first line that is logged, with the bindings', async (t) => {
  const { logger, lines } = capture('info');
  let children = 0;
  const original = logger.child;
  logger.child = function (this: typeof logger, ...args: Parameters<typeof original>) {
    children++;
    return original.apply(this, args);
  } as typeof logger.child;
  const child = lazyChildLoggerFactory(logger, { reqId: 'r1' }, {});
  child.debug({ dropped: true }, 'below the threshold');
  t.equal(children, 0, 'a dropped line builds no child');
  t.equal(child.level, 'info');
  child.info({ uid: 'u' }, 'admission answered');
  child.warn('second');
  t.equal(children, 1, 'one child for the request');
  children = 0;
  t.match(lines, [{ reqId: 'r1', uid: 'u', msg: 'admission answered' }, { reqId: 'r1', msg: 'second' }]);
  for (const method of ['fatal', 'error', 'trace'] as const) child[method]('x');
  child.silent('never');
  t.equal(lines.length, 4, 'fatal and error written, trace dropped, silent never');
  child.level = 'trace';
  child.trace('now');
  t.equal(lines.length, 5);
  t.match(child.child({ extra: 1 }, {}).info('grandchild'), undefined);
  t.match(lines[5], { reqId: 'r1', extra: 1, msg: 'grandchild' });
});

t.test('a route-specific level gets its child at once', async (t) => {
  const { logger, lines } = capture('info');
  const child = lazyChildLoggerFactory(logger, { reqId: 'r2' }, { level: 'debug' });
  child.debug('visible at debug');
  t.match(lines, [{ reqId: 'r2', msg: 'visible at debug' }]);
});
