/**
 * `exec restore` for the kubedump Function (component `manifest`, SPEC §11): restores the component's restic
 * snapshot into a private scratch directory, plans the restore from the file layout (restore-plan.ts), and
 * applies the objects through the API in that order: created when missing; when they exist, left alone
 * (default) or updated (OverrideResources). Owner references are re-linked to the owners as they exist after
 * the restore, and an object whose owner is restored later waits for it. A failure of one object is recorded
 * and the run goes on. The results go to `RestoreSession.status.manifestRestore` (bounded), the component
 * Succeeded when no object failed. The dump holds Secrets: it is removed at the end, and object contents are
 * never logged.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { parse } from 'yaml';
import type { RestoreSession } from '../../api/index.js';
import { formatFieldError } from '../../domain/errors.js';
import { labelsSelected, namespaceSelected } from '../../domain/kubedump/filter.js';
import { linkOwnerReferences, ownerKey, ownerKeysOf, type OwnerReference, type OwnerState } from '../../domain/kubedump/owner-links.js';
import { prepareForCreate, prepareForUpdate } from '../../domain/kubedump/restore-object.js';
import { parseKubedumpRestoreOptions, planKubedumpRestore, type KubedumpRestoreOptions, type PlannedObject } from '../../domain/kubedump/restore-plan.js';
import { createRestoreTally, describeManifestRestore, type ObjectRestoreResult, type RestoreTally } from '../../domain/kubedump/restore-results.js';
import { asObject, asString } from '../../domain/json-access.js';
import { parseApiVersion, type KubeObject } from '../../domain/kube-object.js';
import { isAlreadyExists, isForbidden, isNotFound, type KubeClient } from '../../kube/client.js';
import { describeFailure, ExecError, RESTORE_SESSION_TYPE, scratchRoot, updateStatusRetrying } from '../context.js';
import { restoreComponent, type ComponentRestoreContext, type ComponentRestoreOutcome, type RestoreOptions, type RestoreResult } from '../restore.js';

export interface KubedumpRestoreRunOptions extends Omit<RestoreOptions, 'include' | 'exclude' | 'targetPath'> {
  /** The manifest-restore parameters by their SPEC §11 names (filters, OverrideResources, RestorePVs, StorageClassMappings). */
  params: Readonly<Record<string, string | undefined>>;
  /** How long to wait for the kind of a custom resource to be served (its CRD restored a moment ago). Default 60 s. */
  servedWaitMs?: number;
  /** Pause between looks while waiting for a kind to be served. Default 500 ms. */
  servedPollMs?: number;
}

export interface KubedumpRestoreResult extends RestoreResult {
  /** What happened to the objects (also in status.manifestRestore); absent when the run failed before applying any. */
  summary?: ReturnType<RestoreTally['summary']>;
}

const NAMESPACE_TYPE = { apiVersion: 'v1', kind: 'Namespace' };

/**
 * One selected object of the dump. Its contents are not kept: apply reads the file again, so memory holds one
 * object at a time, not the whole dump (a cluster's Secrets, Helm release records included, can be gigabytes).
 */
interface Candidate {
  planned: PlannedObject;
  /** ownerKey of the object as restored. */
  key: string;
}

const UNREADABLE = 'the dumped file is not a YAML object with apiVersion and kind';

/** The object a dump file holds, or undefined when it cannot be read or is not an object with apiVersion and kind. */
async function readDumpedObject(dumpDir: string, path: string): Promise<(KubeObject & { apiVersion: string; kind: string }) | undefined> {
  let object: KubeObject | undefined;
  try {
    object = asObject(parse(await readFile(join(dumpDir, path), 'utf8'))) as KubeObject | undefined;
  } catch {
    return undefined;
  }
  return object !== undefined && object.apiVersion && object.kind ? (object as KubeObject & { apiVersion: string; kind: string }) : undefined;
}

/** Every file under `root`, as relative POSIX paths. */
async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

/**
 * Runs a manifest restore (see the module comment). Throws ExecError only when the RestoreSession is missing;
 * every other failure is written as the component's.
 */
