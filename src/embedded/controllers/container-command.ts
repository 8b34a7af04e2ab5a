/**
 * How a container's command line becomes a local command line. Kubernetes semantics where they
 * apply (`command` replaces the image entrypoint, `args` follow it, `$(VAR)` expands from the
 * container's environment, `$$` escapes a `$`); the embedded plane has no images, so the first
 * word must be a program on this machine. See docs/embedded-job-volumes.md.
 */

/** Expands `$(NAME)` references like the kubelet: unknown names stay as written, `$$` is a literal `$`. */
export function expandVariables(input: string, lookup: (name: string) => string | undefined): string {
  let output = '';
  for (let index = 0; index < input.length; index++) {
    const char = input[index]!;
    const next = input[index + 1];
    if (char !== '$' || next === undefined) {
      output += char;
    } else if (next === '$') {
      output += '$';
      index++;
    } else if (next === '(') {
      const close = input.indexOf(')', index + 2);
      if (close < 0) {
        output += input.slice(index);
        break;
      }
      const name = input.slice(index + 2, close);
      output += lookup(name) ?? `$(${name})`;
      index = close;
    } else {
      output += char;
    }
  }
  return output;
}

/**
 * Rewrites a path inside the container to the host directory it is mapped to: a value equal to a
 * mount path, or starting with `<mountPath>/`, gets the host path in place of the mount path (the
 * longest matching mount path wins). Any other value is returned unchanged.
 */
export function rewriteMountedPath(value: string, volumeMap: Readonly<Record<string, string>>): string {
  let best: string | undefined;
  for (const mountPath of Object.keys(volumeMap)) {
    const matches = value === mountPath || value.startsWith(mountPath.endsWith('/') ? mountPath : `${mountPath}/`);
    if (matches && (best === undefined || mountPath.length > best.length)) best = mountPath;
  }
  if (best === undefined) return value;
  const hostPath = volumeMap[best]!;
  const rest = value.slice(best.length);
  if (rest === '') return hostPath;
  return hostPath.endsWith('/') || rest.startsWith('/') ? `${hostPath.replace(/\/$/, '')}/${rest.replace(/^\//, '')}` : `${hostPath}/${rest}`;
}

export interface CommandLine {
  executable: string;
  args: string[];
}

/**
 * The local command line for a container: `command` then `args` (both `$(VAR)`-expanded, then
 * mount paths rewritten). Without `command`, the first of `args` is the program (there is no
 * image entrypoint). The program `autostash` becomes `cliCommand` (e.g. `[node, cli.js]`).
 * Throws when there is nothing to run.
 */
export function containerCommandLine(
  container: { name?: string; command?: readonly string[]; args?: readonly string[] },
  env: Readonly<Record<string, string>>,
  volumeMap: Readonly<Record<string, string>>,
  cliCommand: readonly string[] | undefined,
): CommandLine {
  const words = [...(container.command ?? []), ...(container.args ?? [])]
    .map((word) => expandVariables(word, (name) => env[name]))
    .map((word) => rewriteMountedPath(word, volumeMap));
  const [program, ...rest] = words;
  if (program === undefined || program === '') {
    throw new Error(
      `container ${container.name ?? '(unnamed)'} has no command: the embedded control plane runs no images, so set command (or args) to a program on this machine`,
    );
  }
  if (program === 'autostash' && cliCommand && cliCommand.length > 0) {
    const [executable, ...prefix] = cliCommand;
    return { executable: executable!, args: [...prefix, ...rest] };
  }
  return { executable: program, args: rest };
}
