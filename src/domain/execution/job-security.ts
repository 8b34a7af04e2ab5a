/**
 * The container securityContext of every executor Job (docs/executor.md, "Privileges"). Pure.
 *
 * Why these defaults: a backup must read files whatever their owner and mode, and a restore must write them
 * back with their owners and modes. As root that takes a few capabilities; as another user it takes
 * nothing but files that user can read (and, for a restore, own). So:
 * - always: no privilege escalation, seccomp RuntimeDefault, every capability dropped;
 * - when the Job runs as root (runAsUser 0, or none and no runAsNonRoot; root is then set explicitly, since the
 *   image's own USER is nobody): only the file capabilities its work needs are added back
 *   (all of them are in the container runtime's default set, so this is strictly less than an unhardened pod);
 * - when the jobTemplate or runtime settings give a non-zero runAsUser: runAsNonRoot and no capability at all
 *   (what the "restricted" Pod Security Standard asks).
 * Whatever the user sets in the container securityContext wins, field by field.
 */
import type { JobComponent } from './labels.js';

/** Capabilities added back for a Job that runs as root, per kind of Job. */
export const rootCapabilities: Readonly<Record<JobComponent, readonly string[]>> = Object.freeze({
  // Read every file and directory whatever its owner and mode; write the repository whatever owns the backend.
  backup: ['DAC_OVERRIDE'],
  // Write into directories owned by others, then give files their recorded owner, mode (setuid/setgid too) and times.
  restore: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID'],
  // These only write to the backend: the repository and metadata files, whatever owns the backend directory.
  'storage-initializer': ['DAC_OVERRIDE'],
  'repository-initializer': ['DAC_OVERRIDE'],
  'retention-policy': ['DAC_OVERRIDE'],
  cleaner: ['DAC_OVERRIDE'],
});

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The container securityContext for a Job of `component`, given the pod's securityContext and the container
 * securityContext the user asked for (either may be undefined). See the module comment for the rules.
 */
export function executorSecurityContext(component: JobComponent, podSecurityContext: unknown, given: unknown): Record<string, unknown> {
  const pod = isRecord(podSecurityContext) ? podSecurityContext : {};
  const container = isRecord(given) ? given : {};
  const runAsUser = container.runAsUser ?? pod.runAsUser;
  const nonRootAsked = container.runAsNonRoot === true || (container.runAsNonRoot === undefined && pod.runAsNonRoot === true);
  const asRoot = runAsUser === 0 || (runAsUser === undefined && !nonRootAsked);
  const defaults: Record<string, unknown> = {
    // The image's USER is 65534 (nobody): left unset, the Job would run as nobody, and a non-root process gets
    // no capability from the list below, so the backup could not read other users' files. Root is said here.
    ...(asRoot && runAsUser === undefined ? { runAsUser: 0 } : {}),
    // Kubernetes refuses allowPrivilegeEscalation: false next to privileged: true; an explicit privileged wins.
    ...(container.privileged === true ? {} : { allowPrivilegeEscalation: false }),
    capabilities: asRoot ? { drop: ['ALL'], add: [...rootCapabilities[component]] } : { drop: ['ALL'] },
    // A seccomp profile chosen for the pod is not overridden here.
    ...(pod.seccompProfile === undefined ? { seccompProfile: { type: 'RuntimeDefault' } } : {}),
    ...(asRoot || pod.runAsNonRoot !== undefined ? {} : { runAsNonRoot: true }),
  };
  return { ...defaults, ...container };
}
