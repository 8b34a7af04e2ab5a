/**
 * The name of a generated BackupConfiguration (SPEC §7.3, shortened per §2.1).
 * Why this algorithm: docs/decisions/0004-blueprint-variable-substitution.md ("Naming").
 */
import { DNS1123_LABEL_MAX_LENGTH, validNameWithPrefixNSuffix } from '../naming.js';

export interface NamedTarget {
  kind: string;
  name: string;
  namespace: string;
}

/**
 * `<lowercase kind>-<name>`, or `<target namespace>-<lowercase kind>-<name>` when the configuration
 * lives in another namespace than the target. Longer than 63 characters, the middle is dropped
 * (ValidNameWithPrefixNSuffix: first 32 and last 31 characters), so the target's distinguishing tail
 * survives. A two-part name that fits is never shortened.
 */
export function backupConfigurationName(target: NamedTarget, configurationNamespace: string): string {
  const kind = target.kind.toLowerCase();
  if (configurationNamespace !== target.namespace) return validNameWithPrefixNSuffix(target.namespace, kind, target.name);
  const joined = `${kind}-${target.name}`;
  if (joined.length <= DNS1123_LABEL_MAX_LENGTH) return joined;
  // An empty suffix makes the algorithm work on `<kind>-<name>-`; its trailing dash is trimmed away, so
  // the result is the first 32 and the last 30 characters of `<kind>-<name>` (62 in all).
  return validNameWithPrefixNSuffix(kind, target.name, '');
}
