/**
 * Which loss call a capture belongs to, and whether the code changed since it was taken. One function for the
 * panel (client) and the confirmation of findings (CLI, language server), so that they pair captures alike.
 *
 * Browser-safe.
 */
import { codeHash } from './fingerprint';
import type { CaptureRecord } from './record';

/** A loss call as matching sees it. */
export interface MatchableCall {
  id: string;
  /** The canonical loss name (`cross_entropy`, `keras:...`). */
  loss: string;
  /** Index of the cell that holds it; absent in a `.py` file. */
  cell?: number;
  /** 0-based line where the call starts. */
  line: number;
  /** The call's source text. */
  text: string;
  /** The text of the line where the call starts, trimmed. */
  lineText: string;
}

/** A capture, with the cell whose output holds it when it was saved in a notebook. */
export interface PlacedCapture {
  record: CaptureRecord;
  cell?: number;
}

/** A piece of the checked program as it is now: a notebook code cell (`cell` set) or a script. */
export interface CodeUnit {
  cell?: number;
  text: string;
}

/** A hash that no recorded fingerprint holds: a project module that cannot be read now. */
const UNREADABLE = '';

/** The program's code as matching reads it: each unit's text, and its `codeHash` computed once, when first asked. */
export interface CurrentCode {
  cellText(cell: number): string | undefined;
  units: readonly { cell?: number; hash(): string | undefined }[];
  /** The project modules the analysis followed from the program (their top level shapes what the code computes). */
  modules: readonly { hash(): string | undefined }[];
}

/**
 * The code as it is now: the program's units and, with `moduleText`, the project modules the analysis followed
 * (`AnalysisResult.modules`); a module `moduleText` cannot read counts as changed.
 */
export function currentCode(units: readonly CodeUnit[], modules: readonly string[] = [], moduleText?: (file: string) => string | undefined): CurrentCode {
  const texts = new Map(units.map((unit) => [unit.cell, unit.text]));
  return {
    cellText: (cell) => texts.get(cell),
    units: units.map((unit) => ({ cell: unit.cell, hash: once(() => codeHash(unit.text)) })),
    modules: moduleText ? modules.map((file) => ({ hash: once(() => {
      const text = moduleText(file);
      return text === undefined ? UNREADABLE : codeHash(text);
    }) })) : [],
  };
}

/**
 * `code` with its project modules given by their hashes, as the language server computed them (`lossLens/lossCalls`'s
 * `moduleHashes`, null for a module that holds no code): the panel reads no module itself.
 */
export function withModuleHashes(code: CurrentCode, hashes: readonly (string | null)[]): CurrentCode {
  return { ...code, modules: hashes.map((hash) => ({ hash: () => hash ?? undefined })) };
}

function once<T>(compute: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) [value, done] = [compute(), true];
    return value;
  };
}

export interface CaptureMatch {
  callId: string;
  /** The code the capture's tensors came from changed since it was taken: they say nothing about the code as it is. */
  stale: boolean;
  /**
   * The capture is certainly of this call: it names the call's line, or it is the only call of its loss where it was
   * looked for. A helper capture below several calls of the same loss may be of another one.
   */
  certain: boolean;
}

/**
 * Pairs a capture with a call.
 * - `loss_lens.watch` captures carry their line and its text: the call on that line, else a call whose line has that
 *   text (the code moved); a call on that line with another text now is stale.
 * - Kernel captures ("Inspect loss") carry cell, line and the call's text: the call there, stale when its text changed.
 * - Other helper captures belong to the cell whose output holds them: the call in that cell with the same loss, else
 *   the nearest call of that loss in a cell above; stale when that cell's source differs from the one the capture
 *   recorded (`source.cellText`).
 * A capture that records the fingerprint of its code (`source.codeHashes`) is stale, whatever the rules above say, when
 * a piece of the code it depends on is now none of the pieces it recorded (`codeIsUnchanged`); `code` is the program
 * as it is now. Without the fingerprint (older records) or `code`, the rules above decide alone.
 */
