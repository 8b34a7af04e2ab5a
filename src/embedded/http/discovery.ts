import type { ResourceType } from '../api-types.js';
import { formatApiVersion } from '../../domain/kube-object.js';

/** The Kubernetes version the embedded plane reports (what kubectl compares its own version against). */
export const servedKubernetesVersion = { major: '1', minor: '32', gitVersion: 'v1.32.0-autostash' } as const;

const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };

/** The `/version` document (version.Info). */
export function versionInfo(): Record<string, unknown> {
  return {
    ...servedKubernetesVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'node',
    platform: `${process.platform}/${goArch[process.arch] ?? process.arch}`,
  };
}

/**
 * Orders versions as Kubernetes prefers them: GA before beta before alpha, higher numbers first
 * within each, anything else last in lexical order.
 */
export function compareKubeVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number, string] => {
    const match = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!match) return [3, 0, 0, v];
    const stage = match[2] === undefined ? 0 : match[2] === 'beta' ? 1 : 2;
    return [stage, -Number(match[1]), -Number(match[3] ?? 0), v];
  };
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < 3; i++) {
    const diff = (ra[i] as number) - (rb[i] as number);
    if (diff !== 0) return diff;
  }
  return ra[3] < rb[3] ? -1 : ra[3] > rb[3] ? 1 : 0;
}


/** The versions of the core group (`/api`, APIVersions). */
export function coreApiVersions(types: readonly ResourceType[], serverAddress: string): Record<string, unknown> {
  const versions = [...new Set(types.filter((t) => t.group === '').map((t) => t.version))].sort(compareKubeVersions);
  return {
    kind: 'APIVersions',
    versions,
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** One APIGroup entry: every served version, the preferred one first. Undefined when nothing of `group` is served. */
export function apiGroup(types: readonly ResourceType[], group: string): Record<string, unknown> | undefined {
  const versions = [...new Set(types.filter((t) => t.group === group).map((t) => t.version))].sort(compareKubeVersions);
  const preferred = versions[0];
  if (preferred === undefined) return undefined;
  const entry = (version: string) => ({ groupVersion: formatApiVersion(group, version), version });
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: versions.map(entry), preferredVersion: entry(preferred) };
}

/** `/apis` (APIGroupList): every named group, in order of first appearance. */
export function apiGroupList(types: readonly ResourceType[]): Record<string, unknown> {
  const groups = [...new Set(types.filter((t) => t.group !== '').map((t) => t.group))];
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((group) => {
      const { kind: _kind, apiVersion: _apiVersion, ...rest } = apiGroup(types, group) as Record<string, unknown>;
      return rest;
    }),
  };
}

const subresourceVerbs = ['get', 'patch', 'update'];

/**
 * `/api/v1` or `/apis/<group>/<version>` (APIResourceList): each resource with its verbs, short names,
 * categories, and a `<resource>/status` entry when the status subresource is served. Undefined when
 * the group/version serves nothing.
 */
export function apiResourceList(types: readonly ResourceType[], group: string, version: string): Record<string, unknown> | undefined {
  const served = types.filter((t) => t.group === group && t.version === version);
  if (served.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const type of served) {
    resources.push({
      name: type.resource,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: [...type.verbs],
      ...(type.shortNames.length > 0 ? { shortNames: [...type.shortNames] } : {}),
      ...(type.categories.length > 0 ? { categories: [...type.categories] } : {}),
    });
    if (type.statusSubresource) {
      resources.push({ name: `${type.resource}/status`, singularName: '', namespaced: type.namespaced, kind: type.kind, verbs: subresourceVerbs });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: formatApiVersion(group, version), resources };
}
