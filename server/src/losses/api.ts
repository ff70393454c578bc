/**
 * The loss engine's public contract, shared by `loss-lens loss`, the extension host and the panel's webview.
 * Everything here is browser-safe: no Node modules (the Node-only backend loader lives apart).
 */

export type LossName = 'cross_entropy' | 'nll_loss' | 'binary_cross_entropy' | 'binary_cross_entropy_with_logits';
export type Reduction = 'mean' | 'sum' | 'none';
export type BackendName = 'cpu' | 'wasm' | 'webgl' | 'webgpu' | 'tfjs-node-gpu';

export type DType =
  | 'float16' | 'float32' | 'float64'
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'bool';

/** A tensor in host memory, row-major. Integer dtypes of 64 bits hold their values in a BigInt64Array/BigUint64Array. */
export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;
}

export interface LossRequest {
  loss: LossName;
  input: HostTensor;
  target: HostTensor;
  weight?: HostTensor;
  posWeight?: HostTensor;
  /** Default -100. */
  ignoreIndex?: number;
  /** Default 0. */
  labelSmoothing?: number;
  /** Default 'mean'. */
  reduction?: Reduction;
  /** Also compute d(loss)/d(input) (for 'none', of the sum of the element losses). */
  withGradient?: boolean;
}

export interface RuntimeCheck {
  /** A run-time rule ID of the catalogue (`input-rows-sum-to-one`, `class-imbalance`, ...). */
  rule: string;
  severity: 'error' | 'warning' | 'information' | 'hint';
  message: string;
  /** Code ready to paste, for `class-imbalance` (e.g. `weight=torch.tensor([...])`). */
  suggestion?: string;
}

export interface LossResult {
  loss: LossName;
  reduction: Reduction;
  /** The reduced value; null for reduction 'none'. */
  value: number | null;
  /** Per-element losses for reduction 'none' (row-major), with their shape. */
  shape: number[];
  values: Float64Array | null;
  gradient?: HostTensor;
  /** The backend that really ran (a GPU backend that fell back says so here, e.g. 'cpu'). */
  backend: string;
  /** Precision the backend offers: 'float32', 'float64', or 'float16' for WebGL without float32 textures. */
  precision: string;
  /** Time of the computation alone, read back to the host. */
  ms: number;
  /** Threads the host kernel ran on, when more than one (Node's worker threads); absent otherwise. */
  threads?: number;
}

/** A PyTorch error case: the message is worded as PyTorch words it. */
export class LossError extends Error {}
