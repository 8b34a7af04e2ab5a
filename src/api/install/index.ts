/** The install objects of autostash (pure): values, RBAC, workload, webhooks, dashboard, chart files. */
export { DEFAULT_VALUES, InstallValuesSchema, JOB_ROLES, mergeValues, parseSetArgument, resolveValues, valuesJsonSchema, type InstallValues, type JobRole } from './values.js';
export { installObjects, jobNamespaces, renderInstallYaml, type InstallInput } from './objects.js';
export { renderChartFiles } from './chart-files.js';
export { JOB_ROLE_RULES, WILDCARD_EXCEPTIONS, jobClusterRoleName, type PolicyRule } from './rbac.js';
export { JOB_SERVICE_ACCOUNT_FLAGS, serveArgs } from './controller-workload.js';
