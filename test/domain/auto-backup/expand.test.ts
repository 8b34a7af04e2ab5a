import t from 'tap';
import { readAutoBackupRequest, type AutoBackupRequest } from '../../../src/domain/auto-backup/annotations.js';
import { expandBlueprint, isAutoBackupTargetKind, targetProblems } from '../../../src/domain/auto-backup/expand.js';
import { AutoBackupErrorCodes } from '../../../src/domain/errors.js';
import type { KubeObject, NamespaceObject } from '../../../src/domain/kube-object.js';

const session = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  scheduler: { schedule: `\${schedule:=0 2 * * *}`, jobTemplate: { backoffLimit: 1 } },
  repositories: [{ name: `\${repoName}-${name}`, backend: 'b', directory: '${namespace}/${targetName}', encryptionSecret: { name: 'enc', namespace: 'tools' } }],
  addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup', params: { paths: '${paths:=/data}' } }] },
  ...extra,
});

function blueprintWith(options: { usagePolicy?: unknown; template?: Record<string, unknown> | null; labels?: Record<string, string> } = {}): KubeObject {
  const spec: Record<string, unknown> = { usagePolicy: options.usagePolicy ?? { allowedNamespaces: { from: 'All' } } };
  if (options.template !== null) {
    spec.backupConfigurationTemplate = options.template ?? {
      deletionPolicy: 'OnDelete',
      backends: [{ name: 'b', storageRef: { name: 's', namespace: 'tools' }, retentionPolicy: { name: 'r', namespace: 'tools' } }],
      sessions: [session('daily'), session('weekly')],
    };
  }
  return { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupBlueprint', metadata: { name: 'bp', namespace: 'demo', labels: options.labels }, spec };
}

const baseAnnotations = {
  'blueprint.kubestash.com/name': 'bp',
  'blueprint.kubestash.com/namespace': 'demo',
  'variables.kubestash.com/repoName': 'web',
  'variables.kubestash.com/namespace': 'demo',
  'variables.kubestash.com/targetName': 'web',
};

function target(options: { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string; annotations?: Record<string, string> } = {}): KubeObject {
  const metadata: Record<string, unknown> = { name: options.name ?? 'web', namespace: options.namespace ?? 'demo', annotations: options.annotations ?? baseAnnotations };
  if (options.uid !== undefined) metadata.uid = options.uid;
  return { apiVersion: options.apiVersion ?? 'apps/v1', kind: options.kind ?? 'Deployment', metadata, spec: {} };
}

function requestOf(object: KubeObject): AutoBackupRequest {
  const read = readAutoBackupRequest(object);
  if (read === undefined || !read.ok) throw new Error('test target must have valid annotations');
  return read.request;
}

const ns = (name: string, labels: Record<string, string> = {}): NamespaceObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

function expand(options: { blueprint?: KubeObject; target?: KubeObject; namespace?: NamespaceObject | undefined } = {}) {
  const object = options.target ?? target();
  return expandBlueprint({ blueprint: options.blueprint ?? blueprintWith(), target: object, targetNamespace: 'namespace' in options ? options.namespace : ns('demo'), request: requestOf(object) });
}

t.test('the generated configuration, field by field', async (t) => {
  const result = expand({ blueprint: blueprintWith({ labels: { team: 'ops', 'kubestash.com/invoker-name': 'spoofed' } }), target: target({ uid: 'uid-1' }) });
  t.ok(result.ok);
  if (!result.ok) return;
  t.same(result.warnings, []);
  t.same(result.configuration, {
    apiVersion: 'core.kubestash.com/v1alpha1',
    kind: 'BackupConfiguration',
    metadata: {
      name: 'deployment-web',
      namespace: 'demo',
      labels: { team: 'ops', 'kubestash.com/invoker-name': 'bp', 'app.kubernetes.io/managed-by': 'kubestash.com', 'kubestash.com/invoker-namespace': 'demo' },
      annotations: { 'autostash.dev/blueprint': 'demo/bp', 'autostash.dev/target-uid': 'uid-1', 'autostash.dev/blueprint-deletion-policy': 'OnDelete' },
    },
    spec: {
      target: { apiGroup: 'apps', kind: 'Deployment', name: 'web', namespace: 'demo' },
      backends: [{ name: 'b', storageRef: { name: 's', namespace: 'tools' }, retentionPolicy: { name: 'r', namespace: 'tools' } }],
      sessions: [
        {
          name: 'daily',
          scheduler: { schedule: '0 2 * * *', jobTemplate: { backoffLimit: 1 } },
          repositories: [{ name: 'web-daily', backend: 'b', directory: 'demo/web', encryptionSecret: { name: 'enc', namespace: 'tools' } }],
          addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup', params: { paths: '/data' } }] },
        },
        {
          name: 'weekly',
          scheduler: { schedule: '0 2 * * *', jobTemplate: { backoffLimit: 1 } },
          repositories: [{ name: 'web-weekly', backend: 'b', directory: 'demo/web', encryptionSecret: { name: 'enc', namespace: 'tools' } }],
          addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup', params: { paths: '/data' } }] },
        },
      ],
    },
  });
  t.notOk('deletionPolicy' in (result.configuration.spec as object), 'the template deletionPolicy is not copied');
  t.notOk('ownerReferences' in (result.configuration.metadata ?? {}), 'no ownerReferences');
});

t.test('each target kind: spec.target and the name', async (t) => {
  const rows: Array<[string, string, string, Record<string, unknown>]> = [
    ['apps/v1', 'Deployment', 'deployment-web', { apiGroup: 'apps', kind: 'Deployment', name: 'web', namespace: 'demo' }],
    ['apps/v1', 'StatefulSet', 'statefulset-web', { apiGroup: 'apps', kind: 'StatefulSet', name: 'web', namespace: 'demo' }],
    ['apps/v1', 'DaemonSet', 'daemonset-web', { apiGroup: 'apps', kind: 'DaemonSet', name: 'web', namespace: 'demo' }],
    ['v1', 'PersistentVolumeClaim', 'persistentvolumeclaim-web', { kind: 'PersistentVolumeClaim', name: 'web', namespace: 'demo' }],
  ];
  for (const [apiVersion, kind, name, reference] of rows) {
    const result = expand({ target: target({ apiVersion, kind }) });
    t.ok(result.ok, kind);
    if (!result.ok) continue;
    t.equal(result.configuration.metadata?.name, name, `${kind}: name`);
    t.same((result.configuration.spec as Record<string, unknown>).target, reference, `${kind}: spec.target (PVC without apiGroup)`);
    t.ok(isAutoBackupTargetKind(target({ apiVersion, kind })));
  }
});

t.test('unsupported targets', async (t) => {
  const rows: Array<[string, KubeObject, string[]]> = [
    ['a ConfigMap', target({ apiVersion: 'v1', kind: 'ConfigMap' }), ['kind']],
    ['a Deployment in the wrong group', target({ apiVersion: 'extensions/v1beta1', kind: 'Deployment' }), ['kind']],
    ['a PVC in the apps group', target({ apiVersion: 'apps/v1', kind: 'PersistentVolumeClaim' }), ['kind']],
    ['no apiVersion or kind', { metadata: { name: 'x', namespace: 'demo', annotations: baseAnnotations } }, ['kind']],
    ['no name yet (generateName)', target({ name: '' }), ['metadata.name']],
    ['no namespace', target({ namespace: '' }), ['metadata.namespace']],
  ];
  for (const [name, object, paths] of rows) {
    t.same(targetProblems(object).map((e) => e.path), paths, `${name}: targetProblems`);
    const result = expand({ target: object });
    t.equal(result.ok, false, name);
    if (result.ok) continue;
    t.same(result.errors.map((e) => [e.code, e.path]), paths.map((p) => [AutoBackupErrorCodes.TargetUnsupported, p]), name);
  }
  t.match(targetProblems(target({ apiVersion: 'v1', kind: 'ConfigMap' }))[0]?.message, /not v1 ConfigMap: remove the blueprint\.kubestash\.com annotations/);
});

t.test('cross-namespace: template.namespace sets the namespace, and the name gets the target namespace', async (t) => {
  const template = { namespace: 'backups', backends: [], sessions: [session('daily')] };
  const result = expand({ blueprint: blueprintWith({ template }) });
  t.ok(result.ok);
  if (!result.ok) return;
  t.equal(result.configuration.metadata?.namespace, 'backups');
  t.equal(result.configuration.metadata?.name, 'demo-deployment-web');
  t.same((result.configuration.spec as Record<string, unknown>).backends, []);
});

t.test('template.namespace may use a variable; without it the blueprint namespace is used', async (t) => {
  const viaVariable = expand({ blueprint: blueprintWith({ template: { namespace: '${namespace}', sessions: [session('daily')] } }) });
  t.ok(viaVariable.ok && viaVariable.configuration.metadata?.namespace === 'demo' && viaVariable.configuration.metadata?.name === 'deployment-web');
  const noBackends = expand({ blueprint: blueprintWith({ template: { sessions: [session('daily')] } }) });
  t.ok(noBackends.ok && noBackends.configuration.metadata?.namespace === 'demo' && noBackends.configuration.metadata.name === 'deployment-web');
  if (noBackends.ok) t.notOk('backends' in (noBackends.configuration.spec as object), 'no template backends: none written (the webhook defaults them)');
});

t.test('long names are shortened with the §2.1 algorithm', async (t) => {
  const long = `web-${'x'.repeat(70)}-green`;
  const same = expand({ target: target({ name: long }) });
  t.ok(same.ok);
  if (same.ok) t.equal(same.configuration.metadata?.name, `deployment-${long}`.slice(0, 32) + `deployment-${long}`.slice(-30));
  const cross = expand({ target: target({ name: long }), blueprint: blueprintWith({ template: { namespace: 'backups', sessions: [session('daily')] } }) });
  t.ok(cross.ok);
  if (cross.ok) t.equal(cross.configuration.metadata?.name, `demo-deployment-${long}`.slice(0, 32) + `demo-deployment-${long}`.slice(-31));
});

t.test('session filter', async (t) => {
  const withSessions = (value: string, key = 'blueprint.kubestash.com/session-names') => target({ annotations: { ...baseAnnotations, [key]: value } });
  const names = (object: KubeObject) => {
    const result = expand({ target: object });
    return result.ok ? ((result.configuration.spec as { sessions: Array<{ name: string }> }).sessions.map((s) => s.name)) : result.errors;
  };
  t.same(names(withSessions('weekly')), ['weekly'], 'a subset');
  t.same(names(withSessions('weekly,daily')), ['daily', 'weekly'], 'all, kept in the blueprint order');
  t.same(names(withSessions('daily', 'blueprint.kubestash.com/sessions')), ['daily'], 'the legacy key');
  const unknown = expand({ target: withSessions('daily,hourly,monthly') });
  t.equal(unknown.ok, false);
  if (!unknown.ok) {
    t.equal(unknown.errors.length, 1);
    t.match(unknown.errors[0], {
      code: AutoBackupErrorCodes.SessionUnknown,
      path: 'metadata.annotations[blueprint.kubestash.com/session-names]',
      message: /^BackupBlueprint demo\/bp has no session "hourly", "monthly"; its sessions are "daily", "weekly": list only those/,
    });
  }
  const legacyUnknown = expand({ target: withSessions('nope', 'blueprint.kubestash.com/sessions') });
  t.match(!legacyUnknown.ok && legacyUnknown.errors[0], { path: 'metadata.annotations[blueprint.kubestash.com/sessions]' });
  const none = expand({ target: withSessions('daily'), blueprint: blueprintWith({ template: { sessions: [] } }) });
  t.match(!none.ok && none.errors[0], { message: /it has no sessions/ });
});

t.test('only the selected sessions need their variables', async (t) => {
  const template = { sessions: [session('daily'), { name: 'special', scheduler: { schedule: '${specialSchedule}' } }] };
  const selected = expand({ blueprint: blueprintWith({ template }), target: target({ annotations: { ...baseAnnotations, 'blueprint.kubestash.com/session-names': 'daily' } }) });
  t.ok(selected.ok);
  const all = expand({ blueprint: blueprintWith({ template }) });
  t.match(!all.ok && all.errors, [{ path: 'metadata.annotations[variables.kubestash.com/specialSchedule]' }]);
});

t.test('session names may use variables', async (t) => {
  const template = { sessions: [{ ...session('x'), name: '${sessionName:=nightly}' }] };
  const result = expand({ blueprint: blueprintWith({ template }), target: target({ annotations: { ...baseAnnotations, 'blueprint.kubestash.com/session-names': 'nightly' } }) });
  t.ok(result.ok && (result.configuration.spec as { sessions: Array<{ name: string }> }).sessions[0]?.name === 'nightly');
});

t.test('missing variables: one error per variable, at its annotation, naming every use', async (t) => {
  const { 'variables.kubestash.com/repoName': _repo, ...withoutRepo } = baseAnnotations;
  const one = expand({ target: target({ annotations: withoutRepo }) });
  t.equal(one.ok, false);
  if (!one.ok) {
    t.same(one.errors.map((e) => [e.code, e.path]), [[AutoBackupErrorCodes.VariableMissing, 'metadata.annotations[variables.kubestash.com/repoName]']]);
    t.equal(
      one.errors[0]?.message,
      'BackupBlueprint demo/bp needs variable "repoName" (used in spec.backupConfigurationTemplate.sessions[0].repositories[0].name, spec.backupConfigurationTemplate.sessions[1].repositories[0].name) and gives it no default: add the annotation variables.kubestash.com/repoName to this object, or give it a default in the blueprint, e.g. ${repoName:=value}',
    );
  }
  const several = expand({ target: target({ annotations: { 'blueprint.kubestash.com/name': 'bp', 'blueprint.kubestash.com/namespace': 'demo' } }) });
  t.equal(several.ok, false);
  if (!several.ok) {
    t.same(
      several.errors.map((e) => e.path),
      ['repoName', 'namespace', 'targetName'].map((v) => `metadata.annotations[variables.kubestash.com/${v}]`),
      'every missing variable, in order of first use; defaulted ones (schedule, paths) are not missing',
    );
  }
});

t.test('an empty variable is set: it does not fall back to the default', async (t) => {
  const result = expand({ target: target({ annotations: { ...baseAnnotations, 'variables.kubestash.com/paths': '' } }) });
  t.ok(result.ok);
  if (result.ok) t.equal((result.configuration.spec as any).sessions[0].addon.tasks[0].params.paths, '');
});

t.test('template syntax errors are reported at the blueprint field', async (t) => {
  const template = { backends: [{ name: '${b,,}' }], sessions: [{ ...session('daily'), backupTimeout: '${t' }] };
  const result = expand({ blueprint: blueprintWith({ template }) });
  t.equal(result.ok, false);
  if (!result.ok) {
    t.same(
      result.errors.map((e) => [e.code, e.path]),
      [
        [AutoBackupErrorCodes.TemplateInvalid, 'BackupBlueprint demo/bp: spec.backupConfigurationTemplate.backends[0].name'],
        [AutoBackupErrorCodes.TemplateInvalid, 'BackupBlueprint demo/bp: spec.backupConfigurationTemplate.sessions[0].backupTimeout'],
      ],
    );
  }
  const namespaceError = expand({ blueprint: blueprintWith({ template: { namespace: '${ns', sessions: [] } }) });
  t.match(!namespaceError.ok && namespaceError.errors, [{ path: 'BackupBlueprint demo/bp: spec.backupConfigurationTemplate.namespace', message: /unterminated/ }]);
});

t.test('a blueprint without a template', async (t) => {
  const result = expand({ blueprint: blueprintWith({ template: null }) });
  t.match(!result.ok && result.errors, [{ code: AutoBackupErrorCodes.TemplateInvalid, path: 'BackupBlueprint demo/bp: spec.backupConfigurationTemplate', message: /has no backupConfigurationTemplate/ }]);
});

t.test('usage policy: one row per from value, allowed and denied', async (t) => {
  const selector = { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { backup: 'yes' } } } };
  const rows: Array<[string, unknown, NamespaceObject | undefined, boolean, RegExp?]> = [
    ['All allows any namespace', { allowedNamespaces: { from: 'All' } }, ns('demo'), true],
    ['Same allows the blueprint namespace', { allowedNamespaces: { from: 'Same' } }, ns('demo'), true],
    ['Same denies another namespace', { allowedNamespaces: { from: 'Same' } }, ns('shop'), false, /allows only its own namespace/],
    ['Selector allows a matching namespace', selector, ns('demo', { backup: 'yes' }), true],
    ['Selector denies a non-matching namespace', selector, ns('demo', { backup: 'no' }), false, /does not match/],
    ['from unset denies', { allowedNamespaces: {} }, ns('demo'), false, /from unset/],
  ];
  for (const [name, usagePolicy, namespace, allowed, reason] of rows) {
    const targetNs = namespace?.metadata.name ?? 'demo';
    const result = expand({ blueprint: blueprintWith({ usagePolicy }), target: target({ namespace: targetNs }), namespace });
    t.equal(result.ok, allowed, name);
    if (result.ok || allowed) continue;
    t.same(result.errors.map((e) => [e.code, e.path]), [[AutoBackupErrorCodes.NotAllowed, 'metadata.annotations[blueprint.kubestash.com/name]']], name);
    t.match(result.errors[0]?.message, reason, name);
    t.match(result.errors[0]?.message, new RegExp(`BackupBlueprint demo/bp .*namespace "${targetNs}" may not use it`), `${name}: names the blueprint and the namespace`);
  }
});

