/** Pairs captures with the loss calls the language server reports, as the CLI and the server do (`server/src/captures/match.ts`). */
import { matchCapture } from '../../../server/src/captures/match';
import type { PanelCapture, PanelLossCall } from './messages';

/** The loss call a capture belongs to. */
export function matchCall(capture: PanelCapture, calls: PanelLossCall[]): string | undefined {
  return matchCapture(capture, calls.map((call) => ({ ...call, lineText: call.lineText ?? call.text.split('\n')[0].trim() })))?.callId;
}
