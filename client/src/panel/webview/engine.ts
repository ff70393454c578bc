/**
 * The loss engine as the panel uses it: PyTorch-exact losses and run-time checks from
 * `server/src/losses`, with the WASM backend pointed at the `.wasm` files shipped next to the
 * bundle (the webview page names their folder in `data-wasm-folder`; Node finds them itself).
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { LossRequest, LossResult } from '../../../../server/src/losses/api';
import { computeElementPass as engineElementPass, computeLoss as engineComputeLoss, type BackendChoice, type ElementPassResult } from '../../../../server/src/losses/engine';

export { targetClasses } from '../../../../server/src/losses/checks';
export type { BackendChoice, ElementPassResult };

let wasmConfigured = false;

function configureWasm(): void {
  if (wasmConfigured) return;
  wasmConfigured = true;
  const folder = typeof document !== 'undefined' ? document.body?.dataset.wasmFolder : undefined;
  if (folder) setWasmPaths(folder);
}

export async function computeLoss(request: LossRequest, backend: BackendChoice): Promise<LossResult> {
  configureWasm();
  return engineComputeLoss(request, { backend });
}

/** The engine's one-pass analysis when the backend is the host kernel (null otherwise: then `computeLoss`). */
export async function computeElementPass(request: LossRequest, backend: BackendChoice): Promise<ElementPassResult | null> {
  configureWasm();
  return engineElementPass(request, { backend });
}
