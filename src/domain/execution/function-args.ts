/**
 * Function args with KubeStash's envsubst forms (`${var}`, `${var:=default}`, `${var:=}`), and the
 * variables a task runs with: the addon's parameter defaults, the user's task params and `variables`,
 * and the built-ins (namespace, backupSession, COMPONENT_NAME, ...). Pure.
 */
import type { AddonTask } from '../../api/index.js';
import type { TaskReference } from '../../api/core.js';
import { substituteString } from '../auto-backup/substitute.js';
import { ErrorCodes, fieldError, joinPath, type FieldError } from '../errors.js';

export type FunctionVariables = Readonly<Record<string, string>>;

/** Built-in variable names (SPEC §5; apimachinery apis/variables.go and constants). */
export const BuiltinVariables = {
  namespace: 'namespace',
  backupSession: 'backupSession',
  restoreSession: 'restoreSession',
  snapshot: 'snapshot',
  componentName: 'COMPONENT_NAME',
  pvcName: 'PVC_NAME',
  podOrdinal: 'POD_ORDINAL',
  invokerKind: 'invokerKind',
  invokerName: 'invokerName',
} as const;

/**
 * Substitutes every arg. Values are inserted as they are (never expanded again); `$$` is a literal `$`.
 * `${var}` without a default and without a value is an error naming the arg (path `args[i]`), as is
 * an expression autostash does not understand; the returned args are then incomplete and must not run.
 */
export function substituteFunctionArgs(args: readonly string[], variables: FunctionVariables): { args: string[]; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const out = args.map((arg, index) => {
    const result = substituteString(arg, variables, joinPath('args', index));
    for (const problem of result.problems) {
      errors.push(
        problem.kind === 'missing'
          ? fieldError(ErrorCodes.Required, problem.path, `"${arg}" needs variable ${problem.variable}, which is not set: give it as a task param or write \${${problem.variable}:=default}`)
          : fieldError(ErrorCodes.Invalid, problem.path, problem.message),
      );
    }
    return result.value;
  });
  return { args: out, errors };
}

/**
 * A free-form param value as a variable: strings as they are, numbers and booleans as text, arrays as
 * comma lists of their items (`[a, b]` → `a,b`), null as empty, objects as JSON (they have no
 * KubeStash meaning, but JSON keeps the value visible instead of "[object Object]").
 */
export function paramValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.map(paramValue).join(',');
  return JSON.stringify(value);
}

/**
 * The variables of one task run: the addon task's parameter defaults, overridden by the TaskReference's
 * `params` (free-form, see {@link paramValue}) and `variables` (EnvVars with a `value`), overridden by the
 * built-ins (which autostash decides and a param must not change). A parameter the addon marks required
 * and the user did not give is an error at `<taskPath>.params.<name>`.
 */
export function taskVariables(input: {
  task: AddonTask;
  taskRef: TaskReference | undefined;
  builtins: FunctionVariables;
  /** Field path of the TaskReference, e.g. `spec.sessions[0].addon.tasks[0]`. */
  taskPath: string;
  /** `<addon>/<task>` for messages. */
  taskLabel: string;
}): { variables: Record<string, string>; errors: FieldError[] } {
  const variables: Record<string, string> = {};
  const errors: FieldError[] = [];
  const set = (name: string, value: string): void => {
    Object.defineProperty(variables, name, { value, enumerable: true, writable: true, configurable: true });
  };
  for (const parameter of input.task.parameters ?? []) {
    if (parameter.name !== undefined && parameter.default !== undefined) set(parameter.name, parameter.default);
  }
  const params = input.taskRef?.params ?? {};
  for (const [name, value] of Object.entries(params)) set(name, paramValue(value));
  for (const variable of input.taskRef?.variables ?? []) {
    if (typeof variable.value === 'string') set(variable.name, variable.value);
  }
  for (const parameter of input.task.parameters ?? []) {
    const name = parameter.name;
    if (parameter.required !== true || name === undefined) continue;
    const given = Object.prototype.hasOwnProperty.call(variables, name) ? variables[name] : undefined;
    if (given === undefined || given === '') {
      errors.push(
        fieldError(
          ErrorCodes.Required,
          joinPath(input.taskPath, 'params', name),
          `task ${input.taskLabel} requires param ${name}${parameter.usage ? ` (${parameter.usage})` : ''}: set params.${name}`,
        ),
      );
    }
  }
  for (const [name, value] of Object.entries(input.builtins)) set(name, value);
  return { variables, errors };
}
