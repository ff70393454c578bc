/**
 * The loss engine: validates a request as PyTorch would, runs it on a backend, and reports what really ran.
 * Browser-safe (the panel's webview imports it); the Node-only parts (wasm file paths, tfjs-node-gpu) live in
 * `node-backends.ts` and plug in through `registerExternalBackend` and `setWasmPaths`.
 */
import * as tf from '@tensorflow/tfjs-core';
// Named imports, not bare ones: esbuild drops a bare import of a package whose `sideEffects` list omits the
// file it resolves to (the node builds of the cpu and webgl backends), and the backends would never register.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { version_webgl } from '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import type { BackendName, HostTensor, LossRequest, LossResult } from './api';
import { type BlockPartial, type ElementPassInput, type ElementPassOutput, runElementPass } from './element-pass';
import { indexDenominator, KernelOutput, reduce, RowStatistics, runHostKernel, usesRowStatistics } from './host-kernel';
import { TensorFlow, tfjsElementLosses } from './tfjs-kernel';
import { LossPlan, planLoss } from './validate';

/** `js` is the host kernel (plain JavaScript, float64 arithmetic); `auto` picks the fastest that works. */
export type BackendChoice = 'auto' | 'js' | BackendName;

export const BACKEND_CHOICES: BackendChoice[] = ['auto', 'js', 'cpu', 'wasm', 'webgl', 'webgpu', 'tfjs-node-gpu'];

export interface ComputeOptions {
  backend?: BackendChoice;
  /** Compute this many times after one warm-up run; `ms` is then the median. */
  repeat?: number;
}

/** The TensorFlow.js version behind each bundled backend, for reports. */
export const TENSORFLOW_JS_VERSIONS: Record<string, string> = { cpu: version_cpu, wasm: version_wasm, webgl: version_webgl, webgpu: tf.version_core };

/** A backend that was asked for but cannot run here: the message says why and what to do. */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

/** A TensorFlow.js instance other than the bundled one (tfjs-node-gpu brings its own), ready to compute. */
export interface ExternalBackend {
  tf: TensorFlow;
  /** What really ran, e.g. 'tfjs-node-gpu (CUDA)' or 'tfjs-node-gpu (CPU fallback)'. */
  label: string;
  usesGpu: boolean;
}

const externalLoaders = new Map<BackendName, () => Promise<ExternalBackend>>();

/** Lets an environment provide a backend the browser-safe core cannot load itself (tfjs-node-gpu in Node). */
export function registerExternalBackend(name: BackendName, load: () => Promise<ExternalBackend>): void {
  externalLoaders.set(name, load);
}

/** Below this many input elements the host kernel wins on any device (upload and read-back dominate). */
const GPU_WORTHWHILE_ELEMENTS = 1 << 16;

interface ResolvedBackend {
  label: string;
  precision: string;
  /** null: the host kernel. */
  tf: TensorFlow | null;
}

/** Node (the CLI, the extension host) has no WebGL or WebGPU; a page or a web worker may. */
function isNode(): boolean {
  return typeof process !== 'undefined' && Boolean(process.versions?.node);
}

let prodModeSet = false;

async function useBundledBackend(name: 'cpu' | 'wasm' | 'webgl' | 'webgpu'): Promise<ResolvedBackend> {
  if (!prodModeSet) {
    // Production mode silences TensorFlow.js's console advice (e.g. "install the node backend") and debug checks.
    tf.enableProdMode();
    prodModeSet = true;
  }
  if ((name === 'webgl' || name === 'webgpu') && isNode()) {
    throw new BackendUnavailableError(`backend '${name}' needs a browser (the panel's webview); here use cpu, wasm, js or tfjs-node-gpu`);
  }
  let ok = false;
  let reason = '';
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
  }
  if (!ok || tf.getBackend() !== name) {
    throw new BackendUnavailableError(`backend '${name}' failed to start${reason ? `: ${reason}` : ''}`);
  }
  let precision = 'float32';
  if (name === 'webgl' && !tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')) precision = 'float16';
  return { label: name, precision, tf: tf as TensorFlow };
}

async function useExternalBackend(name: BackendName): Promise<ExternalBackend> {
  const load = externalLoaders.get(name);
  if (!load) throw new BackendUnavailableError(`backend '${name}' is not available in this environment`);
  return load();
}

