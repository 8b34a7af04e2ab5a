/**
 * The install values: one TypeBox schema that is both the chart's values.schema.json and what
 * `autostash manifests` validates `--values`/`--set` against, plus the defaults (the chart's values.yaml).
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { parseLeaseTiming } from '../../domain/duration.js';
import { ErrorCodes, fieldError, type FieldError } from '../../domain/errors.js';
import { AUTOSTASH_VERSION } from '../../version.js';

const GO_DURATION = '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$';
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

const strict = <T extends TProperties>(properties: T, description: string) => Type.Object(properties, { additionalProperties: false, description });
const goDuration = (description: string) => Type.String({ pattern: GO_DURATION, description });
const accountName = (description: string) => Type.String({ pattern: DNS_SUBDOMAIN, maxLength: 253, description });
/** Kubernetes objects passed through untouched (resources, affinity, tolerations): kube validates them on apply. */
const freeObject = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });

export const CERTIFICATE_SOURCES = ['self-managed', 'cert-manager', 'secret'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
/** The Job roles that get a ServiceAccount of their own (contract: controller.jobServiceAccounts). */
export const JOB_ROLES = ['backup', 'restore', 'kubedumpBackup', 'kubedumpRestore', 'maintenance'] as const;
export type JobRole = (typeof JOB_ROLES)[number];

const literalUnion = <const V extends readonly string[]>(values: V, description: string) =>
  Type.Unsafe<V[number]>(Type.Union(values.map((value) => Type.Literal(value)), { description }));

/** The values schema (draft-07 JSON schema once serialised; TypeBox symbols are dropped). */
export const InstallValuesSchema = strict(
  {
    image: strict(
      {
        repository: Type.String({ pattern: '^\\S+$', description: 'Image of the controller, the webhook and every Job it starts.' }),
        tag: Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$', description: 'Image tag.' }),
        pullPolicy: literalUnion(PULL_POLICIES, 'imagePullPolicy of the Deployment and the Jobs.'),
      },
      'The autostash container image.',
    ),
    replicas: Type.Integer({ minimum: 1, maximum: 10, description: 'Replicas of the Deployment: every replica serves the webhook; one (the Lease holder) runs the controllers.' }),
    resources: freeObject('Container resources of the controller.'),
    nodeSelector: Type.Record(Type.String(), Type.String(), { description: 'nodeSelector of the controller pods.' }),
    tolerations: Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'Tolerations of the controller pods.' }),
    affinity: freeObject('Affinity of the controller pods; empty: prefer spreading replicas over nodes (hostname anti-affinity).'),
    terminationGracePeriodSeconds: Type.Integer({ minimum: 5, maximum: 600, description: 'Time to finish in-flight admissions and release the Lease on shutdown.' }),
    logLevel: literalUnion(LOG_LEVELS, 'Log level of the controller.'),
    certificates: strict(
      {
        source: literalUnion(CERTIFICATE_SOURCES, 'self-managed: the leader generates and rotates a CA and serving certificate in a Secret; cert-manager: a cert-manager Certificate and CA injection; secret: a Secret you provide.'),
        secretName: accountName('Secret holding ca.crt, tls.crt and tls.key.'),
        caLifetime: goDuration('Lifetime of the self-managed or cert-manager CA (Go duration).'),
        certLifetime: goDuration('Lifetime of the self-managed or cert-manager serving certificate (Go duration).'),
      },
      'Serving certificate of the webhook.',
    ),
    webhook: strict(
      {
        validateTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 30, description: 'timeoutSeconds of the validating webhooks.' }),
        mutateTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 30, description: 'timeoutSeconds of the mutating webhook.' }),
        matchConditions: Type.Boolean({ description: 'Send only workloads that ask for auto backup (or keep data a BackupPolicy may require backups for) to the workload webhook. Needs Kubernetes 1.28 or newer; set false on older clusters.' }),
        excludedNamespaces: Type.Array(Type.String({ pattern: DNS_LABEL }), { description: 'Namespaces no webhook is called for, besides the release namespace.' }),
      },
      'Admission webhook registration.',
    ),
    leaderElection: strict(
      {
        leaseDuration: goDuration('How long a Lease is valid without renewal.'),
        renewDeadline: goDuration('How long the leader keeps trying to renew before stepping down.'),
        retryPeriod: goDuration('How often candidates try to take the Lease.'),
      },
      'Leader election of the controllers (one Lease in the release namespace).',
    ),
    jobServiceAccounts: strict(
      {
        names: strict(
          {
            backup: accountName('ServiceAccount of backup Jobs.'),
            restore: accountName('ServiceAccount of restore Jobs.'),
            kubedumpBackup: accountName('ServiceAccount of kubedump (manifest) backup Jobs.'),
            kubedumpRestore: accountName('ServiceAccount of kubedump (manifest) restore Jobs.'),
            maintenance: accountName('ServiceAccount of retention, repository initialisation and wipe-out Jobs.'),
          },
          'ServiceAccount names per Job role.',
        ),
        namespaces: Type.Array(Type.String({ pattern: DNS_LABEL, maxLength: 63 }), { description: 'Namespaces (besides the release namespace) given the Job ServiceAccounts and RoleBindings at install. Backup, restore and maintenance accounts are also created on demand in any namespace; kubedump Jobs need theirs listed here.' }),
      },
      'ServiceAccounts of backup, restore, kubedump and maintenance Jobs (an addon jobTemplate.spec.serviceAccountName still wins).',
    ),
    metrics: strict(
      {
        dashboard: Type.Boolean({ description: 'Install the Grafana dashboard ConfigMap (label grafana_dashboard=1, picked up by the Grafana sidecar).' }),
      },
      'Metrics and the Grafana dashboard.',
    ),
  },
  'Values of the autostash chart and of `autostash manifests`.',
);

