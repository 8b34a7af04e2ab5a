import { LineCounter, parseAllDocuments } from 'yaml';
import type { KubeObject } from '../domain/kube-object.js';

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

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Splits multi-document YAML (JSON is YAML too) into Kubernetes objects. Empty documents are skipped;
 * a `kind: List` is expanded into its items; anything that is not a mapping is a parse error.
 * Never throws.
 */
export function parseDocuments(text: string, source: string): ParsedManifests {
  const lineCounter = new LineCounter();
  const documents: ManifestDocument[] = [];
  const errors: ManifestParseError[] = [];
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line;

  for (const doc of parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false })) {
    const line = lineOf(doc.contents?.range[0] ?? doc.range[0]);
    const problem = doc.errors[0];
    if (problem !== undefined) {
      const at = problem.linePos?.[0];
      errors.push({ source, line: at?.line ?? line, message: `YAML: ${problem.message.split('\n')[0]}` });
      continue;
    }
    if (doc.contents === null) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      errors.push({ source, line, message: `YAML: ${(error as Error).message}` });
      continue;
    }
    if (value === null || value === undefined) continue;
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