export async function runKubedumpRestore(options: KubedumpRestoreRunOptions): Promise<KubedumpRestoreResult> {
  let summary: KubedumpRestoreResult['summary'];
  const result = await restoreComponent(options, async (context) => {
    const outcome = await restoreManifests(options, context);
    summary = outcome.summary;
    return outcome;
  });
  return { ...result, ...(summary !== undefined ? { summary } : {}) };
}

async function restoreManifests(options: KubedumpRestoreRunOptions, context: ComponentRestoreContext): Promise<ComponentRestoreOutcome & { summary?: KubedumpRestoreResult['summary'] }> {
  const restoreNamespace = context.session.spec?.manifestOptions?.workload?.restoreNamespace;
  const parsed = parseKubedumpRestoreOptions(options.params, restoreNamespace);
  if ('errors' in parsed) throw new ExecError(`invalid manifest-restore parameters: ${parsed.errors.map(formatFieldError).join('; ')}`);
  const restore = parsed.options;
  const dumpDir = await mkdtemp(join(scratchRoot(options), 'manifest-restore-'));
  try {
    for (const entry of context.entries) {
      if (entry.id !== undefined && entry.id !== '') await context.restic.restore(entry.id, dumpDir, { include: [], exclude: [] });
    }
    const plan = planKubedumpRestore(await listFiles(dumpDir), restore);
    const tally = createRestoreTally();
    const { candidates, excluded } = await readCandidates(dumpDir, plan.objects, restore, tally);
    await applyCandidates(options, restore, dumpDir, candidates, tally);
    const summary = tally.summary(plan.excluded.length + excluded);
    await updateStatusRetrying<RestoreSession>(options.client, RESTORE_SESSION_TYPE, options.namespace, options.restoreSession, (current) => {
      (current.status ??= {}).manifestRestore = summary;
    });
    const line = describeManifestRestore(summary);
    options.logger.info({ snapshot: context.snapshotName, created: summary.created, updated: summary.updated, skipped: summary.skipped, failed: summary.failed, excluded: summary.excluded }, 'manifests restored');
    const firstFailure = summary.resources?.find((r) => r.result === 'Failed');
    return {
      restoredPaths: [],
      message: `restored manifests from ${context.snapshotName}: ${line}`,
      summary,
      ...(firstFailure !== undefined
        ? { error: `${summary.failed} of ${summary.total} objects failed to restore (${line}); first: ${firstFailure.kind} ${objectId(firstFailure.namespace, firstFailure.name)}: ${firstFailure.reason}` }
        : {}),
    };
  } finally {
    await rm(dumpDir, { recursive: true, force: true });
  }
}

const objectId = (namespace: string | undefined, name: string): string => (namespace ? `${namespace}/${name}` : name);

const resultOf = (planned: PlannedObject, object: KubeObject | undefined, result: ObjectRestoreResult['result'], reason?: string): ObjectRestoreResult => ({
  apiGroup: object?.apiVersion !== undefined ? parseApiVersion(object.apiVersion).group : planned.type.group,
  kind: object?.kind ?? planned.directory,
  ...(planned.namespace !== undefined ? { namespace: planned.namespace } : {}),
  name: planned.name,
  result,
  ...(reason !== undefined ? { reason } : {}),
});

/**
 * Reads the planned files: an unreadable file or one without apiVersion/kind is a failure of that object;
 * objects the label filters reject, and volumes whose claim is in a namespace not restored (without
 * IncludeClusterResources), are counted as excluded.
 */
async function readCandidates(dumpDir: string, planned: readonly PlannedObject[], restore: KubedumpRestoreOptions, tally: RestoreTally): Promise<{ candidates: Candidate[]; excluded: number }> {
  const candidates: Candidate[] = [];
  let excluded = 0;
  for (const entry of planned) {
    const object = await readDumpedObject(dumpDir, entry.path);
    if (object === undefined) {
      tally.add(resultOf(entry, undefined, 'Failed', UNREADABLE));
      continue;
    }
    if (!labelsSelected(restore.filter, object.metadata?.labels)) {
      excluded++;
      continue;
    }
    if (entry.directory === 'persistentvolumes' && !restore.filter.includeClusterResources) {
      const claimNamespace = asString(asObject(asObject(object.spec)?.claimRef)?.namespace);
      if (claimNamespace === '' || !namespaceSelected(restore.filter, claimNamespace)) {
        excluded++;
        continue;
      }
    }
    candidates.push({ planned: entry, key: ownerKey(object.apiVersion, object.kind, entry.namespace, entry.name) });
  }
  return { candidates, excluded };
}