async function resolveBackend(choice: BackendChoice, plan: LossPlan): Promise<ResolvedBackend> {
  // TensorFlow.js has no float64: float64 inputs always run on the host kernel, whatever was asked.
  if (plan.resultDType === 'float64') return { label: 'js-float64', precision: 'float64', tf: null };
  // The host kernel's float32 fast paths take exponentials in float32 (SIMD) and sum in float64.
  if (choice === 'js') return { label: 'js', precision: 'float32', tf: null };
  if (choice === 'tfjs-node-gpu') {
    const external = await useExternalBackend('tfjs-node-gpu');
    return { label: external.label, precision: 'float32', tf: external.tf };
  }
  if (choice !== 'auto') return useBundledBackend(choice);
  // auto: a real GPU when one is there and the input is big enough to pay for the transfers, else the host kernel,
  // which outruns TensorFlow.js's cpu and wasm backends (bench/loss-bench.ts).
  if (plan.input.length >= GPU_WORTHWHILE_ELEMENTS) {
    if (externalLoaders.has('tfjs-node-gpu')) {
      try {
        const external = await useExternalBackend('tfjs-node-gpu');
        if (external.usesGpu) return { label: external.label, precision: 'float32', tf: external.tf };
      } catch {
        // Not installed or not working: the host kernel follows.
      }
    }
    if (!isNode()) {
      for (const name of ['webgpu', 'webgl'] as const) {
        try {
          const resolved = await useBundledBackend(name);
          if (resolved.precision === 'float32') return resolved;
        } catch {
          // This GPU API is missing here: try the next.
        }
      }
    }
  }
  return { label: 'js', precision: 'float32', tf: null };
}

/** Smallest normal float32: GPUs flush smaller values to 0, whose log they get wrong (WebGL's log(0) is about -88). */
const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

/**
 * Whether element i's loss must be decided on the host: GPUs have their own rules for NaN and infinities
 * (WebGL's 0/0 is 1, its max ignores NaN) and for logs of 0 and of subnormals (BCE's -100 clamp).
 */
function hostDecides(plan: LossPlan, i: number, device: number, exact: number): boolean {
  if (exact - exact !== 0 || device - device !== 0) return true;
  if (plan.loss !== 'binary_cross_entropy') return false;
  const p = plan.input[i];
  return p < FLOAT32_MIN_NORMAL || p === 1;
}

function needsHostElements(plan: LossPlan, device: Float64Array): boolean {
  for (let i = 0; i < device.length; i++) if (device[i] - device[i] !== 0) return true;
  const arrays = plan.family === 'binary' ? [plan.input, plan.target] : [plan.input, plan.targetProbability ?? new Float64Array(0)];
  for (const values of arrays) {
    for (let i = 0; i < values.length; i++) if (values[i] - values[i] !== 0) return true;
  }
  if (plan.loss === 'binary_cross_entropy') {
    for (let i = 0; i < plan.input.length; i++) if (plan.input[i] < FLOAT32_MIN_NORMAL || plan.input[i] === 1) return true;
  }
  return false;
}

/** One computation on a TensorFlow.js backend: device element losses, host reduction, host NaN and clamp decisions. */
async function runOnTensorFlow(tfInstance: TensorFlow, plan: LossPlan, hostFallback: () => KernelOutput): Promise<KernelOutput> {
  const values = Float64Array.from(await tfjsElementLosses(tfInstance, plan));
  if (needsHostElements(plan, values)) {
    const exact = hostFallback().values!;
    for (let i = 0; i < values.length; i++) if (hostDecides(plan, i, values[i], exact[i])) values[i] = exact[i];
  }
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  let denominator = 1;
  if (plan.reduction === 'mean') {
    if (plan.family === 'binary') denominator = values.length;
    else denominator = plan.targetKind === 'index' ? indexDenominator(plan) : plan.batch * plan.inner;
  }
  return { total, denominator, values: plan.reduction === 'none' ? values : null, gradient: null };
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Computes a loss with PyTorch's semantics. Throws `LossError` (PyTorch's wording) for a case PyTorch rejects,
 * `BackendUnavailableError` when the requested backend cannot run here.
 */
