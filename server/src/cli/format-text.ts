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
  if (report.fixed !== undefined && report.fixed > 0) out.push(`Fixed ${plural(report.fixed, 'finding')}.`);
  out.push(summaryLine(report));
  if (report.diagnostics.length > 0 && report.errors.length > 0) out.push(`${plural(report.errors.length, 'path')} could not be read (listed on stderr).`);
  const fixable = report.diagnostics.filter((diagnostic) => diagnostic.fix).length;
  if (options.command === 'check' && fixable > 0) out.push(`${fixable} fixable with \`loss-lens fix\`.`);

  const err: string[] = [];
  for (const note of report.notes) err.push(`${place(note)}: ${paint(ANSI.dim, 'note')}: ${note.message}`);
  for (const error of report.errors) err.push(`${place(error)}: ${paint(ANSI.red, 'error')}: ${error.message}`);
  return { stdout: `${out.join('\n')}\n`, stderr: err.length > 0 ? `${err.join('\n')}\n` : '' };
}

function summaryLine(report: CheckReport): string {
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
    return `No findings in the ${plural(report.checked, 'file')} checked, but ${plural(report.errors.length, 'path')} could not be read (listed on stderr).`;
  }
  return 'All checks passed.';
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
