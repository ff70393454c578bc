import type { AnalysisOptions, AnalysisResult, Finding, Position, ProgramSource, TextEdit } from '../analysis/types';
import { rewriteCellSources } from '../notebook/ipynb';
import { isReadFailure, ProgramFile, programFileFromText, programSourceOf } from './program-file';

/**
 * `fix` on one program: apply every preferred fix, re-analyse, and repeat while fixes still apply, because one
 * fix can reveal or re-position another (a dropped softmax shifts the columns of the loss call after it).
 * A fix that saved captures refute (the captured input is raw logits after all) is never applied: it would edit
 * working code.
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
  /** Another file of the project (an imported module), for fixes that edit where the activation was applied. */
  file?: string;
  cell: number | undefined;
  start: number;
  end: number;
  newText: string;
}

/** The engine, possibly in another thread (`IsolatedAnalyzer`). */
export type AnalyzeFunction = (source: ProgramSource, options: AnalysisOptions) => Promise<AnalysisResult>;

/** The captures' verdicts on one round's analysis (`withSavedCaptures`): `confirmation` on the findings they speak for. */
export type ConfirmFunction = (program: ProgramFile, result: AnalysisResult) => Promise<AnalysisResult>;

/** The project's other files, for fixes whose edits reach into an imported module; `write` throws when it cannot. */
export interface ModuleFiles {
  read(file: string): string | undefined;
  write(file: string, text: string): void;
}

export async function fixProgram(
  analyze: AnalyzeFunction,
  original: ProgramFile,
  options: AnalysisOptions,
  fsPath?: string,
  modules?: ModuleFiles,
  confirm?: ConfirmFunction,
): Promise<FixOutcome> {
  const analyzeWithCaptures = async (program: ProgramFile) => {
    const result = await analyze(programSourceOf(program, fsPath), options);
    return confirm ? confirm(program, result) : result;
  };
  let program = original;
  let result = await analyzeWithCaptures(program);
  let fixed = 0;
  // The edits of refuted fixes, kept in step with the text: once a round edits a captured call (another finding's
  // fix there), its capture no longer matches and the next round would see the refuted finding as uncaptured.
  let withheld: OffsetEdit[] = [];
  for (let round = 0; round < MAX_FIX_ROUNDS; round++) {
    const moduleTexts = new Map<string, string | undefined>();
    const readModule = (file: string) => {
      if (!moduleTexts.has(file)) moduleTexts.set(file, modules?.read(file));
      return moduleTexts.get(file);
    };
    const { edits, count, refuted } = chooseNonOverlappingFixes(program, result.findings, readModule, withheld);
    withheld = [...withheld, ...refuted.filter((edit) => !withheld.some((other) => sameOffsetEdit(edit, other)))];
    if (count === 0) break;
    const own = edits.filter((edit) => edit.file === undefined);
    const next = own.length > 0 ? programWithEdits(program, own) : program;
    const moduleEdits = edits.filter((edit) => edit.file !== undefined);
    // The modules first: if one cannot be written, the program keeps its text too (a fix is all or nothing).
    for (const file of new Set(moduleEdits.map((edit) => edit.file!))) {
      modules!.write(file, applyOffsetEdits(readModule(file)!, moduleEdits.filter((edit) => edit.file === file)));
    }
    if (next.text === program.text && moduleEdits.length === 0) break;
    program = next;
    fixed += count;
    withheld = withheld.map((edit) => shiftedPast(edit, edits));
    result = await analyzeWithCaptures(program);
  }
  return { program, result, fixed };
}

/**
 * Takes the fixes in finding order and keeps each one whose edits all land in known units and overlap none
 * already kept; a fix is all or nothing. Findings that share one fix (one softmax feeding two losses) count
 * as fixed by it without applying it twice. The fixes that captures refute are returned in `refuted`; no fix that
 * edits their text, or a `withheld` one's, is kept (one softmax feeding a refuted and a confirmed call stays).
 */
function chooseNonOverlappingFixes(
  program: ProgramFile,
  findings: readonly Finding[],
  readModule: (file: string) => string | undefined,
  withheld: readonly OffsetEdit[],
): { edits: OffsetEdit[]; count: number; refuted: OffsetEdit[] } {
  const offsetEditsOf = (finding: Finding): OffsetEdit[] | undefined => {
    const edits = finding.fix!.edits.map((edit) => toOffsetEdit(program, edit, readModule));
    return edits.some((edit) => edit === undefined) ? undefined : (edits as OffsetEdit[]);
  };
  const refutedFindings = findings.filter((finding) => finding.fix && finding.confirmation?.verdict === 'refuted');
  const refuted = refutedFindings.flatMap((finding) => offsetEditsOf(finding) ?? []);
  const untouchable = [...withheld, ...refuted];
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
    const candidate = offsetEditsOf(finding);
    if (!candidate) continue;
    const clashes = candidate.some(
      (edit, i) => kept.some((other) => overlaps(edit, other)) || untouchable.some((other) => overlaps(edit, other)) || candidate.slice(0, i).some((other) => overlaps(edit, other)),
    );
    if (clashes) continue;
    kept.push(...candidate);
    keptFixes.add(identity);
    count++;
  }
  return { edits: kept, count, refuted };
}

function sameOffsetEdit(a: OffsetEdit, b: OffsetEdit): boolean {
  return a.file === b.file && a.cell === b.cell && a.start === b.start && a.end === b.end && a.newText === b.newText;
}

/** Where a withheld edit's text is after `applied` (none of which overlaps it). */
function shiftedPast(edit: OffsetEdit, applied: readonly OffsetEdit[]): OffsetEdit {
  let shift = 0;
  for (const other of applied) {
    if (other.file === edit.file && other.cell === edit.cell && other.end <= edit.start) shift += other.newText.length - (other.end - other.start);
  }
  return { ...edit, start: edit.start + shift, end: edit.end + shift };
}

function toOffsetEdit(program: ProgramFile, edit: TextEdit, readModule: (file: string) => string | undefined): OffsetEdit | undefined {
  const file = edit.location.file;
  const text = file === undefined ? program.units.get(edit.location.cell) : readModule(file);
  if (text === undefined) return undefined;
  const start = offsetAt(text, edit.location.range.start);
  const end = offsetAt(text, edit.location.range.end);
  if (start === undefined || end === undefined || end < start) return undefined;
  return { ...(file === undefined ? {} : { file }), cell: edit.location.cell, start, end, newText: edit.newText };
}

function overlaps(a: OffsetEdit, b: OffsetEdit): boolean {
  if (a.file !== b.file || a.cell !== b.cell) return false;
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

/** Non-overlapping edits of one text, applied from the end so that earlier offsets stay valid. */
function applyOffsetEdits(text: string, edits: readonly OffsetEdit[]): string {
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) text = text.slice(0, edit.start) + edit.newText + text.slice(edit.end);
  return text;
}

function programWithEdits(program: ProgramFile, edits: readonly OffsetEdit[]): ProgramFile {
  const newUnitTexts = new Map<number | undefined, string>();
  for (const cell of new Set(edits.map((edit) => edit.cell))) {
    newUnitTexts.set(cell, applyOffsetEdits(program.units.get(cell)!, edits.filter((edit) => edit.cell === cell)));
  }
  const text =
    program.kind === 'file'
      ? newUnitTexts.get(undefined)!
      : rewriteCellSources(program.text, newUnitTexts as Map<number, string>);
  const next = programFileFromText(program.kind, text, program.hasByteOrderMark, program.isValidUtf8);
  if (isReadFailure(next)) throw new Error(`the fixed notebook no longer reads back: ${next.error}`);
  return next;
}
