/**
 * autostash's own kinds (group `policy.autostash.dev`). They share KindInfo with the KubeStash kinds so
 * CRD rendering, schema validation and installation treat them alike, but they live in their own list:
 * `kinds` stays exactly KubeStash's API (the parity test compares it with KubeStash's CRDs).
 */
import type { KindInfo, PrinterColumn } from '../kinds.js';
import { BackupPolicySchema } from './backup-policy.js';

export const POLICY_GROUP = 'policy.autostash.dev';
export const POLICY_VERSION = 'v1alpha1';

const col = (name: string, type: PrinterColumn['type'], jsonPath: string): PrinterColumn => ({ name, type, jsonPath });

/** Every autostash kind, in a stable order. */
export const autostashKinds: readonly KindInfo[] = [
  {
    group: POLICY_GROUP,
    version: POLICY_VERSION,
    kind: 'BackupPolicy',
    listKind: 'BackupPolicyList',
    plural: 'backuppolicies',
    singular: 'backuppolicy',
    // `bp` is too likely to clash with other operators' kinds.
    shortNames: ['bkp'],
    scope: 'Cluster',
    categories: ['autostash'],
    statusSubresource: true,
    printerColumns: [
      col('Require-Backup', 'string', '.spec.rules.requireBackup.action'),
      col('Violations', 'integer', '.status.violationCount'),
      col('Last-Audit', 'date', '.status.lastAuditTime'),
      col('Age', 'date', '.metadata.creationTimestamp'),
    ],
    schema: BackupPolicySchema,
  },
];

const byGroupKind = new Map(autostashKinds.map((info) => [`${info.group}/${info.kind}`, info]));

/** The autostash kind registered for `group` + `kind`, or undefined. */
export const autostashKindByGroupKind = (group: string, kind: string): KindInfo | undefined => byGroupKind.get(`${group}/${kind}`);

/** The autostash kind for `apiVersion` (`group/version`) + `kind`; undefined for other versions or kinds. */
export function autostashKindByApiVersion(apiVersion: string, kind: string): KindInfo | undefined {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return undefined;
  const info = byGroupKind.get(`${apiVersion.slice(0, slash)}/${kind}`);
  return info !== undefined && info.version === apiVersion.slice(slash + 1) ? info : undefined;
}
