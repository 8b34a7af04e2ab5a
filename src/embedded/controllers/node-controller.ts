import { arch, cpus, hostname, platform, release, totalmem, type } from 'node:os';
import type { KubeObject } from '../../domain/kube-object.js';
import type { EmbeddedApi } from '../api-types.js';
import { errorMessage, getIfExists, retryOnConflict } from './api-errors.js';
import type { ControllerLogger } from './logger.js';
import { LEASES, NODES } from './resources.js';

export const DEFAULT_NODE_NAME = 'autostash-node';
const LEASE_NAMESPACE = 'kube-node-lease';
const LEASE_DURATION_SECONDS = 40;

export interface NodeControllerOptions {
  api: EmbeddedApi;
  logger: ControllerLogger;
  nodeName: string;
  now: () => Date;
  /** Interval between heartbeats (Node status and Lease renewal). Default 40 s. */
  heartbeatMs?: number;
}

const kubeArch = (): string => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' })[arch()] ?? arch();

function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
function formatMicroTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The Node this machine presents: Ready, with its CPUs and memory as capacity. */
export function nodeObject(name: string, now: Date, previous: KubeObject | undefined): KubeObject {
  const resources = { cpu: String(cpus().length || 1), memory: `${Math.floor(totalmem() / 1024)}Ki`, pods: '110', 'ephemeral-storage': '0' };
  const previousConditions = ((previous?.status as { conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }> } | undefined)?.conditions ?? []);
  const condition = (conditionType: string, status: 'True' | 'False', reason: string, message: string) => {
    const before = previousConditions.find((candidate) => candidate.type === conditionType);
    const transition = before && before.status === status && before.lastTransitionTime ? before.lastTransitionTime : formatTime(now);
    return { type: conditionType, status, reason, message, lastHeartbeatTime: formatTime(now), lastTransitionTime: transition };
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      ...(previous?.metadata ?? {}),
      name,
      labels: {
        ...(previous?.metadata?.labels ?? {}),
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': platform() === 'win32' ? 'windows' : platform(),
        'kubernetes.io/arch': kubeArch(),
        'beta.kubernetes.io/os': platform(),
        'beta.kubernetes.io/arch': kubeArch(),
        'node-role.kubernetes.io/control-plane': '',
      },
    },
    spec: { ...((previous?.spec as object | undefined) ?? {}) },
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'the embedded node has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'the embedded node has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'the embedded node has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'the autostash embedded control plane runs jobs on this machine'),
      ],
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: hostname() },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: release(),
        osImage: `${type()} ${release()}`,
        containerRuntimeVersion: 'autostash://local-process',
        kubeletVersion: 'v1.32.0-autostash',
        kubeProxyVersion: 'v1.32.0-autostash',
        operatingSystem: platform() === 'win32' ? 'windows' : platform(),
        architecture: kubeArch(),
      },
    },
  };
}

/**
 * Keeps one Node object (Ready, capacity from this machine) and its Lease in kube-node-lease,
 * refreshing the heartbeat times periodically, as a kubelet would.
 */
export function startNodeController(options: NodeControllerOptions): { ready: Promise<void>; stop(): Promise<void> } {
  const { api, logger, nodeName } = options;
  let current: Promise<void> = Promise.resolve();

  const heartbeatNode = async (): Promise<void> => {
    await retryOnConflict(async () => {
      const existing = await getIfExists(api, NODES, undefined, nodeName);
      const desired = nodeObject(nodeName, options.now(), existing);
      if (!existing) {
        const created = await api.create(NODES, undefined, { ...desired, status: undefined });
        await api.updateStatus(NODES, undefined, { ...created, status: desired.status });
        return;
      }
      const labels = existing.metadata?.labels ?? {};
      const labelsCurrent = Object.entries(desired.metadata?.labels ?? {}).every(([key, value]) => labels[key] === value);
      const base = labelsCurrent ? existing : await api.update(NODES, undefined, { ...existing, metadata: { ...existing.metadata, labels: desired.metadata?.labels } });
      await api.updateStatus(NODES, undefined, { ...base, status: desired.status });
    });
  };

  const heartbeatLease = async (): Promise<void> => {
    await retryOnConflict(async () => {
      const existing = await getIfExists(api, LEASES, LEASE_NAMESPACE, nodeName);
      const spec = { holderIdentity: nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: formatMicroTime(options.now()) };
      if (!existing) {
        const node = await getIfExists(api, NODES, undefined, nodeName);
        const ownerReferences = node?.metadata?.uid ? [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata.uid }] : undefined;
        await api.create(LEASES, LEASE_NAMESPACE, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: nodeName, namespace: LEASE_NAMESPACE, ...(ownerReferences ? { ownerReferences } : {}) }, spec });
        return;
      }
      await api.update(LEASES, LEASE_NAMESPACE, { ...existing, spec: { ...((existing.spec as object | undefined) ?? {}), ...spec } });
    });
  };

  const heartbeat = (): Promise<void> => {
    current = current
      .then(heartbeatNode)
      .then(heartbeatLease)
      .catch((error: unknown) => logger.warn({ node: nodeName, err: errorMessage(error) }, 'node heartbeat failed'));
    return current;
  };

  const ready = heartbeat();
  const timer = setInterval(() => void heartbeat(), options.heartbeatMs ?? 40_000);
  timer.unref();
  return {
    ready,
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
