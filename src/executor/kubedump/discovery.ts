/**
 * Which resource types a dump lists: every resource the API server serves that can be listed and created, in
 * each group's preferred version only (the same objects are served in every version of a group), without
 * subresources.
 */
import { ApisApi, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { DumpResourceType } from '../../domain/kubedump/layout.js';
import type { KubeClient } from '../../kube/client.js';
import { describeFailure } from '../context.js';

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs?: string[];
}

export interface DiscoveredTypes {
  /** Sorted by directory name (core first within a name) so dumps and logs read the same every run. */
  types: DumpResourceType[];
  /** `group/version`s whose resource list could not be read (e.g. an aggregated API that is down). */
  unavailable: string[];
}

/**
 * Keeps the top-level resources of one group/version that can be listed and created. A type the API server
 * cannot create (PodMetrics and NodeMetrics of metrics-server, ComponentStatuses) can never be restored: dumped,
 * every one of its objects would fail the manifest restore.
 */
function listable(group: string, version: string, resources: readonly ApiResource[]): DumpResourceType[] {
  return resources
    .filter((r) => !r.name.includes('/') && (r.verbs ?? []).includes('list') && (r.verbs ?? []).includes('create'))
    .map((r) => ({ group, version, resource: r.name, kind: r.kind, namespaced: r.namespaced }));
}

/**
 * Reads `/api/v1` and every group's preferred version from `/apis`, keeping resources that are not subresources
 * and support `list` and `create`. A group/version whose resource list fails is reported in `unavailable` (and logged) and
 * skipped, as kubectl does, so one broken aggregated API does not stop a dump; a failure of `/apis` or
 * `/api/v1` themselves is thrown.
 */
export async function discoverDumpResourceTypes(client: KubeClient, logger: Logger): Promise<DiscoveredTypes> {
  const config = client.kubeConfig;
  const core = await config.makeApiClient(CoreV1Api).getAPIResources();
  const types = listable('', 'v1', core.resources);
  const unavailable: string[] = [];
  const groups = await config.makeApiClient(ApisApi).getAPIVersions();
  const custom = config.makeApiClient(CustomObjectsApi);
  for (const group of groups.groups) {
    const version = group.preferredVersion?.version ?? group.versions[0]?.version;
    if (version === undefined) continue;
    try {
      const list = await custom.getAPIResources({ group: group.name, version });
      types.push(...listable(group.name, version, list.resources));
    } catch (error) {
      unavailable.push(`${group.name}/${version}`);
      logger.warn({ groupVersion: `${group.name}/${version}`, reason: describeFailure(error) }, 'API group skipped: its resources could not be discovered');
    }
  }
  const key = (t: DumpResourceType): string => `${t.resource}.${t.group}`;
  types.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return { types, unavailable };
}
