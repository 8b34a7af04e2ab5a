import type { KindRules } from '../kind-rules.js';
import { groupKindKey } from '../kube-object.js';
import { backupBatchRules } from './backup-batch.js';
import { backupBlueprintRules } from './backup-blueprint.js';
import { backupConfigurationRules } from './backup-configuration.js';
import { backupSessionRules } from './backup-session.js';
import { backupStorageRules } from './backup-storage.js';
import { backupVerificationSessionRules } from './backup-verification-session.js';
import { backupVerifierRules } from './backup-verifier.js';
import { permissiveRules } from './common.js';
import { hookTemplateRules } from './hook-template.js';
import { repositoryRules } from './repository.js';
import { restoreSessionRules } from './restore-session.js';
import { retentionPolicyRules } from './retention-policy.js';

const STORAGE = 'storage.kubestash.com';
const CORE = 'core.kubestash.com';
const ADDONS = 'addons.kubestash.com';

/**
 * KubeStash's webhook defaulting and validation per kind, keyed by groupKindKey({group, kind}).
 * Snapshot, Addon and Function have no KubeStash webhook: their rules change and reject nothing.
 */
export const kindRules: ReadonlyMap<string, KindRules> = new Map<string, KindRules>([
  [groupKindKey({ group: STORAGE, kind: 'BackupStorage' }), backupStorageRules],
  [groupKindKey({ group: STORAGE, kind: 'Repository' }), repositoryRules],
  [groupKindKey({ group: STORAGE, kind: 'RetentionPolicy' }), retentionPolicyRules],
  [groupKindKey({ group: STORAGE, kind: 'Snapshot' }), permissiveRules],
  [groupKindKey({ group: CORE, kind: 'BackupConfiguration' }), backupConfigurationRules],
  [groupKindKey({ group: CORE, kind: 'BackupBlueprint' }), backupBlueprintRules],
  [groupKindKey({ group: CORE, kind: 'BackupSession' }), backupSessionRules],
  [groupKindKey({ group: CORE, kind: 'RestoreSession' }), restoreSessionRules],
  [groupKindKey({ group: CORE, kind: 'HookTemplate' }), hookTemplateRules],
  [groupKindKey({ group: CORE, kind: 'BackupBatch' }), backupBatchRules],
  [groupKindKey({ group: CORE, kind: 'BackupVerifier' }), backupVerifierRules],
  [groupKindKey({ group: CORE, kind: 'BackupVerificationSession' }), backupVerificationSessionRules],
  [groupKindKey({ group: ADDONS, kind: 'Addon' }), permissiveRules],
  [groupKindKey({ group: ADDONS, kind: 'Function' }), permissiveRules],
]);
