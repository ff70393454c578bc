/**
 * The panel's single pass over a class-index loss: from the input `[N, C, inner]` and its class indices, in one
 * read of the input (two sweeps over each block while it is in cache), everything the panel shows that is
 * input-sized: the loss's sum and denominator, the per-element losses, the model's probability of the true class,
 * the per-class table (count, loss sum, probability sum, argmax hits) and the input's statistics.
 *
 * Work is cut into fixed blocks of rows (a row is one (n, d1..dk) position). Each block is summed in order and
 * the blocks' partial sums are added in block order, so the result is the same bits whatever the number of
 * threads that ran the blocks (`parallel.ts` hands ranges of blocks to worker threads). Browser-safe.
 */
import { expNonPositive } from './host-kernel';
import { type SimdKernel, simdKernel } from './simd/kernel';
import type { FloatArray } from './validate';

/** Rows per block: the unit of work and of the deterministic summation order. */
export const BLOCK_ROWS = 8192;

export interface ElementPassInput {
  /** The input, `[batch, classes, inner]` row-major. */
  x: FloatArray;
  /** Class index per row (row = n * inner + j); `ignoreIndex` for ignored rows. Every other value is in [0, C). */
  targets: Float64Array;
  batch: number;
  classes: number;
  inner: number;
  weight: Float64Array | null;
  ignoreIndex: number;
  labelSmoothing: number;
  /** cross_entropy (log-softmax of the input) or nll_loss (the input holds log-probabilities). */
  crossEntropy: boolean;
}

/** Per-element outputs, written in place (shared memory when workers write them). */
export interface ElementPassOutput {
  /** The configured loss per row (0 for ignored rows), as reduction 'none' gives it. */
  values: Float64Array;
  /** exp(-(unweighted, unsmoothed loss)) per row: the probability of the true class; NaN for ignored rows. */
  trueProbability: Float64Array;
}

/** What one block contributes; blocks are merged in order by {@link mergePartials}. */
export interface BlockPartial {
  total: number;
  /** Sum of w[t] over kept rows: the mean's denominator. */
  weightSum: number;
  /** Per class: kept rows of that true class, their loss sum, true-class probability sum, argmax hits. */
  classCount: Float64Array;
  classLoss: Float64Array;
  classProbability: Float64Array;
  classHits: Float64Array;
  /** The input's finite values: min, max, sum, count; and how many are NaN or infinite. */
  min: number;
  max: number;
  sum: number;
  finite: number;
  nonFinite: number;
}

export function blockCount(input: Pick<ElementPassInput, 'batch' | 'inner'>): number {
  return Math.ceil((input.batch * input.inner) / BLOCK_ROWS);
}

function emptyPartial(classes: number): BlockPartial {
  return {
    total: 0, weightSum: 0,
    classCount: new Float64Array(classes), classLoss: new Float64Array(classes), classProbability: new Float64Array(classes), classHits: new Float64Array(classes),
    min: Infinity, max: -Infinity, sum: 0, finite: 0, nonFinite: 0,
  };
}

/** Runs blocks [firstBlock, endBlock), writing their rows' outputs, and returns one partial per block. */
export function runBlocks(input: ElementPassInput, output: ElementPassOutput, firstBlock: number, endBlock: number): BlockPartial[] {
  const rows = input.batch * input.inner;
  const partials: BlockPartial[] = [];
  // Scratch per row of a block: the running max (NaN once a NaN is seen, as PyTorch's result is), the argmax and sum(exp).
  const scratch: Scratch = {
    max: new Float64Array(BLOCK_ROWS), best: new Float64Array(BLOCK_ROWS), arg: new Int32Array(BLOCK_ROWS), sumExp: new Float64Array(BLOCK_ROWS),
    shifted: new Float64Array(BLOCK_ROWS),
  };
  for (let block = firstBlock; block < endBlock; block++) {
    const partial = emptyPartial(input.classes);
    const start = block * BLOCK_ROWS;
    const end = Math.min(rows, start + BLOCK_ROWS);
    // A block's rows, cut where a sample ends: within one sample the rows are `inner` contiguous positions.
    for (let row = start; row < end;) {
      const n = Math.floor(row / input.inner);
      const j = row - n * input.inner;
      const count = Math.min(end - row, input.inner - j);
      runSegment(input, output, partial, scratch, n, j, count);
      row += count;
    }
    partials.push(partial);
  }
  return partials;
}

interface Scratch {
  max: Float64Array;
  best: Float64Array;
  arg: Int32Array;
  sumExp: Float64Array;
  shifted: Float64Array;
}

