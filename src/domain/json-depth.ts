/**
 * How deep a JSON value nests, measured without recursion. The rules, defaulting and patch computation walk
 * objects recursively, so a hostile object thousands of levels deep would exhaust the stack; no Kubernetes
 * object comes near the limit (a Deployment's deepest field, inside its pod template, is about 15 levels down).
 */

/** Deepest nesting autostash reads in one object: objects and arrays count one level each. */
export const MAX_OBJECT_DEPTH = 128;

/**
 * The field path (`spec.a[0].b`, shortened after its first 6 segments) of the first value found deeper than
 * `limit` levels inside `value`, or undefined when `value` stays within the limit. `value` itself is level 1
 * when it is an object or array. Never recurses, so any depth is measured safely.
 */
export function pathBeyondDepth(value: unknown, limit: number = MAX_OBJECT_DEPTH): string | undefined {
  const stack: Array<{ node: unknown; depth: number; path: ReadonlyArray<string | number> }> = [{ node: value, depth: 1, path: [] }];
  while (stack.length > 0) {
    const { node, depth, path } = stack.pop() as { node: unknown; depth: number; path: ReadonlyArray<string | number> };
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return formatPath(path);
    const entries: Array<[string | number, unknown]> = Array.isArray(node) ? node.map((item, index) => [index, item]) : Object.entries(node);
    for (const [key, child] of entries) if (child !== null && typeof child === 'object') stack.push({ node: child, depth: depth + 1, path: [...path.slice(0, 7), key] });
  }
  return undefined;
}

function formatPath(path: ReadonlyArray<string | number>): string {
  const shown = path.slice(0, 6).reduce<string>((out, segment) => (typeof segment === 'number' ? `${out}[${segment}]` : out === '' ? segment : `${out}.${segment}`), '');
  return path.length > 6 ? `${shown}…` : shown;
}
