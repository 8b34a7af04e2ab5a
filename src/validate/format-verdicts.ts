import { formatFieldError } from '../domain/errors.js';
import type { ManifestParseError } from './parse-documents.js';
import type { DocumentVerdict } from './validate-documents.js';

/**
 * The `autostash validate` report: per document `OK <Kind> <ns>/<name>` or one
 * `FAIL <Kind> <ns>/<name>: <field path>: <reason>` line per error, then `WARN …` lines for advice.
 * Documents of kinds autostash has no rules for say so on their OK line.
 * Unreadable documents print as `FAIL <source>:<line>: <reason>`.
 */
export function formatReport(parseErrors: readonly ManifestParseError[], verdicts: readonly DocumentVerdict[]): string[] {
  return reportLines(parseErrors, verdicts).map(oneLine);
}

/**
 * A report line as exactly one printable line: names and keys come from the manifests, and a key with a newline
 * in it (a YAML complex key, say) must not start a line that reads like a verdict of its own.
 */
const oneLine = (line: string): string => line.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));

function reportLines(parseErrors: readonly ManifestParseError[], verdicts: readonly DocumentVerdict[]): string[] {
  const lines: string[] = parseErrors.map((e) => `FAIL ${e.source}:${e.line}: ${e.message}`);
  for (const v of verdicts) {
    const subject = `${v.kind} ${v.displayName}`;
    if (v.errors.length === 0) lines.push(v.checked ? `OK ${subject}` : `OK ${subject} (not a KubeStash kind: only apiVersion, kind and metadata were checked)`);
    for (const error of v.errors) lines.push(`FAIL ${subject}: ${formatFieldError(error)}`);
    for (const warning of v.warnings) lines.push(`WARN ${subject}: ${warning}`);
  }
  return lines;
}

/** 0 when every document is valid, 1 when any is invalid, 2 when any input could not be read. */
export function exitCodeFor(parseErrors: readonly ManifestParseError[], verdicts: readonly DocumentVerdict[]): 0 | 1 | 2 {
  if (parseErrors.length > 0) return 2;
  return verdicts.some((v) => v.errors.length > 0) ? 1 : 0;
}
