// What the admission benchmarks (bench/admission, bench/load) share: the cluster the webhook sees, the
// BackupConfiguration CREATE review, a throwaway TLS CA and serving certificate, and the server child process.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
export const sharedDir = resolve(here, '..', '..', '..', 'shared');

const example = (name) => parse(readFileSync(join(sharedDir, 'kubestash', 'examples', name), 'utf8'));

/** The objects the webhook's cluster view holds: the storage and retention policy the configuration names. */
export const cluster = [
  { ...example('backends-gcs__backupstorage-gcs.yaml'), metadata: { name: 'gcs-storage', namespace: 'demo' } },
  example('concepts__retentionpolicy-same-namespace.yaml'),
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: { 'kubernetes.io/metadata.name': 'demo' } } },
];

/**
 * The AdmissionReview body of creating KubeStash's PVC BackupConfiguration example in `demo`. `lastApplied`
 * adds the annotation `kubectl apply` writes (a copy of the object), as bench/admission measures it.
 */
export function backupConfigurationCreate({ lastApplied }) {
  const backupConfiguration = example('volumes-pvc__backupconfiguration.yaml');
  if (lastApplied) {
    backupConfiguration.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(backupConfiguration) };
  }
  const kind = { group: 'core.kubestash.com', version: 'v1alpha1', kind: 'BackupConfiguration' };
  const resource = { group: 'core.kubestash.com', version: 'v1alpha1', resource: 'backupconfigurations' };
  return JSON.stringify({
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind,
      resource,
      requestKind: kind,
      requestResource: resource,
      name: backupConfiguration.metadata.name,
      namespace: 'demo',
      operation: 'CREATE',
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object: backupConfiguration,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' },
    },
  });
}

/** A throwaway EC CA and a serving certificate for 127.0.0.1 signed by it; clients trust `ca`. */
export async function certificates() {
  const common = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' };
  const ca = await generate([{ name: 'commonName', value: 'autostash-bench-ca' }], {
    ...common,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const serving = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...common,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { ca: ca.cert, key: serving.private, cert: serving.cert };
}

/**
 * Starts bench/admission/server.mjs (`mode` webhook or bare) as a child process; resolves when it listens with
 * `{ mode, port, rss(), stop() }` (`rss` asks the child for its peak RSS, `stop` ends it).
 */
export function startServer(mode, keyFile, certFile) {
  const child = fork(join(here, 'server.mjs'), [mode, keyFile, certFile], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_CLUSTER: JSON.stringify(cluster) },
    execArgv: [],
  });
  const ask = (message, key) =>
    new Promise((resolveAnswer) => {
      const onMessage = (answer) => {
        if (answer && key in answer) {
          child.off('message', onMessage);
          resolveAnswer(answer);
        }
      };
      child.on('message', onMessage);
      if (message) child.send(message);
    });
  return ask(undefined, 'port').then(({ port }) => ({
    mode,
    port,
    rss: () => ask('rss', 'maxRssBytes'),
    stop: () =>
      new Promise((done) => {
        child.once('exit', done);
        child.send('stop');
      }),
  }));
}
