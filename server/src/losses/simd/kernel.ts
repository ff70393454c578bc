/**
 * The WebAssembly SIMD kernels of kernel.wat, for the host kernel's float32 fast paths. Browser-safe
 * (compiled synchronously from bytes: 1.2 KB); null where WebAssembly SIMD is missing, and the plain loops run.
 * Data is copied into the module's memory a chunk at a time, so memory stays at the input's size plus ~2 MB.
 */
import { SIMD_KERNEL_BASE64 } from './kernel-bytes';

interface KernelExports {
  memory: WebAssembly.Memory;
  rowMaxSumExp(x: number, rows: number, stride: number, out: number): void;
  planePass(x: number, classes: number, count: number, stride: number, targets: number, argOut: number, nlOut: number, probOut: number, stats: number): void;
  bceWithLogitsSum(x: number, y: number, count: number): number;
}

/** Floats per chunk copied into wasm memory (1 MiB). */
const CHUNK_FLOATS = 1 << 18;

export class SimdKernel {
  constructor(private readonly exports: KernelExports) {}

  private memoryFor(bytes: number): ArrayBuffer {
    const { memory } = this.exports;
    const missing = bytes - memory.buffer.byteLength;
    if (missing > 0) memory.grow(Math.ceil(missing / 65536));
    return memory.buffer;
  }

  /** Per row of `x` (`rows` x `classes`, row-major): its max and sum(exp(x - max)), into `maxOut` and `sumOut`. */
  rowMaxSumExp(x: Float32Array, rows: number, classes: number, maxOut: Float64Array, sumOut: Float64Array): void {
    const stride = (classes + 7) & ~7; // rows padded to pairs of f32x4 vectors with -inf, which adds nothing
    const chunkRows = Math.max(1, Math.floor(CHUNK_FLOATS / stride));
    const outOffset = chunkRows * stride * 4;
    const buffer = this.memoryFor(outOffset + chunkRows * 16);
    const floats = new Float32Array(buffer, 0, chunkRows * stride);
    const out = new Float64Array(buffer, outOffset, chunkRows * 2);
    if (stride !== classes) floats.fill(-Infinity);
    for (let first = 0; first < rows; first += chunkRows) {
      const count = Math.min(chunkRows, rows - first);
      if (stride === classes) {
        floats.set(x.subarray(first * classes, (first + count) * classes));
      } else {
        for (let row = 0; row < count; row++) floats.set(x.subarray((first + row) * classes, (first + row + 1) * classes), row * stride);
      }
      this.exports.rowMaxSumExp(0, count, stride, outOffset);
      for (let row = 0; row < count; row++) {
        maxOut[first + row] = out[2 * row];
        sumOut[first + row] = out[2 * row + 1];
      }
    }
  }

  /** The most positions one {@link planePass} takes for this class count: a multiple of 8, one chunk of memory when it fits. */
  planePositionsLimit(classes: number): number {
    return Math.max(8, Math.floor(CHUNK_FLOATS / classes) & ~7);
  }

  /**
   * The memory {@link planePass} reads, for `count` positions (a multiple of 8) of `classes` classes: the caller puts
   * class c of position k at `planes[c * count + k]` and position k's true class at `targets[k]` (-1: ignored).
   */
  planeInput(count: number, classes: number): { planes: Float32Array; targets: Int32Array } {
    const layout = planeLayout(count, classes);
    const buffer = this.memoryFor(layout.end);
    return { planes: new Float32Array(buffer, 0, classes * count), targets: new Int32Array(buffer, layout.targets, count) };
  }

  /**
   * Per position of the planes filled through {@link planeInput}: the argmax class, -log softmax(x)[t] and
   * softmax(x)[t] (exp in float32 on f32x4 lanes, sums and log in float64); over every score, the min and max of the
   * non-NaN ones and the sum (not finite when a NaN or an infinity is among them). Views on the module's memory:
   * valid until the next call.
   */
  planePass(count: number, classes: number): { argmax: Int32Array; negativeLogProbability: Float64Array; probability: Float64Array; min: number; max: number; sum: number } {
    const layout = planeLayout(count, classes);
    this.exports.planePass(0, classes, count, count, layout.targets, layout.argmax, layout.negativeLogProbability, layout.probability, layout.stats);
    const buffer = this.exports.memory.buffer;
    const stats = new Float64Array(buffer, layout.stats, 3);
    return {
      argmax: new Int32Array(buffer, layout.argmax, count),
      negativeLogProbability: new Float64Array(buffer, layout.negativeLogProbability, count),
      probability: new Float64Array(buffer, layout.probability, count),
      min: stats[0], max: stats[1], sum: stats[2],
    };
  }

  /** Sum of the first `count` (a multiple of 4) elements' binary_cross_entropy_with_logits losses. */
  bceWithLogitsSum(x: Float32Array, y: Float32Array, count: number): number {
    const yOffset = CHUNK_FLOATS * 4;
    const buffer = this.memoryFor(2 * yOffset);
    const xs = new Float32Array(buffer, 0, CHUNK_FLOATS);
    const ys = new Float32Array(buffer, yOffset, CHUNK_FLOATS);
    let total = 0;
    for (let first = 0; first < count; first += CHUNK_FLOATS) {
      const end = Math.min(count, first + CHUNK_FLOATS);
      xs.set(x.subarray(first, end));
      ys.set(y.subarray(first, end));
      total += this.exports.bceWithLogitsSum(0, yOffset, end - first);
    }
    return total;
  }
}

/** Byte offsets of planePass's arrays after the planes (count is a multiple of 8, so every array stays 32-byte aligned). */
function planeLayout(count: number, classes: number): { targets: number; argmax: number; negativeLogProbability: number; probability: number; stats: number; end: number } {
  const targets = classes * count * 4;
  const argmax = targets + count * 4;
  const negativeLogProbability = argmax + count * 4;
  const probability = negativeLogProbability + count * 8;
  const stats = probability + count * 8;
  return { targets, argmax, negativeLogProbability, probability, stats, end: stats + 24 };
}

let kernel: SimdKernel | null | undefined;

/** The SIMD kernel, or null where this runtime lacks WebAssembly SIMD. */
export function simdKernel(): SimdKernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const bytes = Uint8Array.from(atob(SIMD_KERNEL_BASE64), (char) => char.charCodeAt(0));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    kernel = new SimdKernel(instance.exports as unknown as KernelExports);
  } catch {
    kernel = null;
  }
  return kernel;
}
