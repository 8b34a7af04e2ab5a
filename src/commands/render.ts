import { stringify } from 'yaml';
import { CORE_GROUP } from '../api/kinds.js';
import { AUTO_BACKUP_TARGET_KINDS, isAutoBackupTargetKind } from '../domain/auto-backup/expand.js';
import {
  BLUEPRINT_NAME_ANNOTATION,
  BLUEPRINT_NAMESPACE_ANNOTATION,
  variableAnnotation,
} from '../domain/auto-backup/annotations.js';
import { previewAutoBackup } from '../domain/auto-backup/preview.js';
import { formatFieldError } from '../domain/errors.js';
import { cloneJson } from '../domain/json-access.js';
import { groupKindKey, type KubeObject } from '../domain/kube-object.js';
import { kubeStashRules } from '../domain/kubestash-rules.js';
import { createMemoryView } from '../domain/memory-view.js';
import { parseDocuments } from '../validate/parse-documents.js';
import { InputError, readInputs } from '../validate/read-inputs.js';

export interface RenderOptions {
  /** File with exactly one BackupBlueprint; its other objects (BackupStorage, …) act as the cluster. `-` for stdin. */
  blueprint: string;
  /** File with the Deployment, StatefulSet, DaemonSet or PersistentVolumeClaim to back up. */
  target: string;
  /** `var=value` pairs that set `variables.kubestash.com/<var>` on the target. */
  set?: readonly string[];
  /** File with the target's Namespace object (its labels decide a `from: Selector` usage policy). */
  namespaceFile?: string;
}

