import t from 'tap';
import { executorSecurityContext, rootCapabilities } from '../../../src/domain/execution/job-security.js';
import type { JobComponent } from '../../../src/domain/execution/labels.js';

const hardened = { allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } };

t.test('root Jobs: every capability dropped, only the file capabilities of their work added back', async (t) => {
  const rows: Array<[JobComponent, string[]]> = [
    ['backup', ['DAC_OVERRIDE']],
    ['restore', ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID']],
    ['storage-initializer', ['DAC_OVERRIDE']],
    ['repository-initializer', ['DAC_OVERRIDE']],
    ['retention-policy', ['DAC_OVERRIDE']],
    ['cleaner', ['DAC_OVERRIDE']],
  ];
  t.same(Object.keys(rootCapabilities).sort(), rows.map(([component]) => component).sort(), 'one row per kind of Job');
  for (const [component, add] of rows) {
    t.same(executorSecurityContext(component, undefined, undefined), { ...hardened, capabilities: { drop: ['ALL'], add }, runAsUser: 0 }, `${component}: root said explicitly (the image runs as nobody)`);
    t.same(executorSecurityContext(component, { runAsUser: 0 }, undefined), { ...hardened, capabilities: { drop: ['ALL'], add } }, `${component} with runAsUser 0`);
  }
});

t.test('a non-zero runAsUser: runAsNonRoot and no capability at all; the user wins field by field', async (t) => {
  const nonRoot = { ...hardened, capabilities: { drop: ['ALL'] }, runAsNonRoot: true };
  const rows: Array<[what: string, pod: unknown, container: unknown, expected: Record<string, unknown>]> = [
    ['runAsUser on the pod (jobTemplate.template.spec.securityContext)', { runAsUser: 1000, fsGroup: 2000 }, undefined, nonRoot],
    ['runAsUser on the container (containerRuntimeSettings.securityContext)', undefined, { runAsUser: 1000 }, { ...nonRoot, runAsUser: 1000 }],
    ['the container runs as root although the pod does not', { runAsUser: 1000 }, { runAsUser: 0 }, { ...hardened, capabilities: { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID'] }, runAsUser: 0 }],
    ['the pod says runAsNonRoot itself', { runAsUser: 1000, runAsNonRoot: false }, undefined, { ...hardened, capabilities: { drop: ['ALL'] } }],
    ['a pod seccomp profile is kept', { seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } }, undefined, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID'] }, runAsUser: 0 }],
    ['privileged asked explicitly', undefined, { privileged: true }, { capabilities: { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID'] }, seccompProfile: { type: 'RuntimeDefault' }, privileged: true, runAsUser: 0 }],
    ['capabilities and escalation given', undefined, { capabilities: { add: ['SYS_ADMIN'] }, allowPrivilegeEscalation: true }, { allowPrivilegeEscalation: true, capabilities: { add: ['SYS_ADMIN'] }, seccompProfile: { type: 'RuntimeDefault' }, runAsUser: 0 }],
    ['garbage instead of contexts is ignored', 'x', [1], { ...hardened, capabilities: { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID'] }, runAsUser: 0 }],
    // runAsNonRoot with no uid runs as the image's user (nobody): capabilities would be dead weight, and root would be refused.
    ['runAsNonRoot on the pod, no uid', { runAsNonRoot: true }, undefined, { ...hardened, capabilities: { drop: ['ALL'] } }],
    ['runAsNonRoot on the container, no uid', undefined, { runAsNonRoot: true }, { ...nonRoot }],
    ['the container lifts the pod runAsNonRoot', { runAsNonRoot: true }, { runAsNonRoot: false }, { ...hardened, capabilities: { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID'] }, runAsUser: 0, runAsNonRoot: false }],
  ];
  for (const [what, pod, container, expected] of rows) t.same(executorSecurityContext('restore', pod, container), expected, what);
});
