/**
 * The `autostash` command. Each subcommand's module is imported only when it runs, so a quick
 * `validate` does not pay for the server's start-up.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { AUTOSTASH_VERSION } from '../version.js';
import { execCommand } from './exec.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Builds the command tree; exported so tests can run it in-process. */
export function buildCli(): Command {
  const program = new Command('autostash')
    .description('Annotation-driven auto backup for Kubernetes (KubeStash API)')
    .version(AUTOSTASH_VERSION)
    .showHelpAfterError()
    .exitOverride();

  program
    .command('serve')
    .description('run the HTTPS admission webhook')
    .option('--host <host>', 'address to listen on (default 0.0.0.0)')
    .option('--port <port>', 'port to listen on (default 8443)')
    .option('--cert-dir <dir>', 'directory with ca.crt, tls.crt, tls.key (generated when absent; default certs)')
    .option('--tls-cert <file>', 'serving certificate file (with --tls-key)')
    .option('--tls-key <file>', 'serving key file (with --tls-cert)')
    .option('--namespace <ns>', 'namespace of the webhook Service, for certificate names (default autostash)')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster to watch')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (default info)')
    .option('--embedded', 'start the embedded control plane even when a cluster is configured')
    .option('--no-embedded', 'never start the embedded control plane (without a cluster, rules see an empty one)')
    .option('--data-dir <dir>', "the embedded control plane's data directory (default .autostash)")
    .option('--embedded-port <port>', "the embedded control plane's HTTPS port on 127.0.0.1 (default 6443)")
    .option('--persist', 'keep the embedded control plane\'s objects across restarts')
    .option('--keep-unannotated', 'keep a generated BackupConfiguration when its workload loses the annotations or is deleted')
    .option('--image <image>', 'container image of backup, restore and maintenance Jobs (default ghcr.io/autostash/autostash:v<version>)')
    .option('--job-service-account <name>', 'ServiceAccount backup and restore Jobs run as (default: the namespace default)')
    .option('--backup-job-service-account <name>', 'ServiceAccount of backup Jobs (default: --job-service-account)')
    .option('--restore-job-service-account <name>', 'ServiceAccount of restore Jobs (default: --job-service-account)')
    .option('--kubedump-backup-service-account <name>', 'ServiceAccount of kubedump (manifest) backup Jobs (default: --job-service-account)')
    .option('--kubedump-restore-service-account <name>', 'ServiceAccount of kubedump (manifest) restore Jobs (default: --job-service-account)')
    .option('--maintenance-job-service-account <name>', 'ServiceAccount of retention, repository initialisation and wipe-out Jobs (default: --job-service-account)')
    .option('--initial-backup', 'run a first backup as soon as a BackupConfiguration is ready (default)')
    .option('--no-initial-backup', 'do not run that first backup')
    .option('--lease-duration <duration>', 'leader election: how long the Lease is valid without renewal; a standby takes over after it (default 15s)')
    .option('--renew-deadline <duration>', 'leader election: how long the leader keeps trying to renew before it steps down (default 10s)')
    .option('--retry-period <duration>', 'leader election: pause between attempts to acquire or renew the Lease (default 2s)')
    .option('--cert-source <source>', 'serving certificate: self-managed, cert-manager, secret (from --cert-secret) or files (--cert-dir); default self-managed in a cluster, files otherwise')
    .option('--cert-secret <name>', 'Secret with ca.crt, tls.crt and tls.key in the webhook namespace (default autostash-webhook-tls)')
    .option('--ca-lifetime <duration>', 'self-managed: lifetime of the CA (default 43800h)')
    .option('--cert-lifetime <duration>', 'self-managed: lifetime of the serving certificate (default 8760h)')
    .option('--cert-renew-fraction <ratio>', 'self-managed: renew when less than this fraction of a lifetime is left (default 0.3333)')
    .option('--shutdown-drain <duration>', 'on SIGTERM: how long /readyz fails while requests are still served before the server closes (default 5s)')
    .option('--max-event-loop-delay <duration>', 'shed admission requests with 503 while the mean event-loop delay is above this (default 1s)')
    .option('--max-heap-used <MiB>', 'shed admission requests with 503 while the heap in use is above this many MiB (default 90% of the heap limit)')
    .action(async (flags) => {
      const { runServe } = await import('./serve.js');
      await runServe(flags);
    });

  program
    .command('validate')
    .description('default and validate manifests offline, as the webhook does on apply')
    .requiredOption('-f, --filename <path>', 'a file, a directory (recursive) or - for stdin; repeatable', collect)
    .action(async (flags: { filename: string[] }) => {
      const { runValidate } = await import('./validate.js');
      process.exitCode = await runValidate(flags.filename, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    });

  program
    .command('render')
    .description('print the BackupConfiguration auto backup would generate for an annotated workload or PVC')
    .requiredOption('--blueprint <file>', 'file with one BackupBlueprint (its other objects act as the cluster); - for stdin')
    .requiredOption('--target <file>', 'file with the Deployment, StatefulSet, DaemonSet or PersistentVolumeClaim')
    .option('--set <var=value>', 'set the annotation variables.kubestash.com/<var> on the target; repeatable', collect, [])
    .option('--namespace-file <file>', "file with the target's Namespace (its labels decide a Selector usage policy)")
    .action(async (flags: { blueprint: string; target: string; set: string[]; namespaceFile?: string }) => {
      const { runRender } = await import('./render.js');
      process.exitCode = await runRender(flags, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    });

  program
    .command('certs')
    .description("create or check the webhook's CA and serving certificate, and print the caBundle")
    .option('--dir <dir>', 'certificate directory', 'certs')
    .option('--namespace <ns>', 'namespace of the webhook Service', 'autostash')
    .option('--dns-name <name>', 'extra DNS name for the serving certificate; repeatable', collect, [])
    .option('--days <days>', 'validity of new certificates in days', (v) => {
      const days = Number(v);
      if (!Number.isInteger(days) || days < 1 || days > 3650) throw new InvalidArgumentError('must be a whole number of days from 1 to 3650');
      return days;
    }, 365)
    .action(async (flags: { dir: string; namespace: string; dnsName: string[]; days: number }) => {
      const { runCerts } = await import('./certs.js');
      await runCerts(flags, process.stdout);
    });

  program
    .command('trigger')
    .description('create a BackupSession now for each session of a BackupConfiguration (or the one named)')
    .argument('<configuration>', 'name of the BackupConfiguration')
    .option('-n, --namespace <namespace>', "namespace of the BackupConfiguration (default: the kubeconfig context's, else default)")
    .option('--session <name>', 'only this session (spec.sessions[].name)')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default: KUBECONFIG, in-cluster, ~/.kube/config)')
    .action(async (configuration: string, flags: { namespace?: string; session?: string; kubeconfig?: string }) => {
      const { runTrigger } = await import('./trigger.js');
      process.exitCode = await runTrigger(configuration, flags, { stdout: process.stdout, stderr: process.stderr }, process.env);
    });

  program
    .command('status')
    .description('one line per BackupConfiguration: target, sessions, last backup, next schedule, size, snapshots; exit 1 when any is failing or overdue')
    .option('-n, --namespace <namespace>', "only this namespace (default: the kubeconfig context's, else default)")
    .option('-A, --all-namespaces', 'every namespace')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default: KUBECONFIG, in-cluster, ~/.kube/config)')
    .option('-o, --output <format>', 'table or json (default table)')
    .option('--overdue-after <factor>', 'schedule intervals without a successful backup before a session is overdue (default 2)')
    .action(async (flags: { namespace?: string; allNamespaces?: boolean; kubeconfig?: string; output?: string; overdueAfter?: string }) => {
      const { runStatus } = await import('./status.js');
      process.exitCode = await runStatus(flags, { stdout: process.stdout, stderr: process.stderr }, process.env);
    });

  // What backup, restore and maintenance Jobs run; the verbs load their code only when run.
  program.addCommand(execCommand());

  program
    .command('crds')
    .description("write autostash's CustomResourceDefinitions as YAML files")
    .requiredOption('--out <dir>', 'directory to write <group>_<plural>.yaml files into')
    .action(async (flags: { out: string }) => {
      const { runCrds } = await import('./crds.js');
      await runCrds(flags.out, process.stdout);
    });

  program
    .command('manifests')
    .description('print the YAML of a cluster install (what the Helm chart installs), for kubectl apply -f -')
    .option('-f, --values <file>', 'values file (as the chart\'s values.yaml); repeatable, later ones win', collect, [])
    .option('--set <key=value>', 'set one value, e.g. replicas=3 or certificates.source=cert-manager; repeatable', collect, [])
    .option('-n, --namespace <ns>', 'namespace to install into (default autostash)')
    .option('--release <name>', 'instance name in the app.kubernetes.io/instance label, as a Helm release name (default autostash)')
    .option('--no-create-namespace', 'do not print the Namespace object (it exists already)')
    .action(async (flags: { values: string[]; set: string[]; namespace?: string; release?: string; createNamespace: boolean }) => {
      const { runManifests } = await import('./manifests.js');
      process.exitCode = await runManifests(flags, { stdout: process.stdout, stderr: process.stderr });
    });

  return program;
}

/** Runs the CLI; usage errors exit 2, failures exit 1 with one clear line on stderr. */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildCli().parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : 2;
      return;
    }
    process.stderr.write(`autostash: ${(error as Error).message}\n`);
    process.exitCode = (error as { exitCode?: number }).exitCode ?? 1;
  }
}


