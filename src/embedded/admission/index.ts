/**
 * The embedded control plane's admission chain: it calls MutatingWebhookConfigurations, then
 * ValidatingWebhookConfigurations, as kube-apiserver does with admission.k8s.io/v1.
 *
 * Modelled: rules (operations, apiGroups, apiVersions, resources with `*`, `*\/*` and `res/sub`,
 * scope), namespaceSelector (a Namespace's own labels on its CREATE/UPDATE; 404 when the namespace
 * is missing), objectSelector (object or oldObject), failurePolicy (Fail → 500 InternalError
 * `failed calling webhook "<name>": …`; Ignore → logged and skipped), timeoutSeconds (1–30, default
 * 10, also sent as `?timeout=Ns`), sideEffects on dry runs (Unknown/Some → 400 BadRequest "does not
 * support dry run"), the response checks (envelope, uid, patchType, no patch from validating
 * webhooks), JSONPatch application in order, reinvocationPolicy IfNeeded (one extra round), denials
 * with the webhook's Status (code below 400 → 400), warnings, and the exemption of webhook and
 * admission-policy configuration objects. Only `clientConfig.caBundle` is trusted (the system roots
 * when it is absent).
 *
 * Not modelled: CEL matchConditions (only the literals `true`/`false` are evaluated; any other
 * expression counts as true and is warned about once per webhook and condition); matchPolicy
 * Equivalent (read as Exact: nothing is converted between versions, so requestKind equals kind);
 * v1beta1 AdmissionReview (a webhook without "v1" in admissionReviewVersions is a call failure);
 * `clientConfig.service` without a `serviceResolver` (there is no cluster DNS: such a webhook is
 * unreachable and its failurePolicy decides); auditAnnotations (ignored); in-tree admission plugins.
 * Validating webhooks run concurrently; the first failure in webhook order is reported.
 */
export { createAdmissionChain, type AdmissionChainOptions, type EmbeddedAdmissionChain } from './chain.js';
export type { ServiceResolver } from './webhook-client.js';
