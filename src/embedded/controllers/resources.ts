import type { GroupVersionResource } from '../api-types.js';

/** The built-in resources the emulated controllers read and write. */
export const NAMESPACES: GroupVersionResource = { group: '', version: 'v1', resource: 'namespaces' };
export const NODES: GroupVersionResource = { group: '', version: 'v1', resource: 'nodes' };
export const PODS: GroupVersionResource = { group: '', version: 'v1', resource: 'pods' };
export const SECRETS: GroupVersionResource = { group: '', version: 'v1', resource: 'secrets' };
export const CONFIG_MAPS: GroupVersionResource = { group: '', version: 'v1', resource: 'configmaps' };
export const PERSISTENT_VOLUMES: GroupVersionResource = { group: '', version: 'v1', resource: 'persistentvolumes' };
export const PERSISTENT_VOLUME_CLAIMS: GroupVersionResource = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
export const JOBS: GroupVersionResource = { group: 'batch', version: 'v1', resource: 'jobs' };
export const STATEFUL_SETS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'statefulsets' };
export const LEASES: GroupVersionResource = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };
