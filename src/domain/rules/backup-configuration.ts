import type { ClusterView } from '../cluster-view.js';
import { findDefaultBackupStorage, findDefaultRetentionPolicy } from '../default-lookup.js';
import { ErrorCodes, joinPath } from '../errors.js';
import type { KindRules, ValidationContext } from '../kind-rules.js';
import type { KubeObject } from '../kube-object.js';
import { asArray, asObject, asString, isNil, type JsonObject } from '../json-access.js';
import { addonPathErrors } from './safe-paths.js';
import {
  allowed,
  copyWithSpec,
  hookTemplateUsageChecks,
  namespaceOf,
  objectRef,
  referenceUsageChecks,
  sessionDurationChecks,
  specOf,
  VerdictBuilder,
} from './common.js';

type Ref = { name: string; namespace: string };

const refTo = (object: KubeObject): JsonObject => {
  const ref: JsonObject = { name: object.metadata?.name ?? '' };
  if (object.metadata?.namespace) ref.namespace = object.metadata.namespace;
  return ref;
};

/**
 * Webhook defaulting (SPEC §6.2): with no backends, one backend named "" pointing at the default
 * BackupStorage; then each backend without retentionPolicy gets the default RetentionPolicy, and the
 * loop stops at the first backend for which none is found (later backends stay as written).
 */
function applyDefaults(object: KubeObject, view: ClusterView): KubeObject {
  const { copy, spec } = copyWithSpec(object);
  const namespace = namespaceOf(object);
  if (asArray(spec.backends).length === 0) {
    const storage = findDefaultBackupStorage(view, namespace);
    if (storage) spec.backends = [{ storageRef: refTo(storage.object) }];
  }
  for (const raw of asArray(spec.backends)) {
    const backend = asObject(raw);
    if (backend === undefined || !isNil(backend.retentionPolicy)) continue;
    const policy = findDefaultRetentionPolicy(view, namespace);
    if (policy === undefined) break;
    backend.retentionPolicy = refTo(policy.object);
  }
  return copy;
}

/** GetTargetRef: spec.target, or the placeholder KubeStash uses for target-less (cluster) backups. */
function targetRefOf(spec: JsonObject): { apiGroup: string; kind: string; namespace: string; name: string } {
  const target = asObject(spec.target);
  if (target === undefined) return { apiGroup: 'na', kind: '', namespace: '', name: 'na' };
  return { apiGroup: asString(target.apiGroup), kind: asString(target.kind), namespace: asString(target.namespace), name: asString(target.name) };
}

/** GetStorageRef: the storageRef of the backend with exactly this name ("" matches a backend named ""). */
function storageRefOf(backends: unknown[], backendName: string): Ref | undefined {
  for (const raw of backends) {
    const backend = asObject(raw);
    if (asString(backend?.name) === backendName) return objectRef(backend?.storageRef);
  }
  return undefined;
}

const sameRef = (a: Ref | undefined, b: Ref | undefined): boolean =>
  a !== undefined && b !== undefined && a.name === b.name && a.namespace === b.namespace;

const describeRef = (ref: Ref | undefined): string => (ref === undefined ? 'none' : `${ref.namespace}/${ref.name}`);

interface RepoEntry {
  repo: JsonObject;
  path: string;
}

function validateBackends(spec: JsonObject, namespace: string, out: VerdictBuilder): boolean {
  const backends = asArray(spec.backends);
  if (backends.length === 0) {
    out.error(
      ErrorCodes.Required,
      'spec.backends',
      `backend can not be empty: no backend is given and no default BackupStorage usable from namespace "${namespace}" was found; add spec.backends[] with a storageRef and a retentionPolicy, or mark a BackupStorage default: true`,
    );
    return false;
  }
  let valid = true;
  const seen = new Set<string>();
  backends.forEach((raw, index) => {
    const name = asString(asObject(raw)?.name);
    if (seen.has(name)) {
      out.error(ErrorCodes.Duplicate, joinPath('spec', 'backends', index, 'name'), `duplicate backend name found: "${name}". Please choose a different backend name`);
      valid = false;
    }
    seen.add(name);
  });
  backends.forEach((raw, index) => {
    const backend = asObject(raw);
    const name = asString(backend?.name);
    if (isNil(backend?.retentionPolicy)) {
      out.error(
        ErrorCodes.Required,
        joinPath('spec', 'backends', index, 'retentionPolicy'),
        `no RetentionPolicy is found for backend "${name}": add retentionPolicy {name, namespace}, or mark a RetentionPolicy usable from namespace "${namespace}" default: true`,
      );
      valid = false;
    }
    if (isNil(backend?.storageRef)) {
      out.error(ErrorCodes.Required, joinPath('spec', 'backends', index, 'storageRef'), `no storage reference is found for backend "${name}": add storageRef {name, namespace} of a BackupStorage`);
      valid = false;
    }
  });
  return valid;
}

function validateSessions(spec: JsonObject, namespace: string, view: ClusterView, out: VerdictBuilder): void {
  const sessions = asArray(spec.sessions);
  const backends = asArray(spec.backends);
  if (sessions.length === 0) {
    out.error(ErrorCodes.Required, 'spec.sessions', 'sessions can not be empty: add at least one session with a scheduler, an addon and repositories');
    return;
  }
  const sessionNames = new Set<string>();
  sessions.forEach((raw, index) => {
    const name = asString(asObject(raw)?.name);
    const path = joinPath('spec', 'sessions', index, 'name');
    if (name === '') out.error(ErrorCodes.Required, path, 'session name can not be empty');
    else if (sessionNames.has(name)) out.error(ErrorCodes.Duplicate, path, `duplicate session name found: "${name}". Please choose a different session name`);
    sessionNames.add(name);
  });

  const target = targetRefOf(spec);
  const allRepos: RepoEntry[] = [];
  sessions.forEach((raw, sessionIndex) => {
    const session = asObject(raw) ?? {};
    const sessionName = asString(session.name);
    const base = joinPath('spec', 'sessions', sessionIndex);
    const repositories = asArray(session.repositories);

    const repoNames = new Set<string>();
    repositories.forEach((repoRaw, repoIndex) => {
      const name = asString(asObject(repoRaw)?.name);
      if (repoNames.has(name)) {
        out.error(ErrorCodes.Duplicate, joinPath(base, 'repositories', repoIndex, 'name'), `duplicate repository name found: "${name}". Please choose a different repository name`);
      }
      repoNames.add(name);
    });

    if (isNil(session.scheduler)) {
      out.error(ErrorCodes.Required, joinPath(base, 'scheduler'), `scheduler is empty for session "${sessionName}": add scheduler with a cron schedule and a jobTemplate`);
    }

    const addon = asObject(session.addon);
    if (addon === undefined) {
      out.error(ErrorCodes.Required, joinPath(base, 'addon'), `addon info is empty for session "${sessionName}": add addon with a name (e.g. workload-addon) and tasks`);
    } else if (asString(addon.name) === '') {
      out.error(ErrorCodes.Required, joinPath(base, 'addon', 'name'), `addon name is empty for session "${sessionName}". Please provide a valid addon name`);
    } else {
      const tasks = asArray(addon.tasks);
      if (tasks.length === 0) {
        out.error(ErrorCodes.Required, joinPath(base, 'addon', 'tasks'), `addon tasks are not provided for session "${sessionName}": add at least one task (e.g. logical-backup)`);
      }
      tasks.forEach((task, taskIndex) => {
        if (asString(asObject(task)?.name) === '') {
          out.error(ErrorCodes.Required, joinPath(base, 'addon', 'tasks', taskIndex, 'name'), `addon task name is empty for session "${sessionName}". Please provide valid task name`);
        }
      });
    }

    if (repositories.length === 0) {
      out.error(ErrorCodes.Required, joinPath(base, 'repositories'), `no repository found for session "${sessionName}". Please provide atleast one repository`);
    }
    repositories.forEach((repoRaw, repoIndex) => {
      const repo = asObject(repoRaw) ?? {};
      const repoPath = joinPath(base, 'repositories', repoIndex);
      const repoName = asString(repo.name);
      const backend = asString(repo.backend);
      allRepos.push({ repo, path: repoPath });
      if (backend !== '' && !backends.some((b) => asString(asObject(b)?.name) === backend)) {
        const known = backends.map((b) => `"${asString(asObject(b)?.name)}"`).join(', ');
        out.error(ErrorCodes.NotFound, joinPath(repoPath, 'backend'), `backend "${backend}" for repository "${repoName}" doesn't match with any of the given backends (${known})`);
      }
      if (asString(repo.directory) === '') {
        out.error(ErrorCodes.Required, joinPath(repoPath, 'directory'), `directory is not provided for repository "${repoName}": give the path inside the BackupStorage, e.g. <namespace>/<target name>`);
        return;
      }
      const existing = view.get('Repository', namespace, repoName);
      if (existing === undefined) return;
      const existingSpec = specOf(existing);
      const appRef = asObject(existingSpec.appRef);
      // The repository controller records a target's namespace defaulted to the configuration's, and no appRef
      // for a configuration without target (kubedump of a whole cluster): compare what they mean.
      const sameTarget =
        appRef === undefined
          ? spec.target === undefined
          : asString(appRef.apiGroup) === target.apiGroup &&
            asString(appRef.kind) === target.kind &&
            asString(appRef.namespace) === (spec.target === undefined ? target.namespace : target.namespace || namespace) &&
            asString(appRef.name) === target.name;
      if (!sameTarget) {
        out.error(
          ErrorCodes.Conflict,
          joinPath(repoPath, 'name'),
          `repository "${repoName}" already exists in the cluster with a different target reference (${appRef === undefined ? 'none' : `${asString(appRef.kind)} ${asString(appRef.namespace)}/${asString(appRef.name)}`}). Please, choose a different repository name`,
        );
        return;
      }
      const wanted = storageRefOf(backends, backend);
      const existingStorage = objectRef(existingSpec.storageRef);
      if (!sameRef(wanted, existingStorage)) {
        out.error(
          ErrorCodes.Conflict,
          joinPath(repoPath, 'name'),
          `repository "${repoName}" already exists in the cluster with a different storage reference (it uses ${describeRef(existingStorage)}, this backend ${describeRef(wanted)}). Please, choose a different repository name`,
        );
      }
    });
  });

  // Within the object: the map is rebuilt per directory with only the latest {backend: name}, as KubeStash does.
  const directoryOwner = new Map<string, { backend: string; name: string }>();
  for (const { repo, path } of allRepos) {
    const directory = asString(repo.directory);
    const backend = asString(repo.backend);
    const name = asString(repo.name);
    const owner = directoryOwner.get(directory);
    if (owner !== undefined && !(owner.backend === backend && owner.name === name)) {
      const who = owner.backend === backend ? `repository "${owner.name}"` : `repository "${owner.name}" of backend "${owner.backend}"`;
      out.error(
        ErrorCodes.Duplicate,
        joinPath(path, 'directory'),
        `${who} already using the directory "${directory}". Please, choose a different directory for repository "${name}"`,
      );
    }
    directoryOwner.set(directory, { backend, name });
  }

  // Across the cluster: any other Repository on the same storageRef (as written) with the same path.
  const existingRepositories = view.list('Repository');
  for (const { repo, path } of allRepos) {
    const name = asString(repo.name);
    const directory = asString(repo.directory);
    const wanted = storageRefOf(backends, asString(repo.backend));
    const clash = existingRepositories.find(
      (existing) =>
        !(existing.metadata?.name === name && namespaceOf(existing) === namespace) &&
        sameRef(wanted, objectRef(specOf(existing).storageRef)) &&
        asString(specOf(existing).path) === directory,
    );
    if (clash) {
      out.error(
        ErrorCodes.Conflict,
        joinPath(path, 'directory'),
        `repository "${namespaceOf(clash)}/${clash.metadata?.name ?? ''}" already exists in the cluster with the same directory. Please, choose a different directory for repository "${name}"`,
      );
    }
  }
}