/**
 * `count` consecutive positions j.. of sample n: class c of position j is at (n * C + c) * inner + j. float32
 * cross-entropy without smoothing runs on the SIMD kernel eight positions at a time; the rest (other dtypes and
 * losses, no WebAssembly SIMD, the last count % 8 positions) in JavaScript.
 */
function runSegment(input: ElementPassInput, output: ElementPassOutput, partial: BlockPartial, scratch: Scratch, n: number, j0: number, count: number): void {
  const sampleBase = n * input.classes * input.inner + j0;
  const row0 = n * input.inner + j0;
  const simd = input.x instanceof Float32Array && input.crossEntropy && input.labelSmoothing === 0 ? simdKernel() : null;
  let done = 0;
  if (simd) {
    const vectorized = count & ~7;
    const limit = simd.planePositionsLimit(input.classes);
    while (done < vectorized) {
      const positions = Math.min(limit, vectorized - done);
      simdPositions(simd, input, output, partial, sampleBase + done, row0 + done, positions);
      done += positions;
    }
  }
  if (done === count) return;
  const { max, best, arg, sumExp, shifted } = scratch;
  for (let k = 0; k < count - done; k++) {
    max[k] = -Infinity;
    best[k] = -Infinity;
    arg[k] = 0;
    sumExp[k] = 0;
    shifted[k] = 0;
  }
  sweeps(input, scratch, partial, sampleBase + done, count - done);
  finish(input, output, partial, scratch, row0 + done, sampleBase + done, count - done);
}

/**
 * `count` positions (a multiple of 8) on the SIMD kernel: each class's run of positions is copied into the module's
 * memory as one plane (a copy of contiguous floats), and the kernel sweeps the planes with positions on the lanes,
 * so nothing is gathered value by value. Here only the per-position bookkeeping remains (weights, tables, outputs).
 */
function simdPositions(simd: SimdKernel, input: ElementPassInput, output: ElementPassOutput, partial: BlockPartial, sampleBase: number, row0: number, count: number): void {
  const x = input.x as Float32Array;
  const { classes: C, inner, targets, ignoreIndex, weight: w } = input;
  const { planes, targets: classOf } = simd.planeInput(count, C);
  for (let c = 0, from = sampleBase; c < C; c++, from += inner) planes.set(x.subarray(from, from + count), c * count);
  for (let k = 0; k < count; k++) {
    const target = targets[row0 + k];
    classOf[k] = target === ignoreIndex ? -1 : target; // a class index in [0, C): validated by planLoss
  }
  const pass = simd.planePass(count, C);
  if (pass.sum - pass.sum === 0) {
    if (pass.min < partial.min) partial.min = pass.min;
    if (pass.max > partial.max) partial.max = pass.max;
    partial.sum += pass.sum;
    partial.finite += count * C;
  } else {
    segmentStatistics(x, C, inner, partial, sampleBase, count);
  }
  const { argmax, negativeLogProbability, probability } = pass;
  for (let k = 0; k < count; k++) {
    const t = classOf[k];
    if (t < 0) {
      recordIgnored(output, row0 + k);
      continue;
    }
    const wt = w ? w[t] : 1;
    recordPosition(output, partial, row0 + k, t, wt, wt * negativeLogProbability[k], probability[k], argmax[k] === t);
  }
}

/** An ignored position: loss 0 (as reduction 'none' gives it), no probability of a true class. */
function recordIgnored(output: ElementPassOutput, row: number): void {
  output.values[row] = 0;
  output.trueProbability[row] = NaN;
}

/** A kept position's outputs, and its share of the sums and of its true class's table row. */
function recordPosition(output: ElementPassOutput, partial: BlockPartial, row: number, t: number, weight: number, loss: number, probability: number, hit: boolean): void {
  output.values[row] = loss;
  output.trueProbability[row] = probability;
  partial.total += loss;
  partial.weightSum += weight;
  partial.classCount[t]++;
  partial.classLoss[t] += loss;
  partial.classProbability[t] += probability;
  if (hit) partial.classHits[t]++;
}

/**
 * The input's statistics over a segment, value by value (finite ones only): the JavaScript sweeps', and the SIMD
 * path's for segments holding NaN or infinities.
 */
function segmentStatistics(x: FloatArray, C: number, inner: number, partial: BlockPartial, sampleBase: number, count: number): void {
  let min = partial.min;
  let top = partial.max;
  let sum = partial.sum;
  let finite = 0;
  for (let c = 0; c < C; c++) {
    const at = sampleBase + c * inner;
    for (let k = 0; k < count; k++) {
      const v = x[at + k];
      if (v - v !== 0) continue;
      if (v < min) min = v;
      if (v > top) top = v;
      sum += v;
      finite++;
    }
  }
  partial.min = min;
  partial.max = top;
  partial.sum = sum;
  partial.finite += finite;
  partial.nonFinite += count * C - finite;
}

