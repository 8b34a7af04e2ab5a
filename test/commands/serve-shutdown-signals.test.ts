/**
 * `autostash serve` as a process: SIGTERM shuts it down gracefully and it exits 0 on its own; a second
 * signal during the drain exits at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { builtCliMissing, builtCliPath, eventually } from '../helpers/control-plane.js';

interface Serve {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the built CLI (`npm run build`), without a cluster. */
async function serve(drain: string): Promise<Serve> {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-signals-'));
  const child = spawn(
    process.execPath,
    [builtCliPath, 'serve', '--no-embedded', '--host', '127.0.0.1', '--port', '0', '--cert-dir', join(dir, 'certs'), '--shutdown-drain', drain],
    { env: { PATH: process.env.PATH, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let early: string | undefined;
  void exited.then(({ code, signal }) => (early = `serve exited (${code ?? signal}) before serving: ${output}`));
  await eventually('the webhook serving', () => {
    if (early !== undefined) throw new Error(early);
    return output.includes('"msg":"webhook serving"');
  }, 120_000);
  return { child, output: () => output, exited };
}

t.test('SIGTERM: drain, close, exit 0', { skip: builtCliMissing }, async (t) => {
  const server = await serve('200ms');
  server.child.kill('SIGTERM');
  const { code } = await server.exited;
  t.equal(code, 0);
  t.match(server.output(), /signal received: shutting down gracefully/);
  t.match(server.output(), /"msg":"shut down"/);
});

t.test('a second signal during the drain exits at once', { skip: builtCliMissing }, async (t) => {
  // A drain far longer than the test's timeout: only the second signal can end the process in time.
  const server = await serve('5m');
  server.child.kill('SIGTERM');
  await eventually('the drain began', () => server.output().includes('shutting down: readiness fails'), 60_000);
  server.child.kill('SIGINT');
  const { code } = await server.exited;
  t.equal(code, 1);
  t.match(server.output(), /second signal: exiting at once/);
  t.notMatch(server.output(), /"msg":"shut down"/);
});
