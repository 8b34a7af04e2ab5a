/**
 * `autostash exec dump --output DIR`: a one-off kubedump into a directory, run by a person with their own
 * kubeconfig (debugging, GitOps diffs). No restic, no BackupSession. The directory must be empty or missing
 * unless `force` is given, so a typo never mixes a dump into unrelated files.
 */
import { readdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { KubeClient } from '../../kube/client.js';
import { ExecError } from '../context.js';
import { requireKubedumpFilter } from './backup.js';
import { dumpResources, type DumpScope, type DumpSummary } from './dump.js';

export interface DumpToDirectoryOptions {
  client: KubeClient;
  logger: Logger;
  output: string;
  filterParams: Readonly<Record<string, string | undefined>>;
  /** Only this namespace (and its Namespace object); cluster-scoped types still follow IncludeClusterResources. */
  namespaceScope?: string;
  /** Only this application (`Kind[.group]/name`, e.g. `Deployment.apps/web`) in namespaceScope. */
  application?: string;
  /** Write into a non-empty directory (files of the same path are replaced, others stay). */
  force?: boolean;
}

/** Parses `Kind[.group]/name` (`Deployment.apps/web`, `Pod/p`). */
export function parseApplicationRef(text: string): { group: string; kind: string; name: string } {
  const match = /^([A-Za-z][A-Za-z0-9]*)(?:\.([a-z0-9.-]+))?\/([^/]+)$/.exec(text);
  if (match === null) throw new ExecError(`--application "${text}" must be Kind[.group]/name, e.g. Deployment.apps/web`);
  return { kind: match[1] as string, group: match[2] ?? '', name: match[3] as string };
}

/**
 * Checks the flags and the output directory (missing → created; a file, or not empty without `force` → refused),
 * then dumps. Throws ExecError with the flag that is wrong.
 */
export async function runDumpToDirectory(options: DumpToDirectoryOptions): Promise<{ ok: boolean; message: string; summary: DumpSummary }> {
  if (options.output.trim() === '') throw new ExecError('--output must name a directory');
  const output = resolve(options.output);
  const filter = requireKubedumpFilter(options.filterParams);
  let scope: DumpScope = { scope: 'cluster' };
  if (options.application !== undefined) {
    if (options.namespaceScope === undefined) throw new ExecError('--application needs --namespace-scope (the namespace of the application)');
    scope = { scope: 'application', namespace: options.namespaceScope, target: parseApplicationRef(options.application) };
  } else if (options.namespaceScope !== undefined) {
    scope = { scope: 'namespace', namespace: options.namespaceScope };
  }
  const info = await stat(output).catch(() => undefined);
  if (info !== undefined) {
    if (!info.isDirectory()) throw new ExecError(`--output ${output} exists and is not a directory`);
    if (!options.force && (await readdir(output)).length > 0) {
      throw new ExecError(`--output ${output} is not empty: choose an empty or new directory, or pass --force to write into it`);
    }
  }
  const summary = await dumpResources({ client: options.client, logger: options.logger, filter, outputDir: output, scope });
  return { ok: true, message: `dumped ${summary.objects} object(s) of ${summary.resourceTypes} resource type(s) into ${output}`, summary };
}
