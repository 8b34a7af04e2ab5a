/**
 * `autostash status`: one line per BackupConfiguration — target, sessions, last backup, next
 * schedule, repository size and snapshots — and a non-zero exit when any needs attention, so a
 * cron job or a CI step can alert on it.
 */
import type { BackupConfiguration, BackupSession } from '../api/core.js';
import type { Repository } from '../api/storage.js';
import { loadConfig } from '../config.js';
import { buildOverview, DEFAULT_OVERDUE_FACTOR, OVERVIEW_COLUMNS, overviewCells, type OverviewRow } from '../domain/status/overview.js';
import { createKubeClient, KubeApiError, type KubeClient, type TypeRef } from '../kube/client.js';
import { loadKubeConfigWithSource } from '../kube/kubeconfig.js';

const BACKUP_CONFIGURATION: TypeRef = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' };
const BACKUP_SESSION: TypeRef = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession' };
const REPOSITORY: TypeRef = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository' };

export const STATUS_OUTPUTS = ['table', 'json'] as const;

/** A status request that cannot be answered as asked (exit 2); the message says why. */
export class StatusUsageError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'StatusUsageError';
  }
}

export interface StatusFlags {
  namespace?: string;
  allNamespaces?: boolean;
  kubeconfig?: string;
  output?: string;
  overdueAfter?: string;
}

export interface StatusStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Lists everything the overview needs, in one namespace or all (`namespace` undefined). */
export async function readOverviewObjects(
  client: KubeClient,
  namespace: string | undefined,
): Promise<{ configurations: BackupConfiguration[]; backupSessions: BackupSession[]; repositories: Repository[] }> {
  const scope = namespace === undefined ? {} : { namespace };
  const [configurations, backupSessions, repositories] = await Promise.all([
    client.list<BackupConfiguration>(BACKUP_CONFIGURATION, scope),
    client.list<BackupSession>(BACKUP_SESSION, scope),
    client.list<Repository>(REPOSITORY, scope),
  ]);
  return { configurations: configurations.items, backupSessions: backupSessions.items, repositories: repositories.items };
}

/** Left-aligned columns separated by three spaces, as kubectl prints them; every row has one cell per header. */
export function renderTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => String(row[column]).length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(Number(widths[column]))).join('   ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

function parseFactor(text: string | undefined): number {
  if (text === undefined) return DEFAULT_OVERDUE_FACTOR;
  const factor = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(factor >= 1)) throw new StatusUsageError('--overdue-after', `"${text}" is not a number of at least 1 (schedule intervals without a successful backup)`);
  return factor;
}

const asJson = (row: OverviewRow): object => ({
  ...row,
  lastBackup: row.lastBackup === undefined ? null : { ...row.lastBackup, time: row.lastBackup.time.toISOString() },
  nextSchedule: row.nextSchedule?.toISOString() ?? null,
  sizeBytes: row.sizeBytes ?? null,
  snapshots: row.snapshots ?? null,
});

/** Why the cluster could not be read, in one line (API errors name their status; others their cause). */
function connectionMessage(error: unknown): string {
  if (error instanceof KubeApiError) {
    return error.code === 404
      ? `the KubeStash kinds are not served by this cluster (${error.message}); install the CRDs (autostash crds, or autostash manifests)`
      : `the API server refused: ${error.code} ${error.reason}: ${error.message}`;
  }
  // The client's network errors name the URL and the reason (refused, TLS, DNS).
  return `cannot reach the cluster: ${(error as Error).message}`;
}

/**
 * Runs the command. Returns 0 when every configuration is fine (or paused), 1 when any is failing or
 * overdue (they are listed with the reason under the table, on stdout, or in the JSON), 2 on a usage
 * error, a missing cluster configuration, or when the cluster cannot be read (one line on stderr).
 * The namespace defaults to the kubeconfig context's, then `default`; `allNamespaces` lists every one.
 */
export async function runStatus(flags: StatusFlags, streams: StatusStreams, env: NodeJS.ProcessEnv = {}, now: () => Date = () => new Date()): Promise<0 | 1 | 2> {
  let client: KubeClient | undefined;
  try {
    if (flags.allNamespaces === true && flags.namespace !== undefined) throw new StatusUsageError('--namespace', 'give --namespace or --all-namespaces, not both');
    const output = flags.output ?? 'table';
    if (!(STATUS_OUTPUTS as readonly string[]).includes(output)) throw new StatusUsageError('--output', `"${output}" is not one of ${STATUS_OUTPUTS.join(', ')}`);
    const overdueFactor = parseFactor(flags.overdueAfter);
    const config = loadConfig(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}, env);
    const loaded = loadKubeConfigWithSource({ ...(config.kubeconfigPath !== undefined ? { kubeconfigPath: config.kubeconfigPath } : {}), env: config.kubeEnv });
    if (loaded === undefined) throw new StatusUsageError('--kubeconfig', 'no cluster configured: pass --kubeconfig (for the embedded control plane, <data-dir>/kubeconfig) or set KUBECONFIG');
    const { kubeConfig } = loaded;
    const namespace = flags.allNamespaces === true ? undefined : (flags.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default');
    client = createKubeClient(kubeConfig);
    let objects: Awaited<ReturnType<typeof readOverviewObjects>>;
    try {
      objects = await readOverviewObjects(client, namespace);
    } catch (error) {
      streams.stderr.write(`autostash status: ${connectionMessage(error)}\n`);
      return 2;
    }
    const at = now();
    const rows = buildOverview({ ...objects, now: at, overdueFactor });
    const attention = rows.filter((row) => row.problems.length > 0);
    if (output === 'json') {
      streams.stdout.write(`${JSON.stringify({ namespace: namespace ?? null, time: at.toISOString(), configurations: rows.map(asJson) }, null, 2)}\n`);
    } else if (rows.length === 0) {
      streams.stdout.write(namespace === undefined ? 'No BackupConfigurations found.\n' : `No BackupConfigurations found in namespace ${namespace}.\n`);
    } else {
      streams.stdout.write(renderTable(OVERVIEW_COLUMNS, rows.map((row) => overviewCells(row, at))));
      if (attention.length > 0) {
        streams.stdout.write(`\n${attention.length} of ${rows.length} BackupConfiguration(s) need attention:\n`);
        for (const row of attention) {
          for (const problem of row.problems) streams.stdout.write(`  ${row.namespace}/${row.name} ${problem.kind}: ${problem.reason}\n`);
        }
      }
    }
    return attention.length > 0 ? 1 : 0;
  } catch (error) {
    // StatusUsageError, ConfigError and KubeConfigError carry a one-line reason.
    streams.stderr.write(`autostash status: ${(error as Error).message}\n`);
    return 2;
  } finally {
    client?.close();
  }
}
