/**
 * The host kernel: fused single-pass-per-row loops over the typed arrays, every operation in float64.
 * It is the engine's exact reference (float64 inputs agree with PyTorch to ~1e-15), its fast CPU path
 * (no intermediate tensors: memory stays at the input's size), and the place where NaN, the mean's
 * 0/0 and the gradients are decided for every backend. Browser-safe.
 */
import { simdKernel } from './simd/kernel';
import type { BinaryLossPlan, ClassLossPlan, FloatArray, LossPlan } from './validate';

export interface KernelOutput {
  /** Sum of the element losses, and the mean's denominator (1 for 'sum'). */
  total: number;
  denominator: number;
  /** Per-element losses, only for reduction 'none'. */
  values: Float64Array | null;
  /** d(loss)/d(input) in the input's layout (for 'none': of the sum of the element losses). */
  gradient: Float64Array | null;
}

/**
 * The reduced value from a kernel's sum and denominator. A mean over a zero denominator is NaN, as in PyTorch,
 * even where the smoothing term's sum is not 0 (PyTorch adds the smoothing mean to the nll mean, which is 0/0).
 */
export function reduce(output: KernelOutput, reduction: 'mean' | 'sum' | 'none'): number | null {
  if (reduction === 'none') return null;
  if (reduction === 'sum') return output.total;
  return output.denominator === 0 ? NaN : output.total / output.denominator;
}

/** Each row's max and sum(exp(x - max)) of a float32 `[N, C]` input, when threads computed them beforehand. */
export interface RowStatistics {
  max: Float64Array;
  sumExp: Float64Array;
}

/** Whether `runHostKernel` reads {@link RowStatistics} for this plan (index-target cross_entropy on float32 rows, no smoothing). */
export function usesRowStatistics(plan: LossPlan, withGradient: boolean): plan is ClassLossPlan {
  return plan.family === 'class' && plan.targetKind === 'index' && plan.loss === 'cross_entropy' && plan.inner === 1
    && plan.input instanceof Float32Array && plan.labelSmoothing === 0 && !withGradient;
}

/** Rows [firstRow, endRow) of {@link RowStatistics}: the SIMD kernel where present, else the same formulas in JavaScript. */
export function rowMaxSumExpRange(x: Float32Array, classes: number, firstRow: number, endRow: number, maxOut: Float64Array, sumOut: Float64Array): void {
  const simd = simdKernel();
  if (simd) {
    simd.rowMaxSumExp(x.subarray(firstRow * classes, endRow * classes), endRow - firstRow, classes, maxOut.subarray(firstRow, endRow), sumOut.subarray(firstRow, endRow));
    return;
  }
  for (let row = firstRow, base = firstRow * classes; row < endRow; row++, base += classes) {
    // A NaN anywhere in the row makes the sum NaN, as PyTorch's result is: max needs no NaN care.
    let max = x[base];
    for (let c = 1; c < classes; c++) if (x[base + c] > max) max = x[base + c];
    let sumExp = 0;
    for (let c = 0; c < classes; c++) sumExp += expNonPositive(x[base + c] - max);
    maxOut[row] = max;
    sumOut[row] = sumExp;
  }
}

export function runHostKernel(plan: LossPlan, withGradient: boolean, rowStatistics?: RowStatistics): KernelOutput {
  // The common training shapes get monomorphic float32 loops (bench/loss-bench.ts); everything else the general ones.
  const float32 = plan.input instanceof Float32Array && !withGradient;
  if (plan.family === 'binary') {
    if (float32 && plan.loss === 'binary_cross_entropy_with_logits' && plan.target instanceof Float32Array) return bceWithLogitsFloat32(plan);
    return binaryKernel(plan, withGradient);
  }
  if (plan.targetKind === 'probability') return classProbabilityKernel(plan, withGradient);
  if (float32 && plan.loss === 'cross_entropy' && plan.inner === 1) return crossEntropyRowsFloat32(plan, rowStatistics);
  return classIndexKernel(plan, withGradient);
}

const POW2_NEGATIVE = Float64Array.from({ length: 1076 }, (_, k) => 2 ** -k);
const LN2_HIGH = 6.93147180369123816490e-1;
const LN2_LOW = 1.90821492927058770002e-10;

