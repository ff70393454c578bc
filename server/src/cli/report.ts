import type { AnalysisResult, Confirmation, Finding, Range, Severity, SourceLocation } from '../analysis/types';

/**
 * The result of a `check` (or of `fix`'s final check) in the shape of `shared/spec/cli.md`'s JSON: positions
 * 1-based, columns in UTF-16 code units, end exclusive. The text and SARIF formats are rendered from this too.
 */

export interface CliLocation {
  path: string;
  cell?: number;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface CliRelated extends CliLocation {
  message: string;
}

export interface CliEdit extends CliLocation {
  newText: string;
}

export interface CliDiagnostic extends CliLocation {
  rule: string;
  severity: Severity;
  message: string;
  related: CliRelated[];
  fix?: { title: string; edits: CliEdit[] };
  /** `capture`: a run-time check on captured tensors, with no static finding at that call. */
  source: 'static' | 'capture';
  /** What captured tensors of the call say (the spec's fields, plus `message`: the verdict in words). */
  confirmation?: Omit<Confirmation, 'origin'>;
}

export interface CliError {
  path: string;
  message: string;
}

/**
 * Something the user should know that is not a finding and does not fail the run (an extra field beyond the spec):
 * a unit that did not parse, or an analysis cut short by its time budget.
 */
export interface CliNote extends Partial<CliLocation> {
  path: string;
  kind: 'syntax-error' | 'truncated' | 'not-fixed' | 'capture' | 'imports-limited';
  message: string;
}

export interface CheckReport {
  version: 1;
  checked: number;
  errors: CliError[];
  diagnostics: CliDiagnostic[];
  notes: CliNote[];
  /** `fix` only: how many findings its fixes resolved. */
  fixed?: number;
}

export function emptyReport(): CheckReport {
  return { version: 1, checked: 0, errors: [], diagnostics: [], notes: [] };
}

/** How a place in another file of the project (an imported module) is named in the report. */
export type DisplayPathOf = (file: string) => string;

function cliLocation(path: string, location: SourceLocation, displayPathOf?: DisplayPathOf): CliLocation {
  return {
    path: location.file !== undefined && displayPathOf ? displayPathOf(location.file) : (location.file ?? path),
    ...(location.cell === undefined ? {} : { cell: location.cell }),
    ...oneBased(location.range),
  };
}

function oneBased(range: Range): Omit<CliLocation, 'path' | 'cell'> {
  return {
    line: range.start.line + 1,
    column: range.start.character + 1,
    endLine: range.end.line + 1,
    endColumn: range.end.character + 1,
  };
}

function cliDiagnostic(path: string, finding: Finding, displayPathOf?: DisplayPathOf): CliDiagnostic {
  const diagnostic: CliDiagnostic = {
    ...cliLocation(path, finding.location, displayPathOf),
    rule: finding.rule,
    severity: finding.severity,
    message: finding.message,
    related: finding.related.map((related) => ({ ...cliLocation(path, related.location, displayPathOf), message: related.message })),
    source: finding.source ?? 'static',
  };
  if (finding.fix) {
    diagnostic.fix = {
      title: finding.fix.title,
      edits: finding.fix.edits.map((edit) => ({ ...cliLocation(path, edit.location, displayPathOf), newText: edit.newText })),
    };
  }
  if (finding.confirmation) {
    const { origin: _origin, ...confirmation } = finding.confirmation;
    diagnostic.confirmation = confirmation;
  }
  return diagnostic;
}

/** Adds one file's analysis to the report: its findings in position order, and notes for what limited the analysis. */
export function addAnalysis(report: CheckReport, path: string, result: AnalysisResult, timeBudgetMs: number, displayPathOf?: DisplayPathOf): void {
  const diagnostics = result.findings.map((finding) => cliDiagnostic(path, finding, displayPathOf));
  diagnostics.sort(comparePositions);
  report.diagnostics.push(...diagnostics);
  for (const parseError of result.parseErrors) {
    report.notes.push({
      ...cliLocation(path, parseError),
      kind: 'syntax-error',
      message: 'syntax error: the code that did not parse is not analysed',
    });
  }
  for (const note of result.notes ?? []) report.notes.push({ path, kind: note.kind, message: note.message });
  if (result.truncated) {
    report.notes.push({
      path,
      kind: 'truncated',
      message: `the analysis stopped at its time budget (${timeBudgetMs} ms): findings in this file may be incomplete`,
    });
  }
}

function comparePositions(a: CliDiagnostic, b: CliDiagnostic): number {
  return (a.cell ?? -1) - (b.cell ?? -1) || a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0);
}

/** Exit status of the spec: 2 when anything could not be read, else 1 when findings remain, else 0. */
export function exitStatusOf(report: CheckReport): number {
  if (report.errors.length > 0) return 2;
  return report.diagnostics.length > 0 ? 1 : 0;
}

export function formatJson(report: CheckReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