/** Applies the candidates in plan order, an object whose owner is still to come right after that owner. */
async function applyCandidates(options: KubedumpRestoreRunOptions, restore: KubedumpRestoreOptions, dumpDir: string, candidates: readonly Candidate[], tally: RestoreTally): Promise<void> {
  const { client } = options;
  const pending = new Set(candidates.map((c) => c.key));
  /** uids of the objects this run created or updated (others are looked up). */
  const restoredUids = new Map<string, string>();
  const waiting = new Map<string, Candidate[]>();
  const ensuredNamespaces = new Set<string>();
  const served = createServedCheck(client, options.servedWaitMs ?? 60_000, options.servedPollMs ?? 500);
  const sourceNamespaces = [...new Set(candidates.map((c) => c.planned.sourceNamespace).filter((n): n is string => n !== undefined))];
  const prepareOptions = { storageClassMappings: restore.storageClassMappings, sourceNamespaces, ...(restore.restoreNamespace !== undefined ? { restoreNamespace: restore.restoreNamespace } : {}) };

  const ownerStates = async (references: readonly OwnerReference[], namespace: string | undefined): Promise<Map<OwnerReference, OwnerState>> => {
    const states = new Map<OwnerReference, OwnerState>();
    for (const reference of references) {
      const keys = ownerKeysOf(reference, namespace);
      const known = keys.map((key) => restoredUids.get(key)).find((uid) => uid !== undefined);
      if (known !== undefined) states.set(reference, { uid: known });
      else if (keys.some((key) => pending.has(key))) states.set(reference, 'pending');
      else states.set(reference, await liveOwner(client, reference, namespace));
    }
    return states;
  };

  const finish = (candidate: Candidate, result: ObjectRestoreResult, uid?: string): Candidate[] => {
    tally.add(result);
    pending.delete(candidate.key);
    if (uid !== undefined) restoredUids.set(candidate.key, uid);
    const released = waiting.get(candidate.key) ?? [];
    waiting.delete(candidate.key);
    return released;
  };

  /** Applies one object; answers the objects that waited for it. */
  const apply = async (candidate: Candidate, final: boolean): Promise<Candidate[]> => {
    const { planned } = candidate;
    const object = await readDumpedObject(dumpDir, planned.path);
    if (object === undefined) return finish(candidate, resultOf(planned, undefined, 'Failed', UNREADABLE));
    const references = (object.metadata?.ownerReferences ?? []) as OwnerReference[];
    const desired = prepareForCreate(object, planned, prepareOptions);
    try {
      const states = await ownerStates(references, planned.namespace);
      const linking = linkOwnerReferences(references, (reference) => states.get(reference) as OwnerState, final);
      if (!linking.ready) {
        const owner = ownerKeysOf(linking.waitingFor[0] as OwnerReference, planned.namespace).find((key) => pending.has(key)) as string;
        waiting.set(owner, [...(waiting.get(owner) ?? []), candidate]);
        return [];
      }
      if (linking.ownerReferences.length > 0) (desired.metadata ??= {}).ownerReferences = linking.ownerReferences;
      if (planned.namespace !== undefined) await ensureNamespace(client, planned.namespace, ensuredNamespaces, tally);
      await served(desired);
      const outcome = await createOrUpdate(client, desired, restore.overrideResources);
      options.logger.debug({ kind: desired.kind, namespace: planned.namespace, name: planned.name, result: outcome.result }, 'object restored');
      return finish(candidate, resultOf(planned, desired, outcome.result, outcome.reason), outcome.uid);
    } catch (error) {
      const reason = describeFailure(error);
      options.logger.warn({ kind: desired.kind, namespace: planned.namespace, name: planned.name, reason }, 'object not restored');
      return finish(candidate, resultOf(planned, desired, 'Failed', reason));
    }
  };

  const work = async (first: Candidate, final: boolean): Promise<void> => {
    const stack = [first];
    while (stack.length > 0) {
      const released = await apply(stack.pop() as Candidate, final);
      stack.push(...released.reverse());
    }
  };
  for (const candidate of candidates) await work(candidate, false);
  // Left waiting: owners in a cycle (each waits for the other). Their references cannot be linked: drop them.
  while (waiting.size > 0) {
    const [key, stuck] = waiting.entries().next().value as [string, Candidate[]];
    waiting.delete(key);
    for (const candidate of stuck) await work(candidate, true);
  }
}

