import type { Severity } from '../analysis/types';
import type { CheckReport, CliDiagnostic, CliLocation } from './report';

/**
 * The human format, one finding per line like Ruff and ESLint's unix format, so editors and terminals make the
 * location clickable: `path:cell N:line:col: severity rule-id message`, related places indented beneath.
 * Errors (unreadable files) and notes go to stderr so that stdout holds only findings and the summary.
 */

export interface TextOutput {
  stdout: string;
  stderr: string;
}

const ANSI = { reset: '\x1b[0m', bold: '\x1b[1m', dim: '\x1b[2m', red: '\x1b[31m', yellow: '\x1b[33m', blue: '\x1b[34m', cyan: '\x1b[36m' };

const SEVERITY_COLOR: Record<Severity, string> = { error: ANSI.red, warning: ANSI.yellow, information: ANSI.blue, hint: ANSI.dim };

export function formatText(report: CheckReport, options: { color: boolean; command: 'check' | 'fix' }): TextOutput {
  const paint = (codes: string, text: string) => (options.color ? `${codes}${text}${ANSI.reset}` : text);
  const place = (location: Partial<CliLocation> & { path: string }) => {
    const cell = location.cell === undefined ? '' : `:cell ${location.cell}`;
    const position = location.line === undefined ? '' : `:${location.line}:${location.column}`;
    return paint(ANSI.bold, `${location.path}${cell}${position}`);
  };

  const out: string[] = [];
  for (const diagnostic of report.diagnostics) {
    out.push(`${place(diagnostic)}: ${paint(SEVERITY_COLOR[diagnostic.severity], diagnostic.severity)} ${paint(ANSI.cyan, diagnostic.rule)} ${diagnostic.message}`);
    for (const related of diagnostic.related) out.push(`    ${place(related)}: ${related.message}`);
    const verdict = diagnostic.confirmation?.verdict;
    if (verdict === 'confirmed' || verdict === 'refuted') out.push(`    ${paint(ANSI.dim, `capture ${diagnostic.confirmation!.capture}`)}: ${diagnostic.confirmation!.message}`);
  }
  if (report.diagnostics.length > 0) out.push('');
  out.push(...summaryLines(report, options.command));

  const err: string[] = [];
  for (const note of report.notes) err.push(`${place(note)}: ${paint(ANSI.dim, 'note')}: ${note.message}`);
  for (const error of report.errors) err.push(`${place(error)}: ${paint(ANSI.red, 'error')}: ${error.message}`);
  return { stdout: `${out.join('\n')}\n`, stderr: err.length > 0 ? `${err.join('\n')}\n` : '' };
}

/**
 * The lines under the findings: the count, what could not be read, what was only partly analysed, what `fix` can do.
 * A run where some file or cell was only partly analysed never says "All checks passed": the findings of the part that
 * was not analysed are unknown.
 */
export function summaryLines(report: CheckReport, command: 'check' | 'fix'): string[] {
  const lines: string[] = [];
  if (report.fixed !== undefined && report.fixed > 0) lines.push(`Fixed ${plural(report.fixed, 'finding')}.`);
  const partly = partlyAnalysedFiles(report);
  lines.push(countLine(report, partly.length));
  if (report.diagnostics.length > 0 && report.errors.length > 0) lines.push(`${notCheckedPaths(report)}.`);
  if (partly.length > 0) lines.push(partlyAnalysedLine(partly));
  const fixable = report.diagnostics.filter((diagnostic) => diagnostic.fix).length;
  if (command === 'check' && fixable > 0) lines.push(`${fixable} fixable with \`loss-lens fix\`.`);
  return lines;
}

function countLine(report: CheckReport, partlyAnalysed: number): string {
  const diagnostics = report.diagnostics;
  if (diagnostics.length > 0) {
    const count = (severity: Severity) => diagnostics.filter((diagnostic) => diagnostic.severity === severity).length;
    const bySeverity = [plural(count('error'), 'error'), plural(count('warning'), 'warning')];
    if (count('information') > 0) bySeverity.push(`${count('information')} information`);
    if (count('hint') > 0) bySeverity.push(plural(count('hint'), 'hint'));
    const files = new Set(diagnostics.map((diagnostic: CliDiagnostic) => diagnostic.path)).size;
    return `Found ${plural(diagnostics.length, 'finding')} (${bySeverity.join(', ')}) in ${plural(files, 'file')}.`;
  }
  if (report.errors.length > 0) {
    return `No findings in the ${plural(report.checked, 'file')} checked, but ${notCheckedPaths(report)}.`;
  }
  if (partlyAnalysed > 0) return `No findings in the ${plural(report.checked, 'file')} checked, but not all of the code was analysed.`;
  return 'All checks passed.';
}

/** At most this many files are named in a summary line; stderr lists them all. */
const NAMED_FILES = 10;

/** `2 paths could not be read or analysed (listed on stderr): a.py, b.ipynb` (a worker stopped at its deadline too). */
function notCheckedPaths(report: CheckReport): string {
  const paths = [...new Set(report.errors.map((error) => error.path))];
  const named = paths.slice(0, NAMED_FILES);
  if (paths.length > NAMED_FILES) named.push(`and ${paths.length - NAMED_FILES} more`);
  return `${plural(report.errors.length, 'path')} could not be read or analysed (listed on stderr): ${named.join(', ')}`;
}

/** `2 files were only partly analysed, findings there may be missing: a.py (syntax error at line 12), b.py (time budget).` */
function partlyAnalysedLine(files: PartlyAnalysed[]): string {
  const named = files.slice(0, NAMED_FILES).map((file) => `${file.path} (${file.reasons.join(', ')})`);
  if (files.length > NAMED_FILES) named.push(`and ${files.length - NAMED_FILES} more (notes on stderr)`);
  const what = files.length === 1 ? '1 file was only partly analysed' : `${files.length} files were only partly analysed`;
  return `${what}, findings there may be missing: ${named.join(', ')}.`;
}

interface PartlyAnalysed {
  path: string;
  reasons: string[];
}

/** Files with a syntax error (first one: its place) or an analysis cut short by the time budget, in report order. */
function partlyAnalysedFiles(report: CheckReport): PartlyAnalysed[] {
  const byPath = new Map<string, PartlyAnalysed>();
  for (const note of report.notes) {
    if (note.kind !== 'syntax-error' && note.kind !== 'truncated') continue;
    let file = byPath.get(note.path);
    if (!file) byPath.set(note.path, (file = { path: note.path, reasons: [] }));
    if (note.kind === 'truncated') {
      file.reasons.push('time budget');
      continue;
    }
    if (file.reasons.some((reason) => reason.startsWith('syntax error'))) continue;
    const cell = note.cell === undefined ? '' : `cell ${note.cell} `;
    file.reasons.push(`syntax error at ${cell}line ${note.line}`);
  }
  return [...byPath.values()];
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
