/**
 * `autostash manifests`: prints every object of a cluster install as YAML, from the chart's values
 * (defaults, then each --values file, then each --set, later ones winning), validated against the
 * chart's values.schema.json.
 */
import { readFile } from 'node:fs/promises';
import { parse, parseAllDocuments } from 'yaml';
import { installObjects, parseSetArgument, renderInstallYaml, resolveValues } from '../api/install/index.js';
import { formatFieldError } from '../domain/errors.js';

export interface ManifestsOptions {
  /** Values files (YAML), applied in order. */
  values?: readonly string[];
  /** `key.path=value` overrides, applied after the files. */
  set?: readonly string[];
  /** The release namespace; default autostash. */
  namespace?: string;
  /** The instance label (a Helm release name); default autostash. */
  release?: string;
  /** Emit the Namespace object (default true; `--no-create-namespace` when it exists). */
  createNamespace?: boolean;
}

export interface ManifestsStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A values file's one document, or a message saying why it cannot be used. */
async function readValuesFile(path: string): Promise<{ value: unknown } | { error: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { error: `${path}: cannot be read (${String((error as NodeJS.ErrnoException).code)})` };
  }
  const documents = parseAllDocuments(text);
  if (documents.length > 1) return { error: `${path}: holds several YAML documents; give one mapping of values` };
  const [document] = documents;
  if (document !== undefined && document.errors.length > 0) return { error: `${path}: is not valid YAML: ${document.errors[0]!.message.split('\n')[0]}` };
  return { value: document?.toJS() ?? null };
}

/**
 * Runs the command: the YAML stream on stdout and 0, or one `<value path>: <reason>` line per problem
 * on stderr and 1 (values that do not validate, unreadable files, a bad --set or namespace).
 */
export async function runManifests(options: ManifestsOptions, streams: ManifestsStreams): Promise<0 | 1> {
  const problems: string[] = [];
  const namespace = options.namespace ?? 'autostash';
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) problems.push(`--namespace: "${namespace}" is not a valid namespace name (lowercase letters, digits and '-', at most 63 characters)`);
  const release = options.release ?? 'autostash';
  if (release.length > 53 || !DNS_LABEL.test(release)) problems.push(`--release: "${release}" is not a valid release name (lowercase letters, digits and '-', at most 53 characters, as Helm requires)`);
  const overrides: unknown[] = [];
  for (const path of options.values ?? []) {
    const read = await readValuesFile(path);
    if ('error' in read) problems.push(read.error);
    else overrides.push(read.value);
  }
  for (const argument of options.set ?? []) {
    const parsed = parseSetArgument(argument, (text) => parse(text) as unknown);
    if ('error' in parsed) problems.push(formatFieldError(parsed.error));
    else overrides.push(parsed.value);
  }
  if (problems.length === 0) {
    const resolved = resolveValues(overrides);
    if ('errors' in resolved) {
      problems.push(...resolved.errors.map(formatFieldError));
    } else {
      const objects = installObjects({ namespace, release, values: resolved.values, createNamespace: options.createNamespace ?? true });
      streams.stdout.write(renderInstallYaml(objects));
      return 0;
    }
  }
  for (const problem of problems) streams.stderr.write(`autostash manifests: ${problem}\n`);
  return 1;
}
