import type { KindRules } from './kind-rules.js';
import { kubeStashRules } from './kubestash-rules.js';
import { autoBackupTargetKindRules } from './rules/auto-backup-target.js';

/** Everything the webhook admits, keyed by groupKindKey: the KubeStash kinds and auto-backup targets. */
export const admissionRules: ReadonlyMap<string, KindRules> = new Map([...kubeStashRules, ...autoBackupTargetKindRules]);
