/**
 * Which loss call a capture belongs to, and whether the code changed since it was taken. One function for the
 * panel (client) and the confirmation of findings (CLI, language server), so that they pair captures alike.
 *
 * Browser-safe.
 */
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

export interface CaptureMatch {
  callId: string;
  /** The call's code changed since the capture was taken: its tensors say nothing about the code as it is. */
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
 * `cellText` gives a notebook cell's current source.
 */
export function matchCapture(capture: PlacedCapture, calls: readonly MatchableCall[], cellText?: (cell: number) => string | undefined): CaptureMatch | undefined {
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
  const now = capture.cell === undefined ? undefined : cellText?.(capture.cell);
  const stale = source.cellText !== undefined && now !== undefined && now.trimEnd() !== source.cellText.trimEnd();
  return { callId: paired.id, stale, certain };
}
