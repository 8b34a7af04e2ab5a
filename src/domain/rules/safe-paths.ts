/**
 * Path parameters of addon tasks that must not lead out of the volumes a backup or restore Job mounts:
 * `paths` (what is backed up), `targetPath` (where a restore writes), `scratchDir` (where credentials go),
 * `include`/`exclude` (restic patterns). Pure: the webhook refuses such params up front, and the executor
 * runs the same checks again on the flags it is given (defence in depth, see src/executor/safe-paths.ts).
 */
import { paramValue } from '../execution/function-args.js';
import { ErrorCodes, fieldError, joinPath, type FieldError } from '../errors.js';
import { asArray, asObject } from '../json-access.js';

/** How a path param is read: one absolute path, a comma list of absolute paths, or a comma list of patterns. */
export type PathParamShape = 'absolutePath' | 'absolutePathList' | 'patternList';

/** The task params autostash's Functions turn into paths, and how each is read. */
export const pathParams: Readonly<Record<string, PathParamShape>> = Object.freeze({
  paths: 'absolutePathList',
  targetPath: 'absolutePath',
  scratchDir: 'absolutePath',
  include: 'patternList',
  exclude: 'patternList',
});

/** True when `path` has a `..` segment: a way out of the directory it is meant to stay in. */
export function hasParentSegment(path: string): boolean {
  return path.split('/').includes('..');
}

/** True when `path` is `root` or lies below it (both absolute, normalised POSIX paths). */
export function isWithin(root: string, path: string): boolean {
  const bare = root.replace(/\/+$/, '');
  return bare === '' || path === bare || path.startsWith(`${bare}/`);
}

/**
 * Places in every Job container that are never a workload's data: the ServiceAccount token and other
 * projected credentials, and the kernel's views of processes (their environments) and devices. A backup
 * path at or above one of them would copy the Job's own credentials into the repository.
 */
export const reservedContainerPaths: Readonly<Record<string, string>> = Object.freeze({
  '/var/run/secrets': "the Job's ServiceAccount token and projected credentials are mounted there",
  '/run/secrets': "the Job's ServiceAccount token and projected credentials are mounted there",
  '/proc': "it is the kernel's view of the Job's processes, environments included",
  '/sys': "it is the kernel's view of the Job's devices and cgroups",
});

/**
 * An absolute POSIX path in one spelling: empty and `.` segments dropped, `..` applied, no trailing slash
 * (`//data/./x/` → `/data/x`), so paths can be compared as text. Pure: the same as node's posix.normalize
 * without the trailing slash.
 */
export function normaliseAbsolutePath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

/**
 * Why one path or pattern is refused, or undefined when it is fine. Absolute shapes need a leading `/`
 * (except when `templated` and the value still holds a `${...}` variable, which is filled in later) and must
 * not be at, in or above a {@link reservedContainerPaths} entry; every shape refuses `..` segments and NUL
 * characters.
 */
export function pathProblem(value: string, shape: PathParamShape, templated = false): string | undefined {
  if (value.includes('\0')) return 'must not contain a NUL character';
  if (hasParentSegment(value)) return 'must not contain ".." segments: it would lead out of the volumes the Job mounts';
  if (shape === 'patternList') return undefined;
  if (!value.startsWith('/')) return templated && value.includes('${') ? undefined : 'must be an absolute path (starting with /)';
  const path = normaliseAbsolutePath(value);
  for (const [reserved, why] of Object.entries(reservedContainerPaths)) {
    if (isWithin(reserved, path)) return `must not lie in ${reserved}: ${why}`;
    if (isWithin(path, reserved)) return `must not contain ${reserved}: ${why}`;
  }
  return undefined;
}

/** The items of a param value as the executor receives them (a comma list; arrays are joined with commas first). */
export function paramItems(value: unknown, shape: PathParamShape): string[] {
  const text = paramValue(value);
  if (shape === 'absolutePath') return text === '' ? [] : [text];
  return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

/**
 * Errors for the path params of one TaskReference's `params` object, at `<paramsPath>.<name>`, each naming the
 * offending value. `templated`: the params belong to a BackupBlueprint, whose `${var}` values are filled in later.
 */
export function taskParamPathErrors(params: unknown, paramsPath: string, templated = false): FieldError[] {
  const errors: FieldError[] = [];
  const object = asObject(params);
  if (object === undefined) return errors;
  for (const [name, shape] of Object.entries(pathParams)) {
    if (!Object.hasOwn(object, name)) continue;
    for (const item of paramItems(object[name], shape)) {
      const problem = pathProblem(item, shape, templated);
      if (problem !== undefined) errors.push(fieldError(ErrorCodes.Invalid, joinPath(paramsPath, name), `${name} ${JSON.stringify(item)} ${problem}`));
    }
  }
  return errors;
}

/** {@link taskParamPathErrors} for every task of an AddonInfo (`<addonPath>.tasks[i].params`). */
export function addonPathErrors(addon: unknown, addonPath: string, templated = false): FieldError[] {
  return asArray(asObject(addon)?.tasks).flatMap((task, index) =>
    taskParamPathErrors(asObject(task)?.params, joinPath(addonPath, 'tasks', index, 'params'), templated),
  );
}
