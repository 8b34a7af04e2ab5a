/**
 * `autostash trigger <configuration>`: back up now. Creates one BackupSession per session of the
 * BackupConfiguration (or the one named), as `kubectl kubestash trigger` does (SPEC §4.3): owned by
 * the configuration, retryLeft 0, backupTimeout copied; the session controller runs it like any other.
 */
import type { BackupConfiguration } from '../api/core.js';
import { loadConfig } from '../config.js';
import { generateBackupSessionName } from '../domain/naming.js';
import { buildBackupSession } from '../domain/schedule/backup-session.js';
import { createKubeClient, isAlreadyExists, type KubeClient } from '../kube/client.js';
import { loadKubeConfigWithSource } from '../kube/kubeconfig.js';

const BACKUP_CONFIGURATION_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' };

/** A trigger that cannot be done as asked; the message says why and what to do. */
export class TriggerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TriggerError';
  }
}

export interface TriggerBackupOptions {
  client: KubeClient;
  namespace: string;
  /** The BackupConfiguration's name. */
  configuration: string;
  /** Only this session (`spec.sessions[].name`); every session when absent. */
  session?: string;
  /** Names the BackupSessions (`<configuration>-<session>-<unix seconds>`). */
  now: Date;
}

/**
 * Creates the BackupSessions and returns their names, in spec order.
 * @throws TriggerError when the configuration does not exist, is paused, has no sessions, does not
 *   have the named session (the message lists its sessions), or a BackupSession of that name exists
 *   already (triggered within the same second). API failures are thrown as they come.
 */
export async function triggerBackup(options: TriggerBackupOptions): Promise<string[]> {
  const { client, namespace, configuration: name, now } = options;
  const configuration = await client.find<BackupConfiguration>({ ...BACKUP_CONFIGURATION_TYPE, namespace, name });
  if (configuration === undefined) throw new TriggerError(`BackupConfiguration ${namespace}/${name} not found`);
  if (configuration.spec?.paused === true) throw new TriggerError(`BackupConfiguration ${namespace}/${name} is paused (spec.paused: true); resume it before triggering a backup`);
  const sessions = configuration.spec?.sessions ?? [];
  if (sessions.length === 0) throw new TriggerError(`BackupConfiguration ${namespace}/${name} has no sessions (spec.sessions is empty)`);
  const chosen = options.session === undefined ? sessions : sessions.filter((session) => session.name === options.session);
  if (chosen.length === 0) {
    throw new TriggerError(`BackupConfiguration ${namespace}/${name} has no session "${options.session}"; its sessions: ${sessions.map((session) => session.name ?? '').join(', ')}`);
  }
  const created: string[] = [];
  for (const session of chosen) {
    const sessionName = generateBackupSessionName(name, session.name ?? '', now.getTime() / 1000);
    try {
      await client.create(buildBackupSession({ configuration, session, name: sessionName, triggeredBy: 'trigger', retryLeft: 0 }));
    } catch (error) {
      if (isAlreadyExists(error)) throw new TriggerError(`BackupSession ${namespace}/${sessionName} already exists (triggered within the same second); try again in a second`);
      throw error;
    }
    created.push(sessionName);
  }
  return created;
}

export interface TriggerFlags {
  namespace?: string;
  session?: string;
  kubeconfig?: string;
}

export interface TriggerStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * Runs the command: prints one `backupsession/<name> created` line per BackupSession and returns 0,
 * or prints one `autostash trigger: <reason>` line and returns 1. The namespace defaults to the
 * kubeconfig context's, then `default`.
 */
export async function runTrigger(configuration: string, flags: TriggerFlags, streams: TriggerStreams, env: NodeJS.ProcessEnv = {}, now: () => Date = () => new Date()): Promise<0 | 1> {
  let client: KubeClient | undefined;
  try {
    const config = loadConfig(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}, env);
    const loaded = loadKubeConfigWithSource({ ...(config.kubeconfigPath !== undefined ? { kubeconfigPath: config.kubeconfigPath } : {}), env: config.kubeEnv });
    if (loaded === undefined) throw new TriggerError('no cluster configured: pass --kubeconfig (for the embedded control plane, <data-dir>/kubeconfig) or set KUBECONFIG');
    const { kubeConfig } = loaded;
    const namespace = flags.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
    client = createKubeClient(kubeConfig);
    const names = await triggerBackup({ client, namespace, configuration, ...(flags.session !== undefined ? { session: flags.session } : {}), now: now() });
    for (const name of names) streams.stdout.write(`backupsession/${name} created\n`);
    return 0;
  } catch (error) {
    // TriggerError, ConfigError, KubeConfigError and API errors all carry a one-line reason.
    if (error instanceof Error) {
      streams.stderr.write(`autostash trigger: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    client?.close();
  }
}