export type InstallValues = Static<typeof InstallValuesSchema>;

/** The defaults: the chart's values.yaml, and what `autostash manifests` starts from. */
export const DEFAULT_VALUES: InstallValues = {
  image: { repository: 'ghcr.io/autostash/autostash', tag: `v${AUTOSTASH_VERSION}`, pullPolicy: 'IfNotPresent' },
  replicas: 2,
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
  nodeSelector: {},
  tolerations: [],
  affinity: {},
  terminationGracePeriodSeconds: 30,
  logLevel: 'info',
  certificates: { source: 'self-managed', secretName: 'autostash-webhook-tls', caLifetime: '43800h', certLifetime: '8760h' },
  webhook: { validateTimeoutSeconds: 2, mutateTimeoutSeconds: 2, matchConditions: true, excludedNamespaces: ['kube-system'] },
  leaderElection: { leaseDuration: '15s', renewDeadline: '10s', retryPeriod: '2s' },
  jobServiceAccounts: {
    names: {
      backup: 'autostash-backup-job',
      restore: 'autostash-restore-job',
      kubedumpBackup: 'autostash-kubedump-backup-job',
      kubedumpRestore: 'autostash-kubedump-restore-job',
      maintenance: 'autostash-maintenance-job',
    },
    namespaces: [],
  },
  metrics: { dashboard: true },
};

/** The schema as plain JSON (values.schema.json): TypeBox's symbol-keyed bookkeeping is not enumerable, so JSON drops it. */
export function valuesJsonSchema(): Record<string, unknown> {
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...(JSON.parse(JSON.stringify(InstallValuesSchema)) as Record<string, unknown>) };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `overrides` laid over `base`, as Helm merges values files: objects merge key by key, anything
 * else (arrays, scalars, null) replaces. Neither argument is modified.
 */
export function mergeValues(base: unknown, overrides: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(overrides)) return structuredClone(overrides);
  const out: Record<string, unknown> = structuredClone(base);
  for (const [key, value] of Object.entries(overrides)) out[key] = key in out ? mergeValues(out[key], value) : structuredClone(value);
  return out;
}

/** `a.b[0].c` style path of an ajv instance path (`/a/b/0/c`). */
function pathOf(instancePath: string, extra?: string): string {
  const segments = instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) segments.push(extra);
  return segments.reduce((out, segment) => (/^\d+$/.test(segment) ? `${out}[${segment}]` : out === '' ? segment : `${out}.${segment}`), '');
}

function toFieldError(error: ErrorObject): FieldError {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return fieldError(ErrorCodes.UnknownField, pathOf(error.instancePath, String(params['additionalProperty'])), 'is not a known value (check the spelling against values.yaml)');
    case 'type':
      return fieldError(ErrorCodes.TypeInvalid, pathOf(error.instancePath), `must be ${String(params['type'])}`);
    default:
      return fieldError(ErrorCodes.Invalid, pathOf(error.instancePath), String(error.message));
  }
}

let compiled: ReturnType<Ajv['compile']> | undefined;

/**
 * The defaults with `overrides` merged in (each entry a parsed values file or `--set`, later ones
 * win), validated against the values schema. Errors name the value path, e.g. `webhook.mutateTimeoutSeconds`.
 * No value can go missing (the defaults set them all and a merge never removes a key), so the
 * schema's `required` never fires.
 */