function advisoryChecks(spec: JsonObject, namespace: string, view: ClusterView, out: VerdictBuilder): void {
  asArray(spec.backends).forEach((raw, index) => {
    const backend = asObject(raw);
    const storage = objectRef(backend?.storageRef);
    if (storage && view.get('BackupStorage', storage.namespace || namespace, storage.name) === undefined) {
      out.warn(joinPath('spec', 'backends', index, 'storageRef'), `BackupStorage ${storage.namespace || namespace}/${storage.name} does not exist (yet)`);
    }
    const policy = objectRef(backend?.retentionPolicy);
    if (policy && view.get('RetentionPolicy', policy.namespace || namespace, policy.name) === undefined) {
      out.warn(joinPath('spec', 'backends', index, 'retentionPolicy'), `RetentionPolicy ${policy.namespace || namespace}/${policy.name} does not exist (yet)`);
    }
  });
  asArray(spec.sessions).forEach((raw, sessionIndex) => {
    const session = asObject(raw) ?? {};
    const base = joinPath('spec', 'sessions', sessionIndex);
    asArray(session.repositories).forEach((repo, repoIndex) => {
      if (isNil(asObject(repo)?.encryptionSecret)) {
        out.warn(
          joinPath(base, 'repositories', repoIndex, 'encryptionSecret'),
          'not set: restic backups need a Secret with key RESTIC_PASSWORD to encrypt the repository (only VolumeSnapshot backups do without)',
        );
      }
    });
  });
}

function validate(context: ValidationContext) {
  if (context.operation !== 'CREATE' && context.operation !== 'UPDATE') return allowed();
  const { object, view } = context;
  const spec = specOf(object);
  const namespace = namespaceOf(object);
  const out = new VerdictBuilder();

  const backendsValid = validateBackends(spec, namespace, out);
  validateSessions(spec, namespace, view, out);
  if (backendsValid) {
    asArray(spec.backends).forEach((raw, index) => {
      const backend = asObject(raw);
      const storage = objectRef(backend?.storageRef);
      const policy = objectRef(backend?.retentionPolicy);
      const base = joinPath('spec', 'backends', index);
      if (storage) referenceUsageChecks(view, 'BackupStorage', { name: storage.name, namespace: storage.namespace || namespace }, namespace, joinPath(base, 'storageRef'), out, false);
      if (policy) referenceUsageChecks(view, 'RetentionPolicy', { name: policy.name, namespace: policy.namespace || namespace }, namespace, joinPath(base, 'retentionPolicy'), out, false);
    });
  }
  asArray(spec.sessions).forEach((raw, index) => {
    sessionDurationChecks(asObject(raw) ?? {}, joinPath('spec', 'sessions', index), out);
    out.add(addonPathErrors(asObject(raw)?.addon, joinPath('spec', 'sessions', index, 'addon')));
    const hooks = asObject(asObject(raw)?.hooks);
    for (const list of ['preBackup', 'postBackup']) {
      hookTemplateUsageChecks(view, asArray(hooks?.[list]), namespace, joinPath('spec', 'sessions', index, 'hooks', list), out);
    }
  });
  advisoryChecks(spec, namespace, view, out);
  return out.verdict();
}

export const backupConfigurationRules: KindRules = { applyDefaults, validate };
