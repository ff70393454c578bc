import type { AnalysisOptions, AnalysisResult, Finding, Position, ProgramSource, TextEdit } from '../analysis/types';
import { rewriteCellSources } from '../notebook/ipynb';
import { isReadFailure, ProgramFile, programFileFromText, programSourceOf } from './program-file';

/**
 * `fix` on one program: apply every preferred fix, re-analyse, and repeat while fixes still apply, because one
 * fix can reveal or re-position another (a dropped softmax shifts the columns of the loss call after it).
 */

/** Enough for any chain of dependent fixes seen in practice; a fix that keeps re-appearing cannot loop forever. */
export const MAX_FIX_ROUNDS = 10;

export interface FixOutcome {
  /** The program after the fixes (the input itself when nothing applied). */
  program: ProgramFile;
  /** The analysis of the fixed program: what remains. */
  result: AnalysisResult;
  /** How many findings the applied fixes addressed. */
  fixed: number;
}

interface OffsetEdit {
  cell: number | undefined;
  start: number;
  end: number;
  newText: string;
}

/** The engine, possibly in another thread (`IsolatedAnalyzer`). */
export type AnalyzeFunction = (source: ProgramSource, options: AnalysisOptions) => Promise<AnalysisResult>;

export async function fixProgram(analyze: AnalyzeFunction, original: ProgramFile, options: AnalysisOptions): Promise<FixOutcome> {
  let program = original;
  let result = await analyze(programSourceOf(program), options);
  let fixed = 0;
  for (let round = 0; round < MAX_FIX_ROUNDS; round++) {
    const { edits, count } = chooseNonOverlappingFixes(program, result.findings);
    if (count === 0) break;
    const next = programWithEdits(program, edits);
    if (next.text === program.text) break;
    program = next;
    fixed += count;
    result = await analyze(programSourceOf(program), options);
  }
  return { program, result, fixed };
}

/**
 * Takes the fixes in finding order and keeps each one whose edits all land in known units and overlap none
 * already kept; a fix is all or nothing. Findings that share one fix (one softmax feeding two losses) count
 * as fixed by it without applying it twice.
 */
function chooseNonOverlappingFixes(program: ProgramFile, findings: readonly Finding[]): { edits: OffsetEdit[]; count: number } {
  const kept: OffsetEdit[] = [];
  const keptFixes = new Set<string>();
  let count = 0;
  for (const finding of findings) {
    if (!finding.fix || finding.fix.edits.length === 0) continue;
    const identity = JSON.stringify(finding.fix.edits);
    if (keptFixes.has(identity)) {
      count++;
      continue;
    }
    const edits = finding.fix.edits.map((edit) => toOffsetEdit(program, edit));
    if (edits.some((edit) => edit === undefined)) continue;
    const candidate = edits as OffsetEdit[];
    const clashes = candidate.some((edit, i) => kept.some((other) => overlaps(edit, other)) || candidate.slice(0, i).some((other) => overlaps(edit, other)));
    if (clashes) continue;
    kept.push(...candidate);
    keptFixes.add(identity);
    count++;
  }
  return { edits: kept, count };
}

function toOffsetEdit(program: ProgramFile, edit: TextEdit): OffsetEdit | undefined {
  const text = program.units.get(edit.location.cell);
  if (text === undefined) return undefined;
  const start = offsetAt(text, edit.location.range.start);
  const end = offsetAt(text, edit.location.range.end);
  if (start === undefined || end === undefined || end < start) return undefined;
  return { cell: edit.location.cell, start, end, newText: edit.newText };
}

function overlaps(a: OffsetEdit, b: OffsetEdit): boolean {
  if (a.cell !== b.cell) return false;
  if (a.start === b.start) return true; // two inserts (or replacements) at one place: their order would be arbitrary
  return a.start < b.end && b.start < a.end;
}

/** The offset of a 0-based line/UTF-16 character position; lines end at `\n` (a `\r` before it belongs to the line). */
export function offsetAt(text: string, position: Position): number | undefined {
  let lineStart = 0;
  for (let line = 0; line < position.line; line++) {
    const newline = text.indexOf('\n', lineStart);
    if (newline < 0) return undefined;
    lineStart = newline + 1;
  }
  const lineEnd = text.indexOf('\n', lineStart);
  const offset = lineStart + position.character;
  return offset > (lineEnd < 0 ? text.length : lineEnd) ? undefined : offset;
}

function programWithEdits(program: ProgramFile, edits: readonly OffsetEdit[]): ProgramFile {
  const newUnitTexts = new Map<number | undefined, string>();
  for (const cell of new Set(edits.map((edit) => edit.cell))) {
    const unitEdits = edits.filter((edit) => edit.cell === cell).sort((a, b) => b.start - a.start);
    let text = program.units.get(cell)!;
    for (const edit of unitEdits) text = text.slice(0, edit.start) + edit.newText + text.slice(edit.end);
    newUnitTexts.set(cell, text);
  }
  const text =
    program.kind === 'file'
      ? newUnitTexts.get(undefined)!
      : rewriteCellSources(program.text, newUnitTexts as Map<number, string>);
  const next = programFileFromText(program.kind, text, program.hasByteOrderMark, program.isValidUtf8);
  if (isReadFailure(next)) throw new Error(`the fixed notebook no longer reads back: ${next.error}`);
  return next;
}
