import { previewAutoBackup } from '../auto-backup/preview.js';
import { AUTO_BACKUP_TARGET_KINDS } from '../auto-backup/expand.js';
import type { Verdict } from '../errors.js';
import type { KindRules, ValidationContext } from '../kind-rules.js';
import { kubeStashRules } from '../kubestash-rules.js';

/**
 * Admission for workloads and PVCs that may ask for auto backup (SPEC §7): nothing is defaulted;
 * validation previews the BackupConfiguration the annotations would generate and denies when it
 * cannot be generated or would be invalid, naming the blueprint, the variable and the annotation to
 * fix. A blueprint not known yet only warns: the controller creates the configuration once it
 * appears. Objects without the annotations pass after one lookup.
 */
export const autoBackupTargetRules: KindRules = {
  applyDefaults: (object) => object,
  validate(context: ValidationContext): Verdict {
    if (context.operation !== 'CREATE' && context.operation !== 'UPDATE') return { errors: [], warnings: [] };
    const metadata = context.object.metadata;
    if (typeof metadata?.name !== 'string' || metadata.name === '') {
      // generateName is resolved after admission on some paths: the controller takes over once the name exists.
      return { errors: [], warnings: [] };
    }
    const preview = previewAutoBackup(context.object, context.view, kubeStashRules);
    switch (preview.status) {
      case 'none':
        return { errors: [], warnings: [] };
      case 'blueprintNotFound':
        return { errors: [], warnings: [...preview.warnings, preview.message] };
      case 'invalid':
        return { errors: preview.errors, warnings: preview.warnings };
      case 'ready':
        return { errors: [], warnings: preview.warnings };
    }
  },
};

/** Rules per `group/Kind` of every kind auto backup can target. */
export const autoBackupTargetKindRules: ReadonlyMap<string, KindRules> = new Map(
  [...AUTO_BACKUP_TARGET_KINDS.keys()].map((key) => [key, autoBackupTargetRules] as const),
);
