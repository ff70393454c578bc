/** Pairs captures with the loss calls the language server reports, as the CLI and the server do (`server/src/captures/match.ts`). */
import { matchCapture, type CaptureMatch, type CurrentCode } from '../../../server/src/captures/match';
import type { PanelCapture, PanelLossCall } from './messages';

/**
 * The loss call a capture belongs to, and whether it is stale; `code` is the notebook's Python code cells as they are
 * now (by notebook index, as the calls' cells), without which only the recorded call text can make it stale.
 */
export function matchCall(capture: PanelCapture, calls: PanelLossCall[], code?: CurrentCode): CaptureMatch | undefined {
  return matchCapture(capture, calls.map((call) => ({ ...call, lineText: call.lineText ?? call.text.split('\n')[0].trim() })), code);
}
