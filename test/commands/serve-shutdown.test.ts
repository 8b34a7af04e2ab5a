/**
 * Graceful shutdown of `serve` on the embedded control plane: readiness fails at once, requests are
 * still served during the drain period, an admission request in flight when the server closes still
 * gets its answer, and the Lease is released afterwards.
 */
import { EventEmitter } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { handleShutdownSignals, startServer } from '../../src/commands/serve.js';
import { ensureNamespace } from '../../src/embedded/install-autostash.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { eventually, silentLogger, startTestControlPlane } from '../helpers/control-plane.js';
import { acceptableRetentionPolicy, createReview } from '../helpers/admission-review.js';

const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };

function get(url: string, path: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { ca, servername: 'localhost', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether a new TCP connection to `port` is accepted (the listener is open). */
const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

const review = JSON.stringify(createReview({ uid: 'in-flight', object: acceptableRetentionPolicy, resource: 'retentionpolicies' }));

t.test('SIGTERM path: readiness fails, drain, in-flight admission answered, Lease released', async (t) => {
  const { plane } = await startTestControlPlane(t);
  await ensureNamespace(plane.api, 'autostash');
  const dir = await mkdtemp(join(tmpdir(), 'autostash-shutdown-'));
  const config = loadConfig(
    { host: '127.0.0.1', port: '0', kubeconfig: plane.kubeconfigPath, certSource: 'files', certDir: join(dir, 'certs'), shutdownDrain: '1s' },
    { HOME: dir },
  );
  const server = await startServer(config, silentLogger());
  t.teardown(() => server.close());
  const ca = server.certificates?.ca ?? '';
  const port = Number(new URL(server.url).port);
  await eventually('leading and ready', async () => server.manager?.isLeader() === true && (await get(server.url, '/readyz', ca)).status === 200, 60_000);
  const identity = server.manager?.identity;
  const lease = async () => ((await plane.api.get(LEASES, 'autostash', 'autostash-controller')) as KubeObject & { spec: { holderIdentity?: string } }).spec;
  t.equal((await lease()).holderIdentity, identity, 'this replica holds the Lease');

  // An admission request whose body is still on its way when the shutdown starts.
  const payload = Buffer.from(review);
  const half = Math.floor(payload.length / 2);
  let answered: { status: number; body: string } | undefined;
  const req = request(new URL('/validate', server.url), {
    method: 'POST',
    ca,
    servername: 'localhost',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': payload.length },
  });
  t.teardown(() => req.destroy());
  const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        answered = { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') };
        resolve(answered);
      });
    });
    req.on('error', reject);
  });
  req.write(payload.subarray(0, half));

  const stopped = server.shutdown();
  t.equal(server.shutdown(), stopped, 'a second call joins the first');
  const draining = await get(server.url, '/readyz', ca);
  t.equal(draining.status, 503, '/readyz fails at once');
  t.match(JSON.parse(draining.body), { status: 'not ready', reason: 'shutting down' });
  t.equal((await get(server.url, '/healthz', ca)).status, 200, 'requests are still served during the drain');

  await eventually('the listener closes after the drain', async () => !(await accepts(port)), 30_000);
  t.equal(answered, undefined, 'the in-flight request is still open');
  t.equal(server.manager?.isLeader(), true, 'the Lease is kept while requests finish');
  req.end(payload.subarray(half));
  const reply = await inFlight;
  t.equal(reply.status, 200, 'the in-flight admission is answered');
  t.match(JSON.parse(reply.body), { kind: 'AdmissionReview', response: { uid: 'in-flight' } });

  await stopped;
  t.equal(server.manager?.isLeader(), false, 'stepped down');
  t.equal((await lease()).holderIdentity, '', 'the Lease is released for the next replica');
});

t.test('signals: the first starts the graceful shutdown, a second one forces the exit', async (t) => {
  const source = new EventEmitter();
  const calls: string[] = [];
  const remove = handleShutdownSignals(source, (signal) => calls.push(`begin ${signal}`), (signal) => calls.push(`force ${signal}`));
  source.emit('SIGTERM', 'SIGTERM');
  t.same(calls, ['begin SIGTERM']);
  source.emit('SIGINT', 'SIGINT');
  source.emit('SIGTERM', 'SIGTERM');
  t.same(calls, ['begin SIGTERM', 'force SIGINT', 'force SIGTERM']);
  remove();
  t.equal(source.listenerCount('SIGTERM') + source.listenerCount('SIGINT'), 0, 'listeners removed');
});
