import { pathToFileURL } from 'node:url';
import { Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location } from 'vscode-languageserver/node';
import type { Finding, Range, Severity, SourceLocation } from '../analysis/types';
import { DIAGNOSTIC_SOURCE } from '../protocol';
import type { ProgramSnapshot } from './documentStore';
import { uriOfFile } from './workspaceFiles';

const SEVERITIES: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/**
 * What a published diagnostic carries for the code actions. The fingerprint names the finding by
 * rule and place; a code action looks it up in the current analysis, so a diagnostic left over from an
 * older version of the text (its range no longer matches) yields no action instead of a wrong edit.
 */
export interface DiagnosticData {
  fingerprint: string;
}

export function rangeKey(range: Range): string {
  return `${range.start.line}:${range.start.character}-${range.end.line}:${range.end.character}`;
}

export function findingFingerprint(rule: string, uri: string, range: Range): string {
  return `${rule}|${uri}|${rangeKey(range)}`;
}

/**
 * The document URI of a location in a snapshot's program (undefined when the cell index is out of range), or of the
 * imported module it lies in.
 */
export function uriOfLocation(snapshot: ProgramSnapshot, location: SourceLocation): string | undefined {
  if (location.file !== undefined) return uriOfFile(location.file);
  return snapshot.cellUris[location.cell ?? 0];
}

export function toDiagnostic(
  finding: Finding,
  uri: string,
  snapshot: ProgramSnapshot,
  ruleDocumentation: (rule: string) => string,
): Diagnostic {
  const relatedInformation: DiagnosticRelatedInformation[] = [];
  for (const related of finding.related) {
    const relatedUri = uriOfLocation(snapshot, related.location);
    if (relatedUri) relatedInformation.push({ location: Location.create(relatedUri, related.location.range), message: related.message });
  }
  const confirmation = finding.confirmation;
  // The capture that decided: its output cell in the notebook, or its folder's manifest beside a script.
  const captureUri = confirmation?.origin?.cell !== undefined ? snapshot.cellUris[confirmation.origin.cell] : confirmation?.origin?.path !== undefined ? pathToFileURL(confirmation.origin.path).href : undefined;
  if (confirmation && captureUri && confirmation.verdict !== 'inconclusive') {
    relatedInformation.push({ location: Location.create(captureUri, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }), message: `capture ${confirmation.capture}` });
  }
  const data: DiagnosticData = { fingerprint: findingFingerprint(finding.rule, uri, finding.location.range) };
  return {
    range: finding.location.range,
    severity: SEVERITIES[finding.severity],
    code: finding.rule,
    codeDescription: { href: ruleDocumentation(finding.rule) },
    source: DIAGNOSTIC_SOURCE,
    // Inconclusive captures add nothing worth reading; the others say what the tensors showed.
    message: confirmation && confirmation.verdict !== 'inconclusive' ? `${finding.message}\n${confirmation.message}` : finding.message,
    relatedInformation,
    data,
  };
}

/** The diagnostics of every URI of the program that has findings. */
export function diagnosticsByUri(
  findings: readonly Finding[],
  snapshot: ProgramSnapshot,
  ruleDocumentation: (rule: string) => string,
): Map<string, Diagnostic[]> {
  const byUri = new Map<string, Diagnostic[]>();
  for (const finding of findings) {
    const uri = uriOfLocation(snapshot, finding.location);
    if (!uri) continue;
    const list = byUri.get(uri) ?? [];
    list.push(toDiagnostic(finding, uri, snapshot, ruleDocumentation));
    byUri.set(uri, list);
  }
  return byUri;
}
