import t from 'tap';
import { ConfigError, loadConfig, type ServeFlags } from '../src/config.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AUTOSTASH_VERSION, DEFAULT_EXECUTOR_IMAGE } from '../src/version.js';
import { repoRoot } from './helpers/paths.js';

t.test('defaults with an empty environment', async (t) => {
  const config = loadConfig({}, {});
  t.same(config.webhook, {
    host: '0.0.0.0',
    port: 8443,
    certDir: 'certs',
    certFile: undefined,
    keyFile: undefined,
    serviceName: 'autostash',
    namespace: 'autostash',
  });
  t.equal(config.logLevel, 'info');
  t.equal(config.kubeconfigPath, undefined);
  t.same(config.kubeEnv, {});
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.webhook), 'frozen');
});

t.test('environment is read, flags win over it', async (t) => {
  const env = {
    AUTOSTASH_HOST: '127.0.0.1',
    AUTOSTASH_PORT: '9443',
    AUTOSTASH_CERT_DIR: '/etc/certs',
    AUTOSTASH_LOG_LEVEL: 'debug',
    POD_NAMESPACE: 'backup-system',
    KUBECONFIG: '/k/config',
    KUBERNETES_SERVICE_HOST: '10.0.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    HOME: '/root',
    UNRELATED: 'x',
  };
  const fromEnv = loadConfig({}, env);
  t.equal(fromEnv.webhook.host, '127.0.0.1');
  t.equal(fromEnv.webhook.port, 9443);
  t.equal(fromEnv.webhook.certDir, '/etc/certs');
  t.equal(fromEnv.webhook.namespace, 'backup-system');
  t.equal(fromEnv.logLevel, 'debug');
  t.same(fromEnv.kubeEnv, { KUBECONFIG: '/k/config', KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443', HOME: '/root' });
  const fromFlags = loadConfig({ port: '10443', logLevel: 'warn', kubeconfig: '/other', tlsCert: 'a.crt', tlsKey: 'a.key' }, env);
  t.equal(fromFlags.webhook.port, 10443);
  t.equal(fromFlags.logLevel, 'warn');
  t.equal(fromFlags.kubeconfigPath, '/other');
  t.equal(fromFlags.webhook.certFile, 'a.crt');
  t.equal(fromFlags.webhook.keyFile, 'a.key');
});

const invalid: Array<[string, Parameters<typeof loadConfig>[0], NodeJS.ProcessEnv, RegExp]> = [
  ['port not a number', { port: 'http' }, {}, /^--port: "http" is not a port number/],
  ['port out of range', {}, { AUTOSTASH_PORT: '70000' }, /^AUTOSTASH_PORT: 70000 is outside the port range/],
  ['negative port', { port: '-1' }, {}, /is not a port number/],
  ['unknown log level', { logLevel: 'loud' }, {}, /^--log-level: "loud" is not a log level; use one of fatal/],
  ['bad namespace', {}, { POD_NAMESPACE: 'Not_A_Label' }, /^POD_NAMESPACE: "Not_A_Label" is not a valid DNS label/],
  ['cert without key', { tlsCert: 'a.crt' }, {}, /^--tls-key: give --tls-cert and --tls-key together/],
  ['key without cert', { tlsKey: 'a.key' }, {}, /^--tls-cert: give/],
  ['empty host flag', { host: ' ' }, {}, /^--host: must not be empty/],
  ['empty cert dir flag', { certDir: '' }, {}, /^--cert-dir: must not be empty/],
];
for (const [name, flags, env, message] of invalid) {
  t.test(name, async (t) => {
    t.throws(() => loadConfig(flags, env), message);
    try {
      loadConfig(flags, env);
    } catch (error) {
      t.type(error, ConfigError);
    }
  });
}

t.test('an empty environment variable counts as unset', async (t) => {
  t.equal(loadConfig({}, { AUTOSTASH_PORT: '' }).webhook.port, 8443);
});

t.test('embedded control plane settings', async (t) => {
  t.same(loadConfig({}, {}).embedded, { mode: 'auto', dataDir: '.autostash', port: 6443, persist: false });
  t.same(loadConfig({ embedded: true, dataDir: '/d', embeddedPort: '0', persist: true }, {}).embedded, { mode: 'always', dataDir: '/d', port: 0, persist: true });
  t.equal(loadConfig({ embedded: false }, { AUTOSTASH_EMBEDDED: 'always' }).embedded.mode, 'never', 'flag wins');
  t.same(loadConfig({}, { AUTOSTASH_EMBEDDED: 'true', AUTOSTASH_DATA_DIR: '/x', AUTOSTASH_EMBEDDED_PORT: '7443', AUTOSTASH_PERSIST: 'true' }).embedded, { mode: 'always', dataDir: '/x', port: 7443, persist: true });
  t.throws(() => loadConfig({}, { AUTOSTASH_EMBEDDED: 'sometimes' }), /^AUTOSTASH_EMBEDDED: "sometimes" is not one of auto, always \(true\), never \(false\)/);
  t.throws(() => loadConfig({ embedded: true, kubeconfig: '/k' }, {}), /^--embedded: cannot be combined with --kubeconfig/);
  t.throws(() => loadConfig({ dataDir: ' ' }, {}), /^--data-dir: must not be empty/);
});

t.test('executor Job settings', async (t) => {
  const defaults = loadConfig({}, {}).controller;
  t.equal(defaults.executorImage, DEFAULT_EXECUTOR_IMAGE);
  t.equal(defaults.jobServiceAccount, undefined);
  t.equal(defaults.initialBackup, true);
  const fromEnv = loadConfig({}, { AUTOSTASH_IMAGE: 'registry.local/autostash:dev', AUTOSTASH_JOB_SERVICE_ACCOUNT: 'autostash-job', AUTOSTASH_INITIAL_BACKUP: 'false' }).controller;
  t.same([fromEnv.executorImage, fromEnv.jobServiceAccount, fromEnv.initialBackup], ['registry.local/autostash:dev', 'autostash-job', false]);
  const fromFlags = loadConfig({ image: 'x/y:1', jobServiceAccount: 'backup-runner', initialBackup: true }, { AUTOSTASH_INITIAL_BACKUP: 'false' }).controller;
  t.same([fromFlags.executorImage, fromFlags.jobServiceAccount, fromFlags.initialBackup], ['x/y:1', 'backup-runner', true]);
  t.throws(() => loadConfig({ image: 'has space' }, {}), /^--image: "has space" is not a container image reference/);
  t.throws(() => loadConfig({}, { AUTOSTASH_JOB_SERVICE_ACCOUNT: 'Bad_Name' }), /^AUTOSTASH_JOB_SERVICE_ACCOUNT: "Bad_Name" is not a valid object name/);
  t.throws(() => loadConfig({}, { AUTOSTASH_INITIAL_BACKUP: 'maybe' }), /^AUTOSTASH_INITIAL_BACKUP: "maybe" is not true or false/);
});

t.test('Job ServiceAccounts per role fall back to --job-service-account', async (t) => {
  t.same(loadConfig({}, {}).controller.jobServiceAccounts, { backup: undefined, restore: undefined, kubedumpBackup: undefined, kubedumpRestore: undefined, maintenance: undefined });
  const fallback = loadConfig({ jobServiceAccount: 'runner', restoreJobServiceAccount: 'restorer', kubedumpBackupServiceAccount: 'dumper' }, { AUTOSTASH_MAINTENANCE_JOB_SERVICE_ACCOUNT: 'janitor', AUTOSTASH_RESTORE_JOB_SERVICE_ACCOUNT: 'ignored' }).controller;
  t.same(fallback.jobServiceAccounts, { backup: 'runner', restore: 'restorer', kubedumpBackup: 'dumper', kubedumpRestore: 'runner', maintenance: 'janitor' }, 'flags over env, env over the fallback');
  const fromEnv = loadConfig({}, { AUTOSTASH_BACKUP_JOB_SERVICE_ACCOUNT: 'b', AUTOSTASH_KUBEDUMP_RESTORE_SERVICE_ACCOUNT: 'kr', AUTOSTASH_BACKUP_JOB_SERVICE_ACCOUNT_UNUSED: 'x' }).controller;
  t.same([fromEnv.jobServiceAccounts.backup, fromEnv.jobServiceAccounts.kubedumpRestore, fromEnv.jobServiceAccounts.restore], ['b', 'kr', undefined]);
  t.throws(() => loadConfig({ maintenanceJobServiceAccount: 'Bad_Name' }, {}), /^--maintenance-job-service-account: "Bad_Name" is not a valid object name/);
  t.throws(() => loadConfig({}, { AUTOSTASH_KUBEDUMP_BACKUP_SERVICE_ACCOUNT: 'x y' }), /^AUTOSTASH_KUBEDUMP_BACKUP_SERVICE_ACCOUNT: "x y" is not a valid object name/);
});

t.test('the version constant matches package.json', async (t) => {
  const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  t.equal(AUTOSTASH_VERSION, pkg.version);
});

t.test('leader election timings', async (t) => {
  t.same(loadConfig({}, {}).controller.leaderElection, { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 }, "client-go's defaults");
  t.same(
    loadConfig({}, { AUTOSTASH_LEASE_DURATION: '1m', AUTOSTASH_RENEW_DEADLINE: '45s', AUTOSTASH_RETRY_PERIOD: '5s' }).controller.leaderElection,
    { leaseDurationSeconds: 60, renewDeadlineSeconds: 45, retryPeriodSeconds: 5 },
  );
  t.same(
    loadConfig({ leaseDuration: '3s', renewDeadline: '2s', retryPeriod: '500ms' }, { AUTOSTASH_LEASE_DURATION: '1m' }).controller.leaderElection,
    { leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 },
    'flags win and fractions of a second are kept',
  );
  const refused: Array<[string, ServeFlags, NodeJS.ProcessEnv, RegExp]> = [
    ['not a duration', { leaseDuration: '15' }, {}, /^--lease-duration: "15" is not a duration such as 15s or 1m30s \(time: missing unit/],
    ['unknown unit', {}, { AUTOSTASH_RETRY_PERIOD: '2d' }, /^AUTOSTASH_RETRY_PERIOD: "2d" is not a duration .*unknown unit "d"/],
    ['zero', { retryPeriod: '0s' }, {}, /^--retry-period: "0s" must be longer than 0/],
    ['negative', { renewDeadline: '-5s' }, {}, /^--renew-deadline: "-5s" must be longer than 0/],
    ['longer than a day', { leaseDuration: '25h' }, {}, /^--lease-duration: "25h" is longer than 24h/],
    ['lease duration not above the default renew deadline', { leaseDuration: '10s' }, {}, /^--lease-duration: 10s must be longer than the renew deadline \(10s, the default of --renew-deadline\): a leader must give up/],
    ['renew deadline not below the default lease', { renewDeadline: '15s', retryPeriod: '1s' }, {}, /^--renew-deadline: 15s must be shorter than the lease duration \(15s, the default of --lease-duration\)/],
    ['both set, the renew deadline is named', { leaseDuration: '5s' }, { AUTOSTASH_RENEW_DEADLINE: '6s', AUTOSTASH_RETRY_PERIOD: '1s' }, /^AUTOSTASH_RENEW_DEADLINE: 6s must be shorter than the lease duration \(5s from --lease-duration\)/],
    ['renew deadline not above the default retry period', { renewDeadline: '2s' }, {}, /^--renew-deadline: 2s must be longer than the retry period \(2s, the default of --retry-period\): the leader needs more than one attempt/],
    ['retry period not below the renew deadline', {}, { AUTOSTASH_RETRY_PERIOD: '10s' }, /^AUTOSTASH_RETRY_PERIOD: 10s must be shorter than the renew deadline \(10s, the default of --renew-deadline\)/],
  ];
  for (const [name, flags, env, message] of refused) {
    t.throws(() => loadConfig(flags, env), message, name);
    t.throws(() => loadConfig(flags, env), ConfigError, `${name}: a ConfigError`);
  }
});

t.test('certificate source, Secret, lifetimes and renewal fraction', async (t) => {
  const defaults = loadConfig({}, {});
  t.same(defaults.certificates, { source: undefined, secretName: 'autostash-webhook-tls', caLifetimeMs: 43800 * 3_600_000, certLifetimeMs: 8760 * 3_600_000, renewFraction: 0.3333 });
  t.same(defaults.shutdown, { drainMs: 5000 });
  t.same(defaults.loadShedding, { maxEventLoopDelayMs: 1000, maxHeapUsedBytes: undefined });
  t.same(loadConfig({ maxEventLoopDelay: '1s', maxHeapUsed: '512' }, {}).loadShedding, { maxEventLoopDelayMs: 1000, maxHeapUsedBytes: 512 * 1024 * 1024 });
  t.same(loadConfig({}, { AUTOSTASH_MAX_EVENT_LOOP_DELAY: '50ms', AUTOSTASH_MAX_HEAP_USED: '64' }).loadShedding, { maxEventLoopDelayMs: 50, maxHeapUsedBytes: 64 * 1024 * 1024 });
  const fromEnv = loadConfig({}, { AUTOSTASH_CERT_SOURCE: 'cert-manager', AUTOSTASH_CERT_SECRET: 'tls', AUTOSTASH_CA_LIFETIME: '2h', AUTOSTASH_CERT_LIFETIME: '30m', AUTOSTASH_CERT_RENEW_FRACTION: '.5', AUTOSTASH_SHUTDOWN_DRAIN: '0s' });
  t.same(fromEnv.certificates, { source: 'cert-manager', secretName: 'tls', caLifetimeMs: 7_200_000, certLifetimeMs: 1_800_000, renewFraction: 0.5 });
  t.equal(fromEnv.shutdown.drainMs, 0);
  t.equal(loadConfig({ certSource: 'secret' }, { AUTOSTASH_CERT_SOURCE: 'cert-manager' }).certificates.source, 'secret', 'the flag wins');
  for (const source of ['self-managed', 'cert-manager', 'secret', 'files']) t.equal(loadConfig({ certSource: source }, {}).certificates.source, source);
  t.equal(loadConfig({ tlsCert: 'a', tlsKey: 'b', certSource: 'files' }, {}).certificates.source, 'files', 'explicit files with --cert-source files');

  const rejected: Array<[string, ServeFlags, NodeJS.ProcessEnv, string, RegExp]> = [
    ['unknown source', { certSource: 'vault' }, {}, '--cert-source', /"vault" is not one of self-managed, cert-manager, secret, files/],
    ['unknown source from the environment', {}, { AUTOSTASH_CERT_SOURCE: 'x' }, 'AUTOSTASH_CERT_SOURCE', /not one of/],
    ['files and a Secret source', { tlsCert: 'a', tlsKey: 'b', certSource: 'self-managed' }, {}, '--cert-source', /reads the certificate from a Secret: drop --tls-cert/],
    ['bad Secret name', { certSecret: 'Not_A_Name' }, {}, '--cert-secret', /not a valid object name/],
    ['lifetime not a duration', { caLifetime: '5 years' }, {}, '--ca-lifetime', /not a duration such as 8760h/],
    ['lifetime too short', { certLifetime: '1m' }, {}, '--cert-lifetime', /outside the range 10m to 876000h/],
    ['lifetime too long', {}, { AUTOSTASH_CA_LIFETIME: '1000000h' }, 'AUTOSTASH_CA_LIFETIME', /outside the range/],
    ['serving certificate outliving the CA', { caLifetime: '1h', certLifetime: '2h' }, {}, '--cert-lifetime', /must not be longer than the CA lifetime/],
    ['fraction of 1', { certRenewFraction: '1' }, {}, '--cert-renew-fraction', /not a fraction between 0 and 1/],
    ['fraction of 0', { certRenewFraction: '0' }, {}, '--cert-renew-fraction', /not a fraction/],
    ['fraction not a number', { certRenewFraction: 'third' }, {}, '--cert-renew-fraction', /not a fraction/],
    ['drain not a duration', { shutdownDrain: 'soon' }, {}, '--shutdown-drain', /not a duration/],
    ['drain too long', {}, { AUTOSTASH_SHUTDOWN_DRAIN: '1h' }, 'AUTOSTASH_SHUTDOWN_DRAIN', /outside the range 0s to 5m/],
    ['event-loop delay not a duration', { maxEventLoopDelay: '200' }, {}, '--max-event-loop-delay', /not a duration/],
    ['event-loop delay too short', {}, { AUTOSTASH_MAX_EVENT_LOOP_DELAY: '1ms' }, 'AUTOSTASH_MAX_EVENT_LOOP_DELAY', /outside the range 10ms to 1m/],
    ['heap limit not a number', { maxHeapUsed: '1Gi' }, {}, '--max-heap-used', /"1Gi" is not a number of MiB between 32 and 1048576/],
    ['heap limit too small', {}, { AUTOSTASH_MAX_HEAP_USED: '8' }, 'AUTOSTASH_MAX_HEAP_USED', /not a number of MiB/],
  ];
  for (const [name, flags, env, source, message] of rejected) {
    t.throws(() => loadConfig(flags, env), { name: 'ConfigError', source, message }, name);
  }
});
