import type { Severity } from '../analysis/types';
import { summaryLines } from './format-text';
import type { CheckReport } from './report';

/**
 * GitHub Actions workflow commands (`::error file=...,line=...::message`), which the runner turns into annotations on
 * the pull request's files, as Ruff's and ESLint's `github` formats do. The summary follows as plain log lines.
 *
 * A notebook's lines are relative to a cell, while an annotation's line is a line of the `.ipynb` file (its JSON):
 * a finding in a notebook is annotated on the file without a line, its cell and place at the front of the message.
 */

const COMMAND: Record<Severity, 'error' | 'warning' | 'notice'> = { error: 'error', warning: 'warning', information: 'notice', hint: 'notice' };

export function formatGithub(report: CheckReport, command: 'check' | 'fix'): string {
  const lines: string[] = [];
  for (const diagnostic of report.diagnostics) {
    const inCell = diagnostic.cell !== undefined;
    const properties: [string, string | number][] = [['file', repositoryPath(diagnostic.path)]];
    if (!inCell) {
      properties.push(['line', diagnostic.line], ['col', diagnostic.column], ['endLine', diagnostic.endLine], ['endColumn', diagnostic.endColumn]);
    }
    properties.push(['title', `loss-lens (${diagnostic.rule})`]);
    const place = inCell ? `cell ${diagnostic.cell}, line ${diagnostic.line}, column ${diagnostic.column}: ` : '';
    lines.push(workflowCommand(COMMAND[diagnostic.severity], properties, `${place}${diagnostic.message}`));
  }
  for (const note of report.notes) {
    const properties: [string, string | number][] = [['file', repositoryPath(note.path)]];
    if (note.line !== undefined && note.cell === undefined) properties.push(['line', note.line], ['col', note.column ?? 1]);
    properties.push(['title', `loss-lens (${note.kind})`]);
    const place = note.cell === undefined ? '' : `cell ${note.cell}, line ${note.line}, column ${note.column}: `;
    lines.push(workflowCommand('warning', properties, `${place}${note.message}`));
  }
  for (const error of report.errors) lines.push(workflowCommand('error', [['file', repositoryPath(error.path)], ['title', 'loss-lens']], error.message));
  lines.push(...summaryLines(report, command));
  return `${lines.join('\n')}\n`;
}

/** The runner matches `file` against the checkout's paths: `./src/a.py` (from `check .`) must read `src/a.py`. */
function repositoryPath(displayPath: string): string {
  return displayPath.replace(/^(\.\/)+/, '');
}

/** `::name key=value,...::message`, escaped as the runner unescapes them (actions/toolkit's command.ts). */
function workflowCommand(name: string, properties: [string, string | number][], message: string): string {
  const props = properties.map(([key, value]) => `${key}=${escapeProperty(String(value))}`).join(',');
  return `::${name} ${props}::${escapeData(message)}`;
}

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
