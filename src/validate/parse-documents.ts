import { Composer, LineCounter, Parser } from 'yaml';
import { MAX_OBJECT_DEPTH, pathBeyondDepth } from '../domain/json-depth.js';
import type { KubeObject } from '../domain/kube-object.js';

/** Most documents read from one input: far above any real manifest set, far below what exhausts memory. */
export const MAX_DOCUMENTS_PER_INPUT = 10_000;
/** Most alias expansions per document (the yaml library's guard against "billion laughs" alias bombs). */
export const MAX_ALIAS_COUNT = 100;

/** One Kubernetes object read from a manifest, with where it came from. */
export interface ManifestDocument {
  source: string;
  /** 1-based line of the document's first line in its source. */
  line: number;
  object: KubeObject;
}

/** A document that could not be read as a Kubernetes object. */
export interface ManifestParseError {
  source: string;
  line: number;
  message: string;
}

export interface ParsedManifests {
  documents: ManifestDocument[];
  errors: ManifestParseError[];
}

/**
 * A yaml library message as one short line (it may quote a whole line of garbage), and the stack exhaustion its
 * recursive reader hits on absurd nesting said plainly. Control characters are escaped when the report prints.
 */
export function yamlMessage(message: string): string {
  if (message.includes('Maximum call stack size exceeded')) return `YAML: nests too deeply to be read (no Kubernetes object has more than ${MAX_OBJECT_DEPTH} levels)`;
  const first = message.split('\n')[0] as string;
  const line = first.length > 200 ? `${first.slice(0, 200)}…` : first;
  return `YAML: ${line}`;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Splits multi-document YAML (JSON is YAML too) into Kubernetes objects. Empty documents are skipped;
 * a `kind: List` is expanded into its items; anything that is not a mapping is a parse error, and so is a
 * document nesting deeper than MAX_OBJECT_DEPTH or expanding more than MAX_ALIAS_COUNT aliases. Reading stops
 * with an error after MAX_DOCUMENTS_PER_INPUT documents. Never throws.
 */
export function parseDocuments(text: string, source: string): ParsedManifests {
  const lineCounter = new LineCounter();
  const documents: ManifestDocument[] = [];
  const errors: ManifestParseError[] = [];
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line;
  const composer = new Composer({ uniqueKeys: true, prettyErrors: false });
  let count = 0;

  for (const doc of composer.compose(new Parser(lineCounter.addNewLine).parse(text))) {
    count += 1;
    if (count > MAX_DOCUMENTS_PER_INPUT) {
      errors.push({ source, line: lineOf(doc.range[0]), message: `more than ${MAX_DOCUMENTS_PER_INPUT} documents: split the input (the rest was not read)` });
      break;
    }
    const line = lineOf(doc.contents?.range[0] ?? doc.range[0]);
    const problem = doc.errors[0];
    if (problem !== undefined) {
      const at = problem.linePos?.[0];
      errors.push({ source, line: at?.line ?? line, message: yamlMessage(problem.message) });
      continue;
    }
    if (doc.contents === null) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      errors.push({ source, line, message: yamlMessage((error as Error).message) });
      continue;
    }
    if (value === null || value === undefined) continue;
    const tooDeep = pathBeyondDepth(value);
    if (tooDeep !== undefined) {
      errors.push({ source, line, message: `nests deeper than ${MAX_OBJECT_DEPTH} levels (at ${tooDeep}): no Kubernetes object does` });
      continue;
    }
    if (!isPlainObject(value)) {
      errors.push({ source, line, message: `expected a Kubernetes object (a mapping with apiVersion and kind), found ${Array.isArray(value) ? 'a sequence' : `a ${typeof value}`}` });
      continue;
    }
    if (value.kind === 'List' && Array.isArray(value.items)) {
      value.items.forEach((item, index) => {
        if (isPlainObject(item)) documents.push({ source, line, object: item });
        else errors.push({ source, line, message: `items[${index}]: expected a Kubernetes object` });
      });
      continue;
    }
    documents.push({ source, line, object: value });
  }
  return { documents, errors };
}
