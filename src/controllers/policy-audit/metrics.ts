import { Gauge, Registry } from 'prom-client';

export const POLICY_VIOLATIONS_METRIC = 'autostash_policy_violations';

type Labels = 'policy' | 'rule' | 'action';

/** The audit's gauge; one per registry (create it once, outside leadership terms). */
export interface PolicyViolationMetrics {
  readonly registry: Registry;
  /**
   * Replaces the values of the policies in `counts` with the given ones: a label set counted
   * before but not now drops to 0; policies not in `counts` lose all their label sets (deleted).
   */
  publish(counts: ReadonlyMap<string, ReadonlyArray<{ rule: string; action: string; count: number }>>): void;
  /** Drops every label set (on stepping down: only the leader reports). */
  clear(): void;
}

const keyOf = (labels: Record<Labels, string>): string => `${labels.policy}\0${labels.rule}\0${labels.action}`;

/** Registers `autostash_policy_violations{policy, rule, action}` on `registry` (a new one by default). */
export function createPolicyViolationMetrics(registry: Registry = new Registry()): PolicyViolationMetrics {
  const gauge = new Gauge<Labels>({
    name: POLICY_VIOLATIONS_METRIC,
    help: 'Violations of each BackupPolicy rule by objects that exist, by policy, rule and action (from the last audit).',
    labelNames: ['policy', 'rule', 'action'] as const,
    registers: [registry],
  });
  const known = new Map<string, Record<Labels, string>>();
  return {
    registry,
    publish(counts) {
      const seen = new Set<string>();
      for (const [policy, entries] of counts) {
        for (const { rule, action, count } of entries) {
          const labels = { policy, rule, action };
          const key = keyOf(labels);
          seen.add(key);
          known.set(key, labels);
          gauge.set(labels, count);
        }
      }
      for (const [key, labels] of [...known]) {
        if (seen.has(key)) continue;
        if (counts.has(labels.policy)) {
          gauge.set(labels, 0);
        } else {
          gauge.remove(labels);
          known.delete(key);
        }
      }
    },
    clear() {
      gauge.reset();
      known.clear();
    },
  };
}