/** The owner as it exists now, or missing (also when its kind is not served: client.find answers 404 as undefined). */
async function liveOwner(client: KubeClient, reference: OwnerReference, namespace: string | undefined): Promise<OwnerState> {
  const found = await client.find({ apiVersion: reference.apiVersion as string, kind: reference.kind as string, namespace, name: reference.name as string });
  return found === undefined ? 'missing' : { uid: found.metadata?.uid as string };
}

/**
 * Creates the namespace (bare) when it does not exist, once per run; a Namespace object of the dump comes earlier
 * in the plan. An account that may not create namespaces (a Role in the namespace restored into) is refused even
 * when the namespace exists, since authorization comes before the existence check: then a namespace that exists
 * is enough, and the refusal stands only when it does not (or cannot be read either).
 */
async function ensureNamespace(client: KubeClient, namespace: string, ensured: Set<string>, tally: RestoreTally): Promise<void> {
  if (ensured.has(namespace)) return;
  try {
    await client.create({ ...NAMESPACE_TYPE, metadata: { name: namespace } });
    tally.add({ apiGroup: '', kind: 'Namespace', name: namespace, result: 'Created' });
  } catch (error) {
    if (!isAlreadyExists(error) && !isForbidden(error)) throw error;
    const existing = isForbidden(error) ? await client.find({ ...NAMESPACE_TYPE, name: namespace }).catch(() => undefined) : await client.get({ ...NAMESPACE_TYPE, name: namespace });
    if (existing === undefined) throw error;
    if (existing.metadata?.deletionTimestamp) throw new ExecError(`namespace ${namespace} is being deleted; restore once it is gone`);
  }
  ensured.add(namespace);
}

/**
 * Waits until the API server serves the object's kind (a CRD restored a moment ago takes a while), at most
 * `waitMs` per kind; a kind that did not become served fails at once afterwards instead of waiting again.
 */
function createServedCheck(client: KubeClient, waitMs: number, pollMs: number): (object: KubeObject) => Promise<void> {
  const given = new Set<string>();
  return async (object) => {
    const type = { apiVersion: object.apiVersion as string, kind: object.kind as string };
    const key = `${type.apiVersion}/${type.kind}`;
    const deadline = Date.now() + (given.has(key) ? 0 : waitMs);
    for (;;) {
      try {
        await client.resource(type);
        return;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        if (Date.now() >= deadline) {
          given.add(key);
          throw new ExecError(`${type.apiVersion} ${type.kind} is not served by the API server (is its CustomResourceDefinition installed?)`);
        }
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    }
  };
}

/**
 * Creates the object; when it exists, skips it or (override) updates it with the live resourceVersion. A change
 * between reading and updating is a conflict, reported as the object's failure (a re-run restores it).
 */
async function createOrUpdate(client: KubeClient, desired: KubeObject, override: boolean): Promise<{ result: 'Created' | 'Updated' | 'Skipped'; uid?: string; reason?: string }> {
  try {
    const created = await client.create(desired);
    return { result: 'Created', uid: created.metadata?.uid as string };
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
  if (!override) return { result: 'Skipped', reason: 'exists' };
  const live = await client.get({ apiVersion: desired.apiVersion as string, kind: desired.kind as string, namespace: desired.metadata?.namespace, name: desired.metadata?.name as string });
  const updated = await client.update(prepareForUpdate(desired, live));
  return { result: 'Updated', reason: 'exists; overridden (OverrideResources)', uid: updated.metadata?.uid as string };
}
