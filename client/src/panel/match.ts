/** Pairs captures with the loss calls the language server reports. vscode-free, so it is unit-tested. */
import type { PanelCapture, PanelLossCall } from './messages';

/** The loss call a capture belongs to: its cell's call at the captured line, else the cell's only (or first) call. */
export function matchCall(capture: PanelCapture, calls: PanelLossCall[]): string | undefined {
  const cell = capture.record.source.cell ?? capture.cell;
  const inCell = calls.filter((call) => call.cell === cell);
  const atLine = inCell.find((call) => call.line === capture.record.source.line);
  if (atLine) return atLine.id;
  const sameLoss = inCell.find((call) => call.loss === capture.record.loss);
  if (sameLoss) return sameLoss.id;
  // A helper capture sits in its own cell, usually after the training step: the nearest call above.
  const above = calls.filter((call) => cell !== undefined && call.cell < cell && call.loss === capture.record.loss);
  return (above[above.length - 1] ?? inCell[0])?.id;
}
