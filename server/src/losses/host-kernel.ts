/**
 * The host kernel: fused single-pass-per-row loops over the typed arrays, every operation in float64.
 * It is the engine's exact reference (float64 inputs agree with PyTorch to ~1e-15), its fast CPU path
 * (no intermediate tensors: memory stays at the input's size), and the place where NaN, the mean's
 * 0/0 and the gradients are decided for every backend. Browser-safe.
 */
import type { BinaryLossPlan, ClassLossPlan, LossPlan } from './validate';

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

export function runHostKernel(plan: LossPlan, withGradient: boolean): KernelOutput {
  if (plan.family === 'binary') return binaryKernel(plan, withGradient);
  return plan.targetKind === 'index' ? classIndexKernel(plan, withGradient) : classProbabilityKernel(plan, withGradient);
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
      let max = -Infinity;
      for (let c = 0, at = base; c < C; c++, at += inner) {
        const v = x[at];
        if (v > max || v !== v) max = v;
        if (max !== max) break;
      }
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
      let max = -Infinity;
      for (let c = 0, at = base; c < C; c++, at += inner) {
        const v = x[at];
        if (v > max || v !== v) max = v;
        if (max !== max) break;
      }
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
