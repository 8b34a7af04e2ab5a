import type { Registry } from 'prom-client';
import { evaluatePolicies } from '../../domain/policy/evaluate.js';
import { clusterViewOver } from '../../kube/informer-view.js';
import { untilAborted, type Controller } from '../manager.js';
import { createPolicyViolationMetrics } from './metrics.js';
import { startPolicyAuditController } from './policy-audit-controller.js';

export interface PolicyAuditOptions {
  /** Where `autostash_policy_violations` is registered (serve passes the webhook app's). Default: a registry of its own. */
  registry?: Registry;
  /** A full pass this often. Default 5 min. */
  intervalMs?: number;
  /** A change waits this long for others before its pass. Default 2 s. */
  debounceMs?: number;
  /** Violations listed per policy in status.objects. Default 20. */
  maxListed?: number;
}

/**
 * The policy audit as the manager runs it: one instance per leadership term. The gauge is
 * registered once (here) and emptied when a term ends, so only the leader reports violations.
 */
export function policyAuditController(options: PolicyAuditOptions = {}): Controller {
  const metrics = createPolicyViolationMetrics(options.registry);
  return {
    name: 'policy-audit',
    async start(context) {
      const { view } = clusterViewOver(context.informers, context.client);
      const running = startPolicyAuditController({
        client: context.client,
        informers: context.informers,
        view,
        evaluate: evaluatePolicies,
        events: context.recorder,
        metrics,
        logger: context.logger,
        ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
        ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
        ...(options.maxListed === undefined ? {} : { maxListed: options.maxListed }),
      });
      await untilAborted(context.signal);
      await running.stop();
      metrics.clear();
    },
  };
}