/**
 * The sweeps in JavaScript (the paths the SIMD kernel does not take): the statistics; max (NaN-sticky) and argmax;
 * then sum(exp(x - max)) and the smoothing sum.
 */
function sweeps(input: ElementPassInput, scratch: Scratch, partial: BlockPartial, sampleBase: number, count: number): void {
  const { x, classes: C, inner, weight: w, labelSmoothing: e, crossEntropy } = input;
  const { max, best, arg, sumExp, shifted } = scratch;
  const float32 = x instanceof Float32Array;
  segmentStatistics(x, C, inner, partial, sampleBase, count);
  for (let c = 0; c < C; c++) {
    const at = sampleBase + c * inner;
    for (let k = 0; k < count; k++) {
      const v = x[at + k];
      if (v > best[k]) {
        best[k] = v;
        arg[k] = c;
      }
      if (v !== v) max[k] = v;
    }
  }
  for (let k = 0; k < count; k++) if (max[k] === max[k]) max[k] = best[k];
  if (!crossEntropy) return;
  for (let c = 0; c < C; c++) {
    const at = sampleBase + c * inner;
    const wc = w ? w[c] : 1;
    for (let k = 0; k < count; k++) {
      const d = x[at + k] - max[k];
      sumExp[k] += float32 ? expNonPositive(d) : Math.exp(d);
      if (e !== 0) shifted[k] += wc * d;
    }
  }
}

/** Each position's loss, probability of the truth and class-table entries, from its max and sum(exp). */
function finish(input: ElementPassInput, output: ElementPassOutput, partial: BlockPartial, scratch: Scratch, row0: number, sampleBase: number, count: number): void {
  const { x, targets, classes: C, inner, weight: w, ignoreIndex, labelSmoothing: e, crossEntropy } = input;
  const { max, arg, sumExp, shifted } = scratch;
  const float32 = x instanceof Float32Array;
  let classWeightSum = C;
  if (w && e !== 0) {
    classWeightSum = 0;
    for (let c = 0; c < C; c++) classWeightSum += w[c];
  }
  for (let k = 0; k < count; k++) {
    const row = row0 + k;
    const target = targets[row];
    if (target === ignoreIndex) {
      recordIgnored(output, row);
      continue;
    }
    const t = target | 0; // a class index in [0, C): validated by planLoss
    const wt = w ? w[t] : 1;
    const xt = x[sampleBase + t * inner + k];
    let logP: number;
    let loss: number;
    if (crossEntropy) {
      const lse = Math.log(sumExp[k]);
      logP = (xt - max[k]) - lse; // PyTorch's log_softmax order
      loss = -wt * logP;
      if (e !== 0) loss = (1 - e) * loss + (e / C) * (classWeightSum * lse - shifted[k]);
    } else {
      logP = xt;
      loss = -wt * xt;
    }
    // Cross-entropy log-probabilities are <= 0 (or NaN); nll_loss inputs may be anything.
    const probability = float32 && crossEntropy ? expNonPositive(logP) : Math.exp(logP);
    recordPosition(output, partial, row, t, wt, loss, probability, arg[k] === t);
  }
}

/** The blocks' partials added in block order (the deterministic order the module's comment promises). */
export function mergePartials(partials: BlockPartial[], classes: number): BlockPartial {
  const merged = emptyPartial(classes);
  for (const partial of partials) {
    merged.total += partial.total;
    merged.weightSum += partial.weightSum;
    for (let c = 0; c < classes; c++) {
      merged.classCount[c] += partial.classCount[c];
      merged.classLoss[c] += partial.classLoss[c];
      merged.classProbability[c] += partial.classProbability[c];
      merged.classHits[c] += partial.classHits[c];
    }
    if (partial.min < merged.min) merged.min = partial.min;
    if (partial.max > merged.max) merged.max = partial.max;
    merged.sum += partial.sum;
    merged.finite += partial.finite;
    merged.nonFinite += partial.nonFinite;
  }
  return merged;
}

/** Runs every block in this thread. */
export function runElementPass(input: ElementPassInput): { output: ElementPassOutput; summary: BlockPartial } {
  const rows = input.batch * input.inner;
  const output = { values: new Float64Array(rows), trueProbability: new Float64Array(rows) };
  const partials = runBlocks(input, output, 0, blockCount(input));
  return { output, summary: mergePartials(partials, input.classes) };
}
