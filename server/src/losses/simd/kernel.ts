/**
 * The WebAssembly SIMD kernels of kernel.wat, for the host kernel's float32 fast paths. Browser-safe
 * (compiled synchronously from bytes: 1.2 KB); null where WebAssembly SIMD is missing, and the plain loops run.
 * Data is copied into the module's memory a chunk at a time, so memory stays at the input's size plus ~2 MB.
 */
import { SIMD_KERNEL_BASE64 } from './kernel-bytes';

interface KernelExports {
  memory: WebAssembly.Memory;
  rowMaxSumExp(x: number, rows: number, stride: number, out: number): void;
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

  /** The most rows one {@link rowMaxSumExpFilled} call takes for this class count (one chunk of the module's memory). */
  filledRowsLimit(classes: number): number {
    return Math.max(1, Math.floor(CHUNK_FLOATS / ((classes + 7) & ~7)));
  }

  /**
   * {@link rowMaxSumExp} on rows the caller writes straight into the module's memory, for inputs whose class axis
   * is not the last (gathering a row and the caller's own pass over its values are then one loop): `rowsToFill`
   * gives the memory as `rows` rows of `stride` floats (the padding set to -inf), the caller puts row r's class c at
   * `floats[r * stride + c]`, and `rowMaxSumExpOfFilled` writes each row's max and sum(exp) into the outputs at `at`.
   */
  rowsToFill(rows: number, classes: number): { floats: Float32Array; stride: number } {
    const stride = (classes + 7) & ~7;
    const buffer = this.memoryFor(rows * stride * 4 + rows * 16);
    const floats = new Float32Array(buffer, 0, rows * stride);
    if (stride !== classes) floats.fill(-Infinity);
    return { floats, stride };
  }

  rowMaxSumExpOfFilled(rows: number, classes: number, maxOut: Float64Array, sumOut: Float64Array, at: number): void {
    const outOffset = rows * ((classes + 7) & ~7) * 4;
    this.exports.rowMaxSumExp(0, rows, (classes + 7) & ~7, outOffset);
    const out = new Float64Array(this.exports.memory.buffer, outOffset, rows * 2);
    for (let row = 0; row < rows; row++) {
      maxOut[at + row] = out[2 * row];
      sumOut[at + row] = out[2 * row + 1];
    }
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
