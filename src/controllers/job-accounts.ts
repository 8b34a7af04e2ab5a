/**
 * Makes a Job's per-role ServiceAccount exist in the Job's namespace right before the Job is created
 * (decisions in src/domain/execution/job-account-provisioning.ts). Every controller that creates
 * backup, restore or maintenance Jobs calls {@link JobAccounts.ensure} first. Create-if-missing only:
 * an existing object is never changed, and one that is not autostash's is reported with an Event.
 */
import type { JobRole } from '../api/install/values.js';
import {
  accountOwner,
  jobRoleBindingObject,
  jobServiceAccountObject,
  missingKubedumpAccountMessage,
  planJobAccount,
  roleBindingGrants,
} from '../domain/execution/job-account-provisioning.js';
import type { KubeObject } from '../domain/kube-object.js';
import { isAlreadyExists, type KubeClient, type ObjectRef } from '../kube/client.js';
import type { EventRecorder } from './event-recorder.js';

const SERVICE_ACCOUNT = { apiVersion: 'v1', kind: 'ServiceAccount' };
const ROLE_BINDING = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' };

/** Whether the Job may be created now; when not, why (for the session's condition). */
export type JobAccountOutcome = { ready: true } | { ready: false; reason: string; message: string };

export interface JobAccounts {
  /**
   * Ensures the account `job` (of one of `roles`, in `namespace`) runs as, when it is one of the configured
   * per-role accounts. Events go to `about` (the session or object the Job serves). Resolves ready
   * unless a kubedump account is missing; API errors other than AlreadyExists reject (retry later).
   */
  ensure(job: KubeObject, roles: readonly JobRole[], namespace: string, about: KubeObject): Promise<JobAccountOutcome>;
  /** {@link ensure} for each of `jobs` in turn; the first that is not ready, else ready. */
  ensureEach(jobs: readonly KubeObject[], roles: readonly JobRole[], namespace: string, about: KubeObject): Promise<JobAccountOutcome>;
}

export interface JobAccountsOptions {
  client: KubeClient;
  recorder: EventRecorder;
  logger: { info(fields: object, message: string): void };
  /** The explicitly configured per-role accounts (configuredRoleAccounts); empty: never acts. */
  configured: Readonly<Partial<Record<JobRole, string>>>;
}

const READY: JobAccountOutcome = { ready: true };

/** Job accounts through `client`; with no configured account it makes no API call at all. */
export function createJobAccounts(options: JobAccountsOptions): JobAccounts {
  const { client, recorder, logger, configured } = options;
  client.registerResource(SERVICE_ACCOUNT, { plural: 'serviceaccounts', namespaced: true });
  client.registerResource(ROLE_BINDING, { plural: 'rolebindings', namespaced: true });

  /** The object of that name: the existing one, or the one just created (a racing creator's on 409). */
  async function findOrCreate(ref: ObjectRef, desired: KubeObject): Promise<{ object: KubeObject | undefined; created: boolean }> {
    const existing = await client.find(ref);
    if (existing !== undefined) return { object: existing, created: false };
    try {
      return { object: await client.create(desired), created: true };
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      return { object: await client.find(ref), created: false };
    }
  }

  const accounts: JobAccounts = {
    async ensureEach(jobs, roles, namespace, about) {
      for (const job of jobs) {
        const outcome = await accounts.ensure(job, roles, namespace, about);
        if (!outcome.ready) return outcome;
      }
      return READY;
    },
    async ensure(job, roles, namespace, about) {
      const jobAccount = (job.spec as { template?: { spec?: { serviceAccountName?: string } } } | undefined)?.template?.spec?.serviceAccountName;
      const plan = planJobAccount(roles, jobAccount, configured);
      if (plan.action === 'none') return READY;
      if (plan.action === 'require') {
        if ((await client.find({ ...SERVICE_ACCOUNT, namespace, name: plan.serviceAccount })) !== undefined) return READY;
        return { ready: false, reason: 'JobServiceAccountMissing', message: missingKubedumpAccountMessage(plan.role, namespace, plan.serviceAccount) };
      }
      const account = await findOrCreate({ ...SERVICE_ACCOUNT, namespace, name: plan.serviceAccount }, jobServiceAccountObject(namespace, plan));
      if (account.created) logger.info({ namespace, serviceAccount: plan.serviceAccount, role: plan.role }, 'job service account created');
      const accountOwnedBy = accountOwner(account.object);
      // The install binds its own accounts cluster-wide; nothing to add.
      if (accountOwnedBy === 'install') return READY;
      if (accountOwnedBy !== 'controller') {
        recorder.warning(
          about,
          'JobServiceAccountNotManaged',
          `ServiceAccount ${namespace}/${plan.serviceAccount} exists and is not managed by autostash: left unchanged and not bound to ${plan.clusterRole}; the Job runs as it with what it is granted`,
        );
        return READY;
      }
      const binding = await findOrCreate({ ...ROLE_BINDING, namespace, name: plan.roleBinding }, jobRoleBindingObject(namespace, plan));
      if (binding.created) {
        logger.info({ namespace, roleBinding: plan.roleBinding, clusterRole: plan.clusterRole, role: plan.role }, 'job role binding created');
        return READY;
      }
      if (accountOwner(binding.object) !== 'controller' || !roleBindingGrants(binding.object as KubeObject, namespace, plan)) {
        recorder.warning(
          about,
          'JobRoleBindingNotManaged',
          `RoleBinding ${namespace}/${plan.roleBinding} exists but is not autostash's binding of ${plan.clusterRole} to ServiceAccount ${plan.serviceAccount}: left unchanged; the Job may lack permissions`,
        );
      }
      return READY;
    },
  };
  return accounts;
}
