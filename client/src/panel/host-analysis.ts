/**
 * The panel's analysis run by the extension host for the webview (the webview asks with an `analyse` message
 * when the host is the fastest path it has: see `webview/choose-backend.ts`). The host already holds the
 * capture's bytes; it runs the engine's host kernel on every core (`configureParallelKernels`) and sends back
 * everything but the tensors. Node-side, without `vscode`, so that the browser tests' stand-in host and the
 * benchmark run the same code. Bundled on its own (`client/out/host-analysis.js`, with TensorFlow.js's backends
 * that the engine imports): the extension host loads it on the first `analyse`, not at activation.
 */
import { configureParallelKernels } from '../../../server/src/losses/parallel';
import { decodeCaptureTensors } from '../capture/tensors';
import { limitElements } from '../capture/sample';
import { TENSOR_ROLES } from '../capture/record';
import { pairingOf, type HostAnalysis, type PanelCapture } from './messages';
import { analyseCapture, analysisHistograms } from './webview/compute';

let threadsConfigured = false;

/**
 * Starts the kernel's worker threads (idempotent). The panel calls it when it shows captures, so that the threads
 * start (tens of milliseconds: a thread, its bundle, the SIMD module) while the webview chooses its backend, not
 * after it asked the host to compute.
 */
export function prepareHostAnalysis(): void {
  if (threadsConfigured) return;
  configureParallelKernels();
  threadsConfigured = true;
}

export async function analyseOnHost(capture: PanelCapture, findings: readonly string[], maxElements: number): Promise<{ analysis: HostAnalysis; note?: string }> {
  prepareHostAnalysis();
  const decoded = decodeCaptureTensors(capture.record, (file) => {
    const role = TENSOR_ROLES.find((name) => capture.record.tensors[name]?.file === file);
    const bytes = role ? capture.files?.[role] : undefined;
    if (!bytes) throw new Error(`the host has no bytes for ${file}`);
    return bytes;
  });
  const limited = limitElements(decoded, maxElements);
  const { request: _tensors, elementLosses, trueClassProbability, ...analysis } = await analyseCapture(capture.record, limited.tensors, 'js', findings, pairingOf(capture));
  return {
    analysis: { ...analysis, histograms: analysisHistograms({ elementLosses, trueClassProbability }), threads: analysis.result?.threads },
    note: limited.note,
  };
}