export interface RenderStreams {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Bad input the command cannot work with (exit 2). */
class UsageProblem extends Error {}

const DEFAULT_NAMESPACE = 'default';

/**
 * `autostash render`: prints, as YAML, the BackupConfiguration auto backup would generate for each
 * target (documents separated by `---`), exactly as admission and the controller decide it
 * (previewAutoBackup). Targets: the annotated objects of a supported kind in --target, or, when none
 * is annotated, every object of a supported kind, which is then pointed at the given blueprint.
 * Objects without a namespace are taken to be in `default`, as kubectl does.
 * Errors go to stderr, one `<path>: <reason>` per line (prefixed with the target when there are
 * several), warnings as `Warning: …`. Returns 0 when every target rendered, 1 when any is invalid,
 * 2 when the input cannot be read or holds no blueprint or no target.
 */
export async function runRender(options: RenderOptions, streams: RenderStreams): Promise<0 | 1 | 2> {
  try {
    return await render(options, streams);
  } catch (error) {
    if (error instanceof InputError || error instanceof UsageProblem) {
      streams.stderr.write(`autostash render: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

async function render(options: RenderOptions, streams: RenderStreams): Promise<0 | 1 | 2> {
  const variables = parseSetFlags(options.set ?? []);
  const blueprintFile = await readObjects(options.blueprint, streams.stdin);
  const targetFile = await readObjects(options.target, streams.stdin);
  const namespaceFile = options.namespaceFile === undefined ? [] : await readObjects(options.namespaceFile, streams.stdin);

  const blueprints = blueprintFile.filter((object) => object.kind === 'BackupBlueprint');
  if (blueprints.length !== 1) {
    throw new UsageProblem(`${options.blueprint}: expected exactly one BackupBlueprint, found ${blueprints.length}`);
  }
  const blueprint = withNamespace(blueprints[0] as KubeObject);
  const blueprintName = `BackupBlueprint ${blueprint.metadata?.namespace ?? ''}/${blueprint.metadata?.name ?? ''}`;

  const candidates = targetFile.filter(isAutoBackupTargetKind);
  const annotated = candidates.filter((object) => hasBlueprintAnnotations(object));
  const targets = (annotated.length > 0 ? annotated : candidates).map((object) => prepareTarget(object, blueprint, variables));
  if (targets.length === 0) {
    const supported = [...AUTO_BACKUP_TARGET_KINDS.keys()].map((key) => key.slice(key.indexOf('/') + 1)).join(', ');
    throw new UsageProblem(`${options.target}: no object of a kind auto backup supports (${supported})`);
  }

  // The blueprint as the cluster would store it: schema and webhook defaults, and its own validation.
  const blueprintRules = kubeStashRules.get(groupKindKey({ group: CORE_GROUP, kind: 'BackupBlueprint' }));
  const context = [...blueprintFile.filter((object) => object !== blueprints[0]), ...namespaceFile, ...targetFile];
  let storedBlueprint = blueprint;
  if (blueprintRules !== undefined) {
    const contextView = createMemoryView(context);
    storedBlueprint = blueprintRules.applyDefaults(blueprint, contextView);
    const verdict = blueprintRules.validate({ operation: 'CREATE', object: storedBlueprint, view: contextView });
    for (const warning of verdict.warnings) streams.stderr.write(`Warning: ${blueprintName}: ${warning}\n`);
    if (verdict.errors.length > 0) {
      for (const error of verdict.errors) streams.stderr.write(`${blueprintName}: ${formatFieldError(error)}\n`);
      return 1;
    }
  }
  const view = createMemoryView([...context, storedBlueprint]);

  const rendered: string[] = [];
  let failed = false;
  for (const target of targets) {
    const prefix = targets.length > 1 ? `${target.kind ?? ''} ${target.metadata?.namespace ?? ''}/${target.metadata?.name ?? ''}: ` : '';
    const preview = previewAutoBackup(target, view);
    if (preview.status === 'none') continue; // unreachable: prepareTarget sets the annotations
    for (const warning of preview.warnings) streams.stderr.write(`Warning: ${prefix}${warning}\n`);
    if (preview.status === 'ready') {
      rendered.push(stringify(preview.configuration, { lineWidth: 0 }));
      continue;
    }
    failed = true;
    if (preview.status === 'blueprintNotFound') {
      streams.stderr.write(
        `${prefix}metadata.annotations[${BLUEPRINT_NAME_ANNOTATION}]: names BackupBlueprint ${preview.blueprint.namespace}/${preview.blueprint.name}, but ${options.blueprint} holds ${blueprintName}\n`,
      );
      continue;
    }
    for (const error of preview.errors) streams.stderr.write(`${prefix}${formatFieldError(error)}\n`);
  }
  streams.stdout.write(rendered.join('---\n'));
  return failed ? 1 : 0;
}

async function readObjects(path: string, stdin: NodeJS.ReadableStream): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  for (const input of await readInputs([path], stdin)) {
    const parsed = parseDocuments(input.text, input.source);
    const problem = parsed.errors[0];
    if (problem !== undefined) throw new UsageProblem(`${problem.source}:${problem.line}: ${problem.message}`);
    objects.push(...parsed.documents.map((document) => document.object));
  }
  return objects;
}

/** `--set var=value` → { var: value }; later flags win. */
function parseSetFlags(flags: readonly string[]): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const flag of flags) {
    const equals = flag.indexOf('=');
    if (equals <= 0) throw new UsageProblem(`--set ${flag}: expected <variable>=<value>, e.g. --set repoName=web-repo`);
    Object.defineProperty(variables, flag.slice(0, equals), { value: flag.slice(equals + 1), enumerable: true, writable: true, configurable: true });
  }
  return variables;
}

function hasBlueprintAnnotations(object: KubeObject): boolean {
  const annotations = object.metadata?.annotations;
  return annotations?.[BLUEPRINT_NAME_ANNOTATION] !== undefined || annotations?.[BLUEPRINT_NAMESPACE_ANNOTATION] !== undefined;
}

function withNamespace(object: KubeObject): KubeObject {
  if (object.metadata?.namespace) return object;
  const copy = cloneJson(object);
  copy.metadata = { ...copy.metadata, namespace: DEFAULT_NAMESPACE };
  return copy;
}

/** A copy in a namespace, pointed at `blueprint` when it names none, with the --set variables. */
function prepareTarget(object: KubeObject, blueprint: KubeObject, variables: Record<string, string>): KubeObject {
  const target = cloneJson(withNamespace(object));
  const metadata = (target.metadata ??= {});
  const annotations: Record<string, string> = { ...(metadata.annotations ?? {}) };
  if (!hasBlueprintAnnotations(target)) {
    annotations[BLUEPRINT_NAME_ANNOTATION] = blueprint.metadata?.name ?? '';
    annotations[BLUEPRINT_NAMESPACE_ANNOTATION] = blueprint.metadata?.namespace ?? '';
  }
  for (const [variable, value] of Object.entries(variables)) annotations[variableAnnotation(variable)] = value;
  metadata.annotations = annotations;
  return target;
}
