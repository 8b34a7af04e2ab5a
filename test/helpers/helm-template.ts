/**
 * A small renderer for the subset of Helm's Go templates that charts/autostash uses (helm is not
 * installed on these machines): actions with `{{-`/`-}}` trimming and comments; if/else, with, range
 * (lists and maps, one or two variables), define/include; `$var :=`/`=`; pipelines with parentheses;
 * fields of `.`/`$`/variables; and the functions below, with Helm's semantics for them. Anything else is
 * an error, so a template using more than this fails the test instead of rendering wrongly.
 */
import { stringify } from 'yaml';

type Value = unknown;
type Fn = (...args: Value[]) => Value;

interface Scope {
  dot: Value;
  root: Value;
  vars: Array<Map<string, Value>>;
}

type Node =
  | { type: 'text'; text: string }
  | { type: 'action'; source: string }
  | { type: 'if'; cond: string; then: Node[]; otherwise: Node[] }
  | { type: 'with'; cond: string; then: Node[]; otherwise: Node[] }
  | { type: 'range'; vars: string[]; source: string; body: Node[] };

const truthy = (value: Value): boolean => {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value as object).length > 0;
  return true;
};

/** Splits `text` at top-level occurrences of `separator` (outside quotes and parentheses). */
function splitTopLevel(text: string, separator: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      current += c;
      if (c === '\\') current += text[++i] ?? '';
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (depth === 0 && separator.test(c)) {
      if (current.trim() !== '') parts.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

export class HelmSubset {
  private readonly defines = new Map<string, Node[]>();
  private readonly functions: Record<string, Fn>;

  constructor(private readonly files: Record<string, string>) {
    const indent = (spaces: Value, text: Value): string => {
      const pad = ' '.repeat(Number(spaces));
      return pad + String(text).replace(/\n/g, `\n${pad}`);
    };
    this.functions = {
      nindent: (spaces, text) => `\n${indent(spaces, text)}`,
      indent,
      quote: (text) => JSON.stringify(String(text ?? '')),
      toYaml: (value) => stringify(value, { lineWidth: 0 }).replace(/\n$/, ''),
      toJson: (value) => JSON.stringify(value),
      fromJsonArray: (text) => JSON.parse(String(text)) as Value,
      list: (...items) => items,
      append: (list, item) => [...(list as Value[]), item],
      uniq: (list) => [...new Set(list as Value[])],
      dict: (...pairs) => Object.fromEntries(Array.from({ length: pairs.length / 2 }, (_, i) => [String(pairs[2 * i]), pairs[2 * i + 1]])),
      index: (map, key) => (map as Record<string, Value>)[String(key)],
      printf: (format, ...args) => {
        let next = 0;
        return String(format).replace(/%[sd]/g, () => String(args[next++]));
      },
      int: (value) => Math.trunc(Number(value)),
      gt: (a, b) => Number(a) > Number(b),
      eq: (a, b) => a === b,
      ne: (a, b) => a !== b,
      not: (value) => !truthy(value),
      join: (separator, list) => (list as Value[]).map(String).join(String(separator)),
    };
  }

  /** Parses a template file, registering its defines; returns its top-level nodes. */
  parse(text: string): Node[] {
    const tokens: Array<{ text: string } | { action: string }> = [];
    const pattern = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
    let last = 0;
    let trimNext = false;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      let before = text.slice(last, match.index);
      if (trimNext) before = before.replace(/^\s+/, '');
      if (match[1] === '-') before = before.replace(/\s+$/, '');
      tokens.push({ text: before });
      if (!match[2]!.startsWith('/*')) tokens.push({ action: match[2]! });
      trimNext = match[3] === '-';
      last = pattern.lastIndex;
    }
    tokens.push({ text: trimNext ? text.slice(last).replace(/^\s+/, '') : text.slice(last) });
    let position = 0;
    const block = (): { nodes: Node[]; end: string } => {
      const nodes: Node[] = [];
      while (position < tokens.length) {
        const token = tokens[position++]!;
        if ('text' in token) {
          if (token.text !== '') nodes.push({ type: 'text', text: token.text });
          continue;
        }
        const action = token.action;
        if (action === 'end' || action === 'else') return { nodes, end: action };
        const keyword = /^(if|with|range|define)\s+([\s\S]*)$/.exec(action);
        if (keyword === null) {
          nodes.push({ type: 'action', source: action });
          continue;
        }
        const [, word, rest] = keyword as unknown as [string, string, string];
        const inner = block();
        if (word === 'define') {
          if (inner.end !== 'end') throw new Error(`define ${rest}: else is not allowed`);
          this.defines.set(JSON.parse(rest) as string, inner.nodes);
        } else if (word === 'range') {
          if (inner.end !== 'end') throw new Error('range with else is not supported');
          const assign = /^((?:\$\w+)(?:\s*,\s*\$\w+)?)\s*:=\s*([\s\S]+)$/.exec(rest);
          nodes.push({ type: 'range', vars: assign ? assign[1]!.split(',').map((v) => v.trim()) : [], source: assign ? assign[2]! : rest, body: inner.nodes });
        } else {
          const otherwise = inner.end === 'else' ? block() : { nodes: [], end: 'end' };
          if (otherwise.end !== 'end') throw new Error(`${word}: unterminated`);
          nodes.push({ type: word as 'if' | 'with', cond: rest, then: inner.nodes, otherwise: otherwise.nodes });
        }
      }
      return { nodes, end: 'eof' };
    };
    const parsed = block();
    if (parsed.end !== 'eof') throw new Error(`unexpected {{ ${parsed.end} }}`);
    return parsed.nodes;
  }

  /** Renders a parsed template with `root` as both `.` and `$`. */
  render(nodes: Node[], root: Value): string {
    return this.renderNodes(nodes, { dot: root, root, vars: [new Map()] });
  }

  private renderNodes(nodes: Node[], scope: Scope): string {
    let out = '';
    for (const node of nodes) {
      if (node.type === 'text') out += node.text;
      else if (node.type === 'action') out += this.action(node.source, scope);
      else if (node.type === 'if') out += this.renderNodes(truthy(this.pipeline(node.cond, scope)) ? node.then : node.otherwise, this.child(scope, scope.dot));
      else if (node.type === 'with') {
        const value = this.pipeline(node.cond, scope);
        out += truthy(value) ? this.renderNodes(node.then, this.child(scope, value)) : this.renderNodes(node.otherwise, this.child(scope, scope.dot));
      } else {
        const collection = this.pipeline(node.source, scope);
        const entries: Array<[Value, Value]> = Array.isArray(collection)
          ? collection.map((item, index) => [index, item])
          : Object.keys((collection ?? {}) as object).sort().map((key) => [key, (collection as Record<string, Value>)[key]]);
        for (const [key, item] of entries) {
          const inner = this.child(scope, item);
          if (node.vars.length === 1) inner.vars[0]!.set(node.vars[0]!, item);
          if (node.vars.length === 2) {
            inner.vars[0]!.set(node.vars[0]!, key);
            inner.vars[0]!.set(node.vars[1]!, item);
          }
          out += this.renderNodes(node.body, inner);
        }
      }
    }
    return out;
  }

  private child(scope: Scope, dot: Value): Scope {
    return { dot, root: scope.root, vars: [new Map(), ...scope.vars] };
  }

  private action(source: string, scope: Scope): string {
    const assignment = /^(\$\w+)\s*(:?=)\s*([\s\S]+)$/.exec(source);
    if (assignment) {
      const [, name, operator, rest] = assignment as unknown as [string, string, string, string];
      const value = this.pipeline(rest, scope);
      const holder = operator === ':=' ? scope.vars[0]! : scope.vars.find((vars) => vars.has(name));
      if (holder === undefined) throw new Error(`${name} is assigned before it is declared`);
      holder.set(name, value);
      return '';
    }
    const value = this.pipeline(source, scope);
    return value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }

  private pipeline(source: string, scope: Scope): Value {
    let result: Value;
    let first = true;
    for (const command of splitTopLevel(source, /\|/)) {
      const words = splitTopLevel(command, /\s/);
      const args = words.slice(1).map((word) => this.operand(word, scope));
      if (!first) args.push(result);
      first = false;
      const head = words[0]!;
      const fn = this.functions[head];
      if (head === 'include') {
        const body = this.defines.get(String(args[0]));
        if (body === undefined) throw new Error(`include of unknown template ${String(args[0])}`);
        result = this.renderNodes(body, { dot: args[1], root: args[1], vars: [new Map()] });
      } else if (fn !== undefined) {
        result = fn(...args);
      } else {
        const value = this.operand(head, scope);
        result = typeof value === 'function' ? (value as Fn)(...args) : value;
        if (typeof value !== 'function' && args.length > 0) throw new Error(`${head} is not a function (in "${source}")`);
      }
    }
    return result;
  }

  private operand(word: string, scope: Scope): Value {
    if (word.startsWith('(')) return this.pipeline(word.slice(1, -1), scope);
    if (word.startsWith('"')) return JSON.parse(word) as Value;
    if (/^-?\d+$/.test(word)) return Number(word);
    if (word === 'true' || word === 'false') return word === 'true';
    if (word in this.functions) return this.functions[word]!();
    const [start, ...path] = word.split('.');
    let value: Value;
    if (start === '') value = scope.dot;
    else if (start === '$') value = scope.root;
    else if (start!.startsWith('$')) {
      const holder = scope.vars.find((vars) => vars.has(start!));
      if (holder === undefined) throw new Error(`unknown variable ${start}`);
      value = holder.get(start!);
    } else throw new Error(`unsupported operand ${word}`);
    for (const key of path.filter((segment) => segment !== '')) value = value === undefined || value === null ? undefined : (value as Record<string, Value>)[key];
    return value;
  }

  /** `.Files.Get`'s view of the chart. */
  get filesObject(): { Get: (path: Value) => string } {
    return { Get: (path) => this.files[String(path)] ?? '' };
  }
}