export function matchCapture(capture: PlacedCapture, calls: readonly MatchableCall[], code?: CurrentCode): CaptureMatch | undefined {
  const match = pairCapture(capture, calls, code);
  const recorded = capture.record.source.codeHashes;
  if (!match || !recorded || !code) return match;
  const paired = calls.find((call) => call.id === match.callId);
  return { ...match, stale: !codeIsUnchanged(recorded, paired?.cell, capture.record.source.cell ?? capture.cell, code) };
}

/**
 * Whether the code a capture's tensors depend on is, piece by piece, code it recorded (comment and whitespace edits
 * aside): in a notebook, every code cell up to the call's cell and the capture's own (a kernel's state is the result
 * of the cells it ran: an edit anywhere above, even in a cell that holds no loss call, may change the tensors); in a
 * script, the script; and the project modules the analysis followed (a softmax at the end of `forward` in
 * `model.py`). Pieces that hold no code are not counted.
 */
function codeIsUnchanged(recorded: readonly string[], callCell: number | undefined, captureCell: number | undefined, code: CurrentCode): boolean {
  const known = new Set(recorded);
  const limit = callCell === undefined ? undefined : Math.max(callCell, captureCell ?? callCell);
  const depended = [
    ...code.units.filter((unit) => (limit === undefined ? unit.cell === undefined : unit.cell !== undefined && unit.cell <= limit)),
    ...code.modules,
  ];
  return depended.every((piece) => {
    const hash = piece.hash();
    return hash === undefined || known.has(hash);
  });
}

/** The call a capture belongs to, and whether its text changed, by the rules above that read the recorded text. */
function pairCapture(capture: PlacedCapture, calls: readonly MatchableCall[], code: CurrentCode | undefined): CaptureMatch | undefined {
  const source = capture.record.source;
  const cell = source.cell ?? capture.cell;
  const inCell = calls.filter((call) => call.cell === cell);
  const atLine = source.line === undefined ? undefined : inCell.find((call) => call.line === source.line);

  if (source.lineText !== undefined) {
    const recorded = source.lineText.trim();
    if (atLine?.lineText === recorded) return { callId: atLine.id, stale: false, certain: true };
    const moved = inCell.find((call) => call.lineText === recorded);
    if (moved) return { callId: moved.id, stale: false, certain: true };
    if (atLine) return { callId: atLine.id, stale: true, certain: true };
    // A script's line that holds no loss call any more: the capture says nothing about this code.
    if (cell === undefined) return undefined;
  }

  if (source.via === 'kernel' && source.call !== undefined) {
    if (atLine) return { callId: atLine.id, stale: atLine.text !== source.call, certain: true };
    const moved = inCell.find((call) => call.text === source.call);
    if (moved) return { callId: moved.id, stale: false, certain: true };
  }

  const sameLossInCell = inCell.filter((call) => call.loss === capture.record.loss);
  // A helper capture sits in its own cell, usually after the training step: the nearest call above.
  const sameLossAbove = calls.filter((call) => cell !== undefined && call.cell !== undefined && call.cell < cell && call.loss === capture.record.loss);
  let paired: MatchableCall | undefined;
  let certain: boolean;
  if (atLine) [paired, certain] = [atLine, true];
  else if (sameLossInCell.length > 0) [paired, certain] = [sameLossInCell[0], sameLossInCell.length === 1];
  else if (sameLossAbove.length > 0) [paired, certain] = [sameLossAbove[sameLossAbove.length - 1], sameLossAbove.length === 1];
  else [paired, certain] = [inCell[0], inCell.length === 1];
  if (!paired) return undefined;
  const now = capture.cell === undefined ? undefined : code?.cellText(capture.cell);
  const stale = source.cellText !== undefined && now !== undefined && now.trimEnd() !== source.cellText.trimEnd();
  return { callId: paired.id, stale, certain };
}