export async function computeLoss(request: LossRequest, options: ComputeOptions = {}): Promise<LossResult> {
  const plan = planLoss(request);
  const backend = await resolveBackend(options.backend ?? 'auto', plan);
  const hostNone = () => runHostKernel({ ...plan, reduction: 'none' }, false);
  let threads = 1;
  const onHost = async (): Promise<KernelOutput> => {
    // Index-target cross_entropy on float32 rows: the rows' max and sum(exp) on every thread, the rest here.
    const statistics = usesRowStatistics(plan, false) ? parallelKernels?.rowStatistics(plan.input as Float32Array, plan.batch, plan.classes) : null;
    if (statistics) threads = parallelKernels!.threads;
    return runHostKernel(plan, false, statistics ? await statistics : undefined);
  };
  const once = () => (backend.tf ? runOnTensorFlow(backend.tf, plan, hostNone) : onHost());

  const repeat = Math.max(1, Math.floor(options.repeat ?? 1));
  if (options.repeat !== undefined) await once(); // the warm-up run: compiles shaders, warms the JIT
  const samples: number[] = [];
  let output: KernelOutput | undefined;
  for (let i = 0; i < repeat; i++) {
    const start = performance.now();
    output = await once();
    samples.push(performance.now() - start);
  }
  const result: LossResult = {
    loss: request.loss,
    reduction: plan.reduction,
    value: reduce(output!, plan.reduction),
    shape: plan.reduction === 'none' ? plan.outShape : [],
    values: output!.values,
    backend: backend.label,
    precision: backend.precision,
    ms: median(samples),
  };
  if (threads > 1) result.threads = threads;
  if (request.withGradient) result.gradient = gradientOf(plan, request.input);
  return result;
}

/** d(loss)/d(input), from the host kernel in float64 on every backend (documented in docs/losses.md). */
function gradientOf(plan: LossPlan, input: HostTensor): HostTensor {
  const gradient = runHostKernel(plan, true).gradient!;
  return plan.resultDType === 'float64'
    ? { dtype: 'float64', shape: input.shape, data: gradient }
    : { dtype: 'float32', shape: input.shape, data: Float32Array.from(gradient) };
}

/** The host kernel's multi-threaded paths (Node's worker threads: `parallel.ts`); each returns null to run here. */
export interface ParallelKernels {
  elementPass(input: ElementPassInput): Promise<{ output: ElementPassOutput; summary: BlockPartial }> | null;
  rowStatistics(x: Float32Array, rows: number, classes: number): Promise<RowStatistics> | null;
  threads: number;
}

let parallelKernels: ParallelKernels | undefined;

/** Lets an environment with threads (Node) run the host kernel's passes in parallel; undefined turns that off. */
export function registerParallelKernels(kernels: ParallelKernels | undefined): void {
  parallelKernels = kernels;
}

export interface ElementPassResult extends ElementPassOutput {
  /** The configured loss, as `computeLoss` reports it (without the gradient). */
  result: LossResult;
  summary: BlockPartial;
}

/**
 * The panel's one pass (`element-pass.ts`) for a class-index cross_entropy/nll_loss request that runs on the host
 * kernel: the loss, its per-element values, the true-class probabilities, the per-class table and the input's
 * statistics. Null when the request has probability targets, a binary loss, or the backend is a TensorFlow.js
 * one (the caller then uses `computeLoss`). Throws `LossError` as `computeLoss` does.
 */
export async function computeElementPass(request: LossRequest, options: ComputeOptions = {}): Promise<ElementPassResult | null> {
  const plan = planLoss(request);
  if (plan.family !== 'class' || plan.targetKind !== 'index') return null;
  const backend = await resolveBackend(options.backend ?? 'auto', plan);
  if (backend.tf) return null;
  const start = performance.now();
  const input: ElementPassInput = {
    x: plan.input, targets: plan.targetIndex!, batch: plan.batch, classes: plan.classes, inner: plan.inner, weight: plan.weight,
    ignoreIndex: plan.ignoreIndex, labelSmoothing: plan.labelSmoothing, crossEntropy: plan.loss === 'cross_entropy',
  };
  const parallel = parallelKernels?.elementPass(input);
  const { output, summary } = await (parallel ?? runElementPass(input));
  const output64: KernelOutput = { total: summary.total, denominator: plan.reduction === 'mean' ? summary.weightSum : 1, values: null, gradient: null };
  const result: LossResult = {
    loss: request.loss,
    reduction: plan.reduction,
    value: reduce(output64, plan.reduction),
    shape: plan.reduction === 'none' ? plan.outShape : [],
    values: plan.reduction === 'none' ? output.values : null,
    backend: backend.label,
    precision: backend.precision,
    ms: performance.now() - start,
  };
  if (parallel) result.threads = parallelKernels!.threads;
  return { result, summary, ...output };
}