export function resolveValues(overrides: readonly unknown[]): { values: InstallValues } | { errors: FieldError[] } {
  let merged: unknown = DEFAULT_VALUES;
  for (const [index, override] of overrides.entries()) {
    if (override === null || override === undefined) continue;
    if (!isPlainObject(override)) return { errors: [fieldError(ErrorCodes.TypeInvalid, '', `values source ${index + 1} must be a mapping of values`)] };
    merged = mergeValues(merged, override);
  }
  // Unions of literals (enum-like values) report one error per member; one message per path is enough.
  compiled ??= new Ajv({ allErrors: true, strict: false }).compile(valuesJsonSchema());
  if (compiled(merged)) {
    const values = merged as InstallValues;
    const ordering = leaderElectionErrors(values.leaderElection);
    return ordering.length === 0 ? { values } : { errors: ordering };
  }
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  // ajv sets errors whenever validation fails.
  for (const error of compiled.errors!) {
    if (error.keyword === 'const') continue;
    const converted = error.keyword === 'anyOf' ? fieldError(ErrorCodes.NotSupported, pathOf(error.instancePath), `must be one of ${enumOptions(error.instancePath)}`) : toFieldError(error);
    const key = `${converted.path}\0${converted.message}`;
    if (!seen.has(key)) errors.push(converted);
    seen.add(key);
  }
  return { errors };
}

/**
 * The lease timings as serve checks them (src/domain/duration.ts parseLeaseTiming, and the order: a leader
 * must give up before a standby may take over, and retry within its deadline), which a schema cannot say:
 * without this check the objects print fine and every pod crash-loops on start.
 */
function leaderElectionErrors(timings: InstallValues['leaderElection']): FieldError[] {
  const errors: FieldError[] = [];
  const seconds = (name: keyof InstallValues['leaderElection']): number | undefined => {
    const parsed = parseLeaseTiming(timings[name]);
    if (parsed.ok) return parsed.value;
    errors.push(fieldError(ErrorCodes.Invalid, `leaderElection.${name}`, parsed.reason));
    return undefined;
  };
  const [lease, renew, retry] = [seconds('leaseDuration'), seconds('renewDeadline'), seconds('retryPeriod')];
  if (lease !== undefined && renew !== undefined && !(renew < lease)) {
    errors.push(fieldError(ErrorCodes.Invalid, 'leaderElection.renewDeadline', `must be shorter than leaderElection.leaseDuration (${timings.leaseDuration}): a leader must give up before a standby may take over`));
  }
  if (renew !== undefined && retry !== undefined && !(retry < renew)) {
    errors.push(fieldError(ErrorCodes.Invalid, 'leaderElection.retryPeriod', `must be shorter than leaderElection.renewDeadline (${timings.renewDeadline}): the leader retries within its deadline`));
  }
  return errors;
}

/** The allowed literals of the union at `instancePath` (for a readable "must be one of" message). */
function enumOptions(instancePath: string): string {
  // Only the literal unions report anyOf, and their paths exist in the schema (ajv found them there).
  let node = InstallValuesSchema as unknown as Record<string, unknown>;
  for (const segment of instancePath.split('/').slice(1)) node = (node['properties'] as Record<string, Record<string, unknown>>)[segment]!;
  return (node['anyOf'] as Array<{ const: string }>).map((member) => `"${member.const}"`).join(', ');
}

/**
 * One `--set key=value` as a values fragment: `a.b.c=v` → `{a: {b: {c: v}}}`. The value is read as
 * YAML would read a scalar (true/false, numbers, null, `[a, b]` lists) so `--set replicas=3` is a number.
 */
export function parseSetArgument(argument: string, parseScalar: (text: string) => unknown): { value: Record<string, unknown> } | { error: FieldError } {
  const equals = argument.indexOf('=');
  const key = equals < 0 ? '' : argument.slice(0, equals);
  if (equals < 0 || !/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/.test(key)) {
    return { error: fieldError(ErrorCodes.Invalid, '--set', `"${argument}" is not key=value with a dotted key such as image.tag=v1`) };
  }
  const value: Record<string, unknown> = {};
  let node = value;
  const segments = key.split('.');
  for (const segment of segments.slice(0, -1)) {
    const child: Record<string, unknown> = {};
    node[segment] = child;
    node = child;
  }
  node[segments[segments.length - 1]!] = parseScalar(argument.slice(equals + 1));
  return { value };
}