/**
 * exp(d) for d <= 0, to ~1e-11 relative (Cody-Waite reduction, degree-9 Taylor polynomial on |r| <= ln2/2,
 * a table for 2^k): far below float32's 6e-8 rounding, so used for float32 inputs only; float64 inputs use Math.exp.
 */
export function expNonPositive(d: number): number {
  if (!(d > -745)) return d !== d ? d : 0;
  const k = Math.floor(d * Math.LOG2E + 0.5);
  const r = (d - k * LN2_HIGH) - k * LN2_LOW;
  const p = 1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040 + r * (1 / 40320 + r * (1 / 362880)))))))));
  return p * POW2_NEGATIVE[-k];
}

/** log1p(u) for u in [0, 1], as 2 atanh(u / (2 + u)) (no 1 + u rounding), to ~1e-12 relative. */
function log1pUnit(u: number): number {
  const s = u / (2 + u);
  const s2 = s * s;
  return 2 * s * (1 + s2 * (1 / 3 + s2 * (1 / 5 + s2 * (1 / 7 + s2 * (1 / 9 + s2 * (1 / 11 + s2 * (1 / 13 + s2 * (1 / 15 + s2 * (1 / 17 + s2 * (1 / 19 + s2 * (1 / 21 + s2 / 23)))))))))));
}

/** Index-target cross-entropy on float32 rows `[N, C]`: one max pass and one exp pass per row, float64 sums. */
function crossEntropyRowsFloat32(plan: ClassLossPlan, rowStatistics?: RowStatistics): KernelOutput {
  const x = plan.input as Float32Array;
  const { classes: C, batch: rows, weight: w, ignoreIndex, labelSmoothing: e, reduction } = plan;
  const targets = plan.targetIndex!;
  const values = reduction === 'none' ? new Float64Array(rows) : null;
  let classWeightSum = C;
  if (w) {
    classWeightSum = 0;
    for (let c = 0; c < C; c++) classWeightSum += w[c];
  }
  // Without smoothing, only each row's max and sum(exp(x - max)) are needed: the SIMD kernel's job when present
  // (or the threads' that computed them already).
  let rowMax: Float64Array | null = null;
  let rowSumExp: Float64Array | null = null;
  if (e === 0 && rowStatistics) {
    rowMax = rowStatistics.max;
    rowSumExp = rowStatistics.sumExp;
  } else if (e === 0 && simdKernel()) {
    rowMax = new Float64Array(rows);
    rowSumExp = new Float64Array(rows);
    rowMaxSumExpRange(x, C, 0, rows, rowMax, rowSumExp);
  }
  let total = 0;
  for (let row = 0, base = 0; row < rows; row++, base += C) {
    const t = targets[row];
    if (t === ignoreIndex) continue;
    let max: number;
    let sumExp: number;
    if (rowMax && rowSumExp) {
      max = rowMax[row];
      sumExp = rowSumExp[row];
    } else {
      // A NaN anywhere in the row makes sumExp NaN below, as PyTorch's result is: max needs no NaN care.
      max = x[base];
      for (let c = 1; c < C; c++) {
        const v = x[base + c];
        if (v > max) max = v;
      }
      sumExp = 0;
      for (let c = 0; c < C; c++) sumExp += expNonPositive(x[base + c] - max);
    }
    const lse = Math.log(sumExp);
    const wt = w ? w[t] : 1;
    let loss = -wt * ((x[base + t] - max) - lse);
    if (e !== 0) {
      let weightedShifted = 0;
      for (let c = 0; c < C; c++) weightedShifted += (w ? w[c] : 1) * (x[base + c] - max);
      loss = (1 - e) * loss + (e / C) * (classWeightSum * lse - weightedShifted);
    }
    total += loss;
    if (values) values[row] = loss;
  }
  return { total, denominator: reduction === 'mean' ? indexDenominator(plan) : 1, values, gradient: null };
}

