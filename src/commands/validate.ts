import { createMemoryView } from '../domain/memory-view.js';
import { admissionRules, admissionScopeOf } from '../domain/admission-rules.js';
import { exitCodeFor, formatReport } from '../validate/format-verdicts.js';
import { parseDocuments, type ManifestParseError, type ManifestDocument } from '../validate/parse-documents.js';
import { InputError, readInputs } from '../validate/read-inputs.js';
import { validateDocuments } from '../validate/validate-documents.js';

export interface ValidateStreams {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * `autostash validate -f …`: prints one line per document (see formatReport) and returns the exit code:
 * 0 all valid, 1 any invalid, 2 unreadable input.
 */
export async function runValidate(paths: readonly string[], streams: ValidateStreams): Promise<0 | 1 | 2> {
  let inputs;
  try {
    inputs = await readInputs(paths, streams.stdin);
  } catch (error) {
    if (error instanceof InputError) {
      streams.stderr.write(`autostash validate: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const documents: ManifestDocument[] = [];
  const parseErrors: ManifestParseError[] = [];
  for (const input of inputs) {
    const parsed = parseDocuments(input.text, input.source);
    documents.push(...parsed.documents);
    parseErrors.push(...parsed.errors);
  }
  if (documents.length === 0 && parseErrors.length === 0) {
    streams.stderr.write(`autostash validate: no Kubernetes objects found in ${paths.join(', ')}\n`);
    return 2;
  }
  // The webhook's rules: annotated workloads get their auto-backup preview (blueprints among the
  // documents resolve), and BackupPolicy documents among them are enforced.
  const verdicts = validateDocuments(documents, { rules: admissionRules, scopeOf: admissionScopeOf, createView: createMemoryView });
  for (const line of formatReport(parseErrors, verdicts)) streams.stdout.write(`${line}\n`);
  return exitCodeFor(parseErrors, verdicts);
}
