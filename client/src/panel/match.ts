/**
 * The panel's loss calls and the pairing of its captures with them, as the CLI and the language server pair them
 * (`server/src/captures/match.ts`). Without `vscode`: the provider and the tests that put the panel beside the
 * diagnostics run the same code.
 */
import { matchCapture, type CaptureMatch, type CurrentCode } from '../../../server/src/captures/match';
import type { DocumentLossCall } from '../../../server/src/protocol';
import type { PanelCapture, PanelLossCall } from './messages';

/** A loss call of `lossLens/lossCalls` as the panel lists it; `cellText` is the source of the notebook cell `cell` that holds it. */
export function panelLossCall(call: DocumentLossCall, cell: number, cellText: string): PanelLossCall {
  const lines = cellText.split(/\r?\n/);
  const { start, end } = call.location.range;
  const text = start.line === end.line
    ? (lines[start.line] ?? '').slice(start.character, end.character)
    : [(lines[start.line] ?? '').slice(start.character), ...lines.slice(start.line + 1, end.line), (lines[end.line] ?? '').slice(0, end.character)].join('\n');
  return {
    id: `${cell}:${start.line}:${start.character}`,
    loss: call.loss,
    cell,
    line: start.line,
    text: text.slice(0, 200),
    lineText: (lines[start.line] ?? '').trim(),
    inputExpression: call.inputExpression,
    targetExpression: call.targetExpression,
    options: call.options,
    findings: call.findings,
    editable: call.framework === 'pytorch',
  };
}

/**
 * The loss call a capture belongs to, and whether it is stale or may be of another call; `code` is the notebook's
 * Python code cells as they are now (`currentCode`, by notebook index as the calls' cells).
 */
export function matchCall(capture: PanelCapture, calls: PanelLossCall[], code?: CurrentCode): CaptureMatch | undefined {
  return matchCapture(capture, calls.map((call) => ({ ...call, lineText: call.lineText ?? call.text.split('\n')[0].trim() })), code);
}

/** The captures paired with the calls (a capture paired with none is kept as it is), so the panel's verdicts are the diagnostics'. */
export function pairCaptures(captures: readonly PanelCapture[], calls: PanelLossCall[], code: CurrentCode): PanelCapture[] {
  return captures.map((capture) => {
    const match = matchCall(capture, calls, code);
    return match ? { ...capture, callId: match.callId, stale: match.stale, certain: match.certain } : capture;
  });
}