/** binary_cross_entropy_with_logits on float32 tensors, without the gradient. */
function bceWithLogitsFloat32(plan: BinaryLossPlan): KernelOutput {
  const x = plan.input as Float32Array;
  const y = plan.target as Float32Array;
  const { weight: w, posWeight: pw, reduction } = plan;
  const count = x.length;
  const values = reduction === 'none' ? new Float64Array(count) : null;
  // A reduced loss without weights is one SIMD sum over whole f32x4 vectors; the loop below does the rest.
  const simd = !values && !w && !pw ? simdKernel() : null;
  const vectorized = simd ? count & ~3 : 0;
  let total = simd ? simd.bceWithLogitsSum(x, y, vectorized) : 0;
  for (let i = vectorized; i < count; i++) {
    const v = x[i];
    const t = y[i];
    // logsigmoid(v) = min(v, 0) - log1p(exp(-|v|)); NaN and infinities take the exact functions.
    const negAbs = v < 0 ? v : -v;
    const logSigmoid = negAbs > -Infinity ? (v < 0 ? v : 0) - log1pUnit(expNonPositive(negAbs)) : Math.min(v, 0) - Math.log1p(Math.exp(negAbs));
    const logWeight = pw ? 1 + (pw[i] - 1) * t : 1;
    let loss = (1 - t) * v - logWeight * logSigmoid;
    if (w) loss *= w[i];
    total += loss;
    if (values) values[i] = loss;
  }
  return { total, denominator: reduction === 'mean' ? count : 1, values, gradient: null };
}

/** The per-row weight sum of index targets: the mean's denominator (ignored rows weigh 0). */
export function indexDenominator(plan: ClassLossPlan): number {
  const targets = plan.targetIndex!;
  let denominator = 0;
  for (let row = 0; row < targets.length; row++) {
    const t = targets[row];
    if (t !== plan.ignoreIndex) denominator += plan.weight ? plan.weight[t] : 1;
  }
  return denominator;
}

/** The largest of a row's C values spaced `inner` apart from `base`; NaN when one of them is NaN, so that the row's loss is NaN as in PyTorch. */
function classMax(x: FloatArray, base: number, C: number, inner: number): number {
  let max = -Infinity;
  for (let c = 0, at = base; c < C; c++, at += inner) {
    const v = x[at];
    if (v > max || v !== v) max = v;
    if (max !== max) break;
  }
  return max;
}

function classIndexKernel(plan: ClassLossPlan, withGradient: boolean): KernelOutput {
  const { input: x, classes: C, inner, batch, weight: w, ignoreIndex, labelSmoothing: e, reduction } = plan;
  const isCrossEntropy = plan.loss === 'cross_entropy';
  const targets = plan.targetIndex!;
  const rows = batch * inner;
  const values = reduction === 'none' ? new Float64Array(rows) : null;
  const denominator = reduction === 'mean' ? indexDenominator(plan) : 1;
  const gradient = withGradient ? new Float64Array(x.length) : null;
  let classWeightSum = C;
  if (w) {
    classWeightSum = 0;
    for (let c = 0; c < C; c++) classWeightSum += w[c];
  }
  let total = 0;
  for (let n = 0; n < batch; n++) {
    for (let j = 0; j < inner; j++) {
      const row = n * inner + j;
      const base = n * C * inner + j;
      const t = targets[row];
      if (t === ignoreIndex) continue; // loss 0, weight 0, gradient 0
      const wt = w ? w[t] : 1;
      if (!isCrossEntropy) {
        // nll_loss: the input already holds log-probabilities.
        const loss = -wt * x[base + t * inner];
        total += loss;
        if (values) values[row] = loss;
        if (gradient) gradient[base + t * inner] = -wt / denominator;
        continue;
      }
      const max = classMax(x, base, C, inner);
      let sumExp = 0;
      let weightedShifted = 0;
      for (let c = 0, at = base; c < C; c++, at += inner) {
        const shifted = x[at] - max;
        sumExp += Math.exp(shifted);
        if (e !== 0) weightedShifted += (w ? w[c] : 1) * shifted;
      }
      const lse = Math.log(sumExp);
      // (x - max) - lse, in that order (PyTorch's log_softmax).
      const nll = -wt * ((x[base + t * inner] - max) - lse);
      let loss = nll;
      if (e !== 0) {
        const smooth = classWeightSum * lse - weightedShifted; // -sum_c w_c logp_c
        loss = (1 - e) * nll + (e / C) * smooth;
      }
      total += loss;
      if (values) values[row] = loss;
      if (gradient) {
        const scale = 1 / denominator;
        for (let c = 0, at = base; c < C; c++, at += inner) {
          const softmax = Math.exp((x[at] - max) - lse);
          let g = (1 - e) * wt * (softmax - (c === t ? 1 : 0));
          if (e !== 0) g += (e / C) * (softmax * classWeightSum - (w ? w[c] : 1));
          gradient[at] = g * scale;
        }
      }
    }
  }
  return { total, denominator, values, gradient };
}