t.test('a Selector policy with an unknown Namespace warns and proceeds', async (t) => {
  const usagePolicy = { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { backup: 'yes' } } } };
  const result = expand({ blueprint: blueprintWith({ usagePolicy }), namespace: undefined });
  t.ok(result.ok);
  t.match(result.warnings, [/Namespace "demo" is unknown.*assuming it is allowed/]);
});

t.test('a denied policy and missing variables are reported together', async (t) => {
  const result = expand({ blueprint: blueprintWith({ usagePolicy: { allowedNamespaces: { from: 'Same' } } }), target: target({ namespace: 'shop', annotations: { 'blueprint.kubestash.com/name': 'bp', 'blueprint.kubestash.com/namespace': 'demo' } }), namespace: ns('shop') });
  t.same(!result.ok && result.errors.map((e) => e.code), [AutoBackupErrorCodes.NotAllowed, ...Array(3).fill(AutoBackupErrorCodes.VariableMissing)]);
});

t.test('inputs are never mutated', async (t) => {
  const blueprint = blueprintWith({ labels: { team: 'ops' } });
  const object = target({ uid: 'u' });
  const namespace = ns('demo');
  const request = requestOf(object);
  const before = structuredClone({ blueprint, object, namespace, request });
  const result = expandBlueprint({ blueprint, target: object, targetNamespace: namespace, request });
  t.ok(result.ok);
  t.same({ blueprint, object, namespace, request }, before);
  if (result.ok) {
    (result.configuration.metadata?.labels as Record<string, string>).team = 'changed';
    ((result.configuration.spec as any).backends[0] as Record<string, unknown>).name = 'changed';
    t.same(blueprint, before.blueprint, 'the result shares nothing with the blueprint');
  }
});
