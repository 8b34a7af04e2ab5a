import type { AdmissionEvent } from '../../server/app.js';
import { clusterViewOver } from '../../kube/informer-view.js';
import { untilAborted, type Controller } from '../manager.js';
import { startAutoBackupController, type AutoBackupController } from './auto-backup-controller.js';
import { targetRefOf } from './target-key.js';

export interface AutoBackupControllerHandle {
  /** The manager's controller definition. */
  controller: Controller;
  /**
   * For the webhook's onAdmitted: queues an admitted, non-dry-run workload so its configuration
   * appears without waiting for the watch. A no-op while this process does not lead.
   */
  handOver(event: AdmissionEvent): void;
}

/** The auto-backup controller as the manager runs it: one instance per leadership term. */
export function autoBackupController(options: { deleteWhenUnannotated?: boolean } = {}): AutoBackupControllerHandle {
  let current: AutoBackupController | undefined;
  return {
    controller: {
      name: 'auto-backup',
      async start(context) {
        const { view } = clusterViewOver(context.informers, context.client);
        const running = startAutoBackupController({
          client: context.client,
          informers: context.informers,
          view,
          events: context.recorder,
          logger: context.logger.child({ controller: 'auto-backup' }),
          ...(options.deleteWhenUnannotated === undefined ? {} : { deleteWhenUnannotated: options.deleteWhenUnannotated }),
        });
        current = running;
        await untilAborted(context.signal);
        if (current === running) current = undefined;
        await running.stop();
      },
    },
    handOver(event) {
      const { request, outcome, webhook } = event;
      if (webhook !== 'validate' || outcome.dryRun || !outcome.response.allowed || request.object === undefined) return;
      const object = request.object.metadata?.namespace || request.namespace === undefined
        ? request.object
        : { ...request.object, metadata: { ...request.object.metadata, namespace: request.namespace } };
      const ref = targetRefOf(object);
      if (ref !== undefined) current?.enqueue(ref);
    },
  };
}