function classProbabilityKernel(plan: ClassLossPlan, withGradient: boolean): KernelOutput {
  const { input: x, classes: C, inner, batch, weight: w, labelSmoothing: e, reduction } = plan;
  const probabilities = plan.targetProbability!;
  const rows = batch * inner;
  const values = reduction === 'none' ? new Float64Array(rows) : null;
  const denominator = reduction === 'mean' ? rows : 1;
  const gradient = withGradient ? new Float64Array(x.length) : null;
  let total = 0;
  for (let n = 0; n < batch; n++) {
    for (let j = 0; j < inner; j++) {
      const row = n * inner + j;
      const base = n * C * inner + j;
      const max = classMax(x, base, C, inner);
      let sumExp = 0;
      for (let c = 0, at = base; c < C; c++, at += inner) sumExp += Math.exp(x[at] - max);
      const lse = Math.log(sumExp);
      let loss = 0;
      let weightedTargetSum = 0;
      for (let c = 0, at = base; c < C; c++, at += inner) {
        const smoothed = probabilities[at] * (1 - e) + e / C;
        const weighted = (w ? w[c] : 1) * smoothed;
        loss -= weighted * ((x[at] - max) - lse);
        weightedTargetSum += weighted;
      }
      total += loss;
      if (values) values[row] = loss;
      if (gradient) {
        for (let c = 0, at = base; c < C; c++, at += inner) {
          const smoothed = probabilities[at] * (1 - e) + e / C;
          const softmax = Math.exp((x[at] - max) - lse);
          gradient[at] = (softmax * weightedTargetSum - (w ? w[c] : 1) * smoothed) / denominator;
        }
      }
    }
  }
  return { total, denominator, values, gradient };
}

/** PyTorch's clamp in the BCE gradient's denominator. */
const BCE_GRADIENT_EPSILON = 1e-12;

function binaryKernel(plan: BinaryLossPlan, withGradient: boolean): KernelOutput {
  const { input: x, target: y, weight: w, posWeight: pw, reduction } = plan;
  const count = x.length;
  const values = reduction === 'none' ? new Float64Array(count) : null;
  const denominator = reduction === 'mean' ? count : 1;
  const gradient = withGradient ? new Float64Array(count) : null;
  const scale = 1 / denominator;
  let total = 0;
  if (plan.loss === 'binary_cross_entropy') {
    for (let i = 0; i < count; i++) {
      const p = x[i];
      const t = y[i];
      const weight = w ? w[i] : 1;
      const logP = Math.max(Math.log(p), -100);
      const log1mP = Math.max(Math.log(1 - p), -100);
      const loss = -weight * (t * logP + (1 - t) * log1mP);
      total += loss;
      if (values) values[i] = loss;
      if (gradient) gradient[i] = weight * (p - t) / Math.max((1 - p) * p, BCE_GRADIENT_EPSILON) * scale;
    }
  } else {
    for (let i = 0; i < count; i++) {
      const v = x[i];
      const t = y[i];
      const weight = w ? w[i] : 1;
      const logWeight = pw ? 1 + (pw[i] - 1) * t : 1;
      const logSigmoid = Math.min(v, 0) - Math.log1p(Math.exp(-Math.abs(v)));
      const loss = weight * ((1 - t) * v - logWeight * logSigmoid);
      total += loss;
      if (values) values[i] = loss;
      if (gradient) gradient[i] = weight * (logWeight * sigmoid(v) - (pw ? pw[i] : 1) * t) * scale;
    }
  }
  return { total, denominator, values, gradient };
}

function sigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}
