/**
 * `${variable}` substitution in a blueprint's template (SPEC §7.2), on parsed values: every string is
 * expanded on its own and values are inserted as they are, so quotes, backslashes, `$` and newlines in
 * a value can never change the structure of the object, and a value is never expanded again.
 * Semantics and the deliberate differences from KubeStash: docs/decisions/0004-blueprint-variable-substitution.md.
 */
import { joinPath } from '../errors.js';

/** Variable name → value. A variable that is present with an empty value counts as set. */
export type Variables = Readonly<Record<string, string>>;

export type SubstitutionProblem =
  /** `${variable}` without a default, and the variable is not set. */
  | { kind: 'missing'; variable: string; path: string }
  /** An expression autostash does not understand; message says what and how to write it instead. */
  | { kind: 'syntax'; path: string; message: string };

export interface Substituted<T> {
  value: T;
  problems: SubstitutionProblem[];
}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
/** Operators that give a default; all three use it only when the variable is absent (gomodules envsubst EvalMap). */
const DEFAULT_OPERATORS = [':=', ':-', '='] as const;
const SUPPORTED = '${v}, ${v:=default}, ${v=default} and ${v:-default}';

const has = (variables: Variables, name: string): boolean => Object.prototype.hasOwnProperty.call(variables, name);

/**
 * Expands one string: `${v}`, `${v:=d}`, `${v=d}`, `${v:-d}` (the default is literal text up to the
 * first `}`), `$$` → `$`; any other `$` is literal. Every problem is reported with `path`; on problems
 * the returned value is partial and must not be used.
 */
export function substituteString(text: string, variables: Variables, path = ''): Substituted<string> {
  const problems: SubstitutionProblem[] = [];
  const syntax = (message: string): void => {
    problems.push({ kind: 'syntax', path, message });
  };
  let out = '';
  let index = 0;
  while (index < text.length) {
    const dollar = text.indexOf('$', index);
    if (dollar < 0) {
      out += text.slice(index);
      break;
    }
    out += text.slice(index, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      index = dollar + 2;
      continue;
    }
    if (next !== '{') {
      out += '$';
      index = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close < 0) {
      syntax(`unterminated "\${" in "${text}": close it with "}", or write "$\${" for a literal "\${"`);
      break;
    }
    const expression = text.slice(dollar, close + 1);
    const body = text.slice(dollar + 2, close);
    index = close + 1;
    const name = VARIABLE_NAME.exec(body)?.[0];
    if (name === undefined) {
      syntax(`"${expression}" does not start with a variable name (letters, digits and _, not starting with a digit); autostash supports ${SUPPORTED}`);
      continue;
    }
    const rest = body.slice(name.length);
    if (rest === '') {
      if (has(variables, name)) out += variables[name];
      else problems.push({ kind: 'missing', variable: name, path });
      continue;
    }
    const operator = DEFAULT_OPERATORS.find((candidate) => rest.startsWith(candidate));
    if (operator === undefined) {
      syntax(`"${expression}" is not supported: autostash supports ${SUPPORTED} (string operations such as \${v,,} or \${v#prefix} are not); write "$$" for a literal "$"`);
      continue;
    }
    const fallback = rest.slice(operator.length);
    if (fallback.includes('${')) {
      syntax(`"${expression}…" has a reference inside its default; nested references are not supported: write the default as literal text`);
      continue;
    }
    out += has(variables, name) ? variables[name] : fallback;
  }
  return { value: out, problems };
}

/**
 * Expands every string value inside a parsed JSON value (objects, arrays, strings; other values are
 * kept). Field names are not expanded: a field name containing `${` is reported. Never mutates
 * `value`; problems carry the field path below `path`.
 */
export function substituteValues<T>(value: T, variables: Variables, path: string): Substituted<T> {
  const problems: SubstitutionProblem[] = [];
  const walk = (node: unknown, at: string): unknown => {
    if (typeof node === 'string') {
      const result = substituteString(node, variables, at);
      problems.push(...result.problems);
      return result.value;
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, joinPath(at, index)));
    if (typeof node === 'object' && node !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(node)) {
        if (key.includes('${')) {
          problems.push({ kind: 'syntax', path: joinPath(at, key), message: `variables are not substituted in field names: move "${key}" into a value` });
        }
        Object.defineProperty(out, key, { value: walk(item, joinPath(at, key)), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return node;
  };
  return { value: walk(value, path) as T, problems };
}
