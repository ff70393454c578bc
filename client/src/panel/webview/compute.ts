/**
 * What the panel shows for one capture, computed with the loss engine on a chosen backend:
 * the loss as configured, the corrected variant when a check (or the server's finding) says the
 * scores went into the wrong loss, the ratio of gradient norms between the two, the run-time checks,
 * tensor statistics, a per-class table and the series behind the plots.
 *
 * Browser-safe: runs in the webview (WebGPU/WebGL/WASM) and in Node for tests and the benchmark.
 */
import type { HostTensor, LossName, LossRequest, LossResult, RuntimeCheck } from '../../../../server/src/losses/api';
import { compareCapture, requestFor, type CorrectedVariant } from '../../../../server/src/captures/recompute';
import { judgeCapture, type CaptureJudgement } from '../../../../server/src/captures/verdict';
import type { CaptureOrigin } from '../../../../server/src/analysis/types';
import type { CaptureRecord, TensorRole } from '../../capture/record';
import type { CaptureTensors } from '../../capture/tensors';
import { floatValues } from '../../../../server/src/losses/validate';
import { computeElementPass, computeLoss, targetClasses, type BackendChoice, type ElementPassResult } from './engine';

export type { CorrectedVariant };
export { requestFor };

export interface TensorStats {
  dtype: string;
  shape: number[];
  min: number;
  max: number;
  mean: number;
  nonFinite: number;
  /** Distinct values with their counts, for targets (up to {@link MAX_UNIQUE_VALUES}; `more` when there are more). */
  unique?: { values: { value: number; count: number }[]; more: boolean };
}

export interface ClassRow {
  /** Class index (or output column for binary losses). */
  index: number;
  count: number;
  share: number;
  meanLoss: number;
  meanTrueClassProbability: number;
  /** Share of this class's elements whose argmax is this class (multi-class losses only). */
  recall?: number;
  /** Binary losses: negatives / positives of this output. */
  positives?: number;
  negatives?: number;
}

export interface CaptureAnalysis {
  loss: LossName;
  request: LossRequest;
  /** The loss as configured; absent when PyTorch would raise (then `error` says what it would say). */
  result?: LossResult;
  error?: string;
  checks: RuntimeCheck[];
  corrected?: CorrectedVariant;
  stats: Partial<Record<TensorRole, TensorStats>>;
  classes: ClassRow[];
  /** Per-element losses as configured (or as corrected when the configured loss raises), for the histogram. */
  elementLosses: Float64Array;
  /**
   * Predicted probability of the true class (binary: of the true label) per element; ignored elements are left out,
   * or NaN where the element pass wrote every row (the histograms skip non-finite values).
   */
  trueClassProbability: Float64Array;
  /**
   * The plots' bins, when they were made where the per-element arrays are (the extension host sends these
   * instead of the arrays, which are the size of the batch); else the view bins the arrays above.
   */
  histograms?: AnalysisHistograms;
  /**
   * The capture's verdict on each finding at its loss call and the run-time checks that are findings of their own,
   * decided as the diagnostics decide them (`judgeCapture`); absent for a capture paired with no call.
   */
  judgement?: CaptureJudgement;
  backend: string;
  precision: string;
  /** Total time of every engine call for this capture. */
  ms: number;
}

/** How the capture was paired with its loss call (`matchCapture`), and where it is saved: what its verdicts need. */
export interface CallPairing {
  match: { stale: boolean; certain: boolean };
  origin?: CaptureOrigin;
}

const MAX_UNIQUE_VALUES = 32;

export interface Histogram {
  edges: number[];
  counts: number[];
}

export interface AnalysisHistograms {
  /** Per-element losses, 30 bins over their range. */
  loss: Histogram;
  /** Probabilities of the true class, 20 bins over [0, 1]. */
  probability: Histogram;
}

export function analysisHistograms(analysis: Pick<CaptureAnalysis, 'elementLosses' | 'trueClassProbability'>): AnalysisHistograms {
  return { loss: histogram(analysis.elementLosses, 30), probability: histogram(analysis.trueClassProbability, 20, 0, 1) };
}

/** Equal-width bins over [low, high] (non-finite values left out). */
export function histogram(values: ArrayLike<number>, bins: number, low?: number, high?: number): Histogram {
  let min = low ?? Infinity;
  let max = high ?? -Infinity;
  if (low === undefined || high === undefined) {
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (!Number.isFinite(value)) continue;
      if (low === undefined && value < min) min = value;
      if (high === undefined && value > max) max = value;
    }
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { edges: [], counts: [] };
  if (max === min) max = min + 1;
  const width = (max - min) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Number.isFinite(value)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor((value - min) / width)))]++;
  }
  return { edges: Array.from({ length: bins + 1 }, (_, i) => min + i * width), counts };
}

/** The loss as configured, with its gradient: what the test of the helper and the panel both start from. */
export async function computeCapturedLoss(record: CaptureRecord, tensors: CaptureTensors, backend: BackendChoice): Promise<{ request: LossRequest; result: LossResult }> {
  const request = requestFor(record, tensors);
  const result = await computeLoss({ ...request, withGradient: true }, backend);
  return { request, result };
}

/**
 * Everything the panel shows for a capture. `findings` are the rule IDs the language server reports
 * at this loss call (they select a correction the tensors alone cannot prove, e.g. `sigmoid-then-bce`);
 * `pairing`, given when the capture belongs to a call, adds the verdicts on them.
 */
export async function analyseCapture(
  record: CaptureRecord,
  tensors: CaptureTensors,
  backend: BackendChoice,
  findings: readonly string[] = [],
  pairing?: CallPairing,
): Promise<CaptureAnalysis> {
  const request = requestFor(record, tensors);
  const engineCalls: LossResult[] = [];
  const run = async (call: LossRequest): Promise<LossResult> => {
    const result = await computeLoss(call, backend);
    engineCalls.push(result);
    return result;
  };

  const { result, error, checks, correction, corrected, pass } = await compareCapture(request, findings, run, (passRequest) => computeElementPass(passRequest, backend));
  const judgement = pairing && judgeCapture({ rules: [...new Set(findings)].sort(), capture: record.id, origin: pairing.origin, match: pairing.match, request, comparison: { result, error, checks, corrected } });
  if (pass) {
    engineCalls.push(pass.result);
    return { ...passAnalysis(request, tensors, pass, checks, engineCalls), judgement };
  }

  // The per-element view: the configured loss when it runs, else the corrected one, else none (PyTorch raises).
  const perElementRequest = result ? request : correction?.request;
  const elementLosses = perElementRequest ? (await run({ ...perElementRequest, reduction: 'none', withGradient: false })).values ?? new Float64Array() : new Float64Array();
  // The model's probability of the truth, read through the interpretation that is right for these scores,
  // from unweighted, unsmoothed element losses (the configured ones when they are that already).
  const probabilityRequest = correction ? correction.request : request;
  const plain = !probabilityRequest.weight && !probabilityRequest.posWeight && !probabilityRequest.labelSmoothing;
  const unweightedLosses = !perElementRequest || (plain && probabilityRequest === perElementRequest)
    ? elementLosses
    : (await run({ ...probabilityRequest, weight: undefined, posWeight: undefined, labelSmoothing: 0, reduction: 'none', withGradient: false })).values ?? new Float64Array();
  const classes = classTable(probabilityRequest, elementLosses, unweightedLosses);

  const stats: Partial<Record<TensorRole, TensorStats>> = {};
  for (const role of ['input', 'target', 'weight', 'posWeight'] as const) {
    const tensor = tensors[role];
    if (tensor) stats[role] = tensorStats(tensor, role === 'target');
  }
  const last = engineCalls[engineCalls.length - 1] as LossResult | undefined;
  return {
    loss: request.loss,
    request,
    result,
    error,
    checks,
    corrected,
    stats,
    classes,
    elementLosses,
    trueClassProbability: trueClassProbabilities(probabilityRequest, unweightedLosses),
    judgement,
    backend: last?.backend ?? 'none',
    precision: last?.precision ?? '—',
    ms: engineCalls.reduce((total, call) => total + call.ms, 0),
  };
}

/** The analysis from the element pass: its table, probabilities and input statistics instead of separate passes. */
function passAnalysis(request: LossRequest, tensors: CaptureTensors, pass: ElementPassResult, checks: RuntimeCheck[], engineCalls: LossResult[]): CaptureAnalysis {
  const { summary } = pass;
  const kept = summary.classCount.reduce((total, count) => total + count, 0);
  const classes: ClassRow[] = Array.from(summary.classCount, (count, index) => ({
    index,
    count,
    share: kept ? count / kept : 0,
    meanLoss: count ? summary.classLoss[index] / count : NaN,
    meanTrueClassProbability: count ? summary.classProbability[index] / count : NaN,
    recall: count ? summary.classHits[index] / count : NaN,
  }));
  const stats: Partial<Record<TensorRole, TensorStats>> = {
    input: {
      dtype: request.input.dtype, shape: request.input.shape, nonFinite: summary.nonFinite,
      min: summary.finite ? summary.min : NaN, max: summary.finite ? summary.max : NaN, mean: summary.finite ? summary.sum / summary.finite : NaN,
    },
  };
  for (const role of ['target', 'weight', 'posWeight'] as const) {
    const tensor = tensors[role];
    if (!tensor) continue;
    stats[role] = (role === 'target' && targetStatsFromCounts(tensor, summary.classCount, pass.values.length, request.ignoreIndex ?? -100)) || tensorStats(tensor, role === 'target');
  }
  return {
    loss: request.loss,
    request,
    result: pass.result,
    checks,
    stats,
    classes,
    elementLosses: pass.values,
    trueClassProbability: pass.trueProbability,
    backend: pass.result.backend,
    precision: pass.result.precision,
    ms: engineCalls.reduce((total, call) => total + call.ms, 0),
  };
}

/**
 * A class-index target's statistics from the pass's class counts, without another read of its millions of values:
 * the plan checked that each is a class index or ignore_index, so the counts per class and the ignored rows are its
 * distinct values. Null past {@link MAX_UNIQUE_VALUES} distinct values, where the list shows the first ones in order
 * of appearance, which only the tensor knows.
 */
function targetStatsFromCounts(target: HostTensor, classCount: Float64Array, rows: number, ignoreIndex: number): TensorStats | null {
  const counts = new Map<number, number>();
  let kept = 0;
  for (let c = 0; c < classCount.length; c++) {
    kept += classCount[c];
    if (classCount[c] > 0) counts.set(c, classCount[c]);
  }
  if (rows > kept) counts.set(ignoreIndex, (counts.get(ignoreIndex) ?? 0) + rows - kept);
  if (counts.size > MAX_UNIQUE_VALUES) return null;
  const values = Array.from(counts, ([value, count]) => ({ value, count })).sort((a, b) => a.value - b.value);
  const sum = values.reduce((total, { value, count }) => total + value * count, 0);
  return {
    dtype: target.dtype, shape: target.shape, nonFinite: 0,
    min: values.length ? values[0].value : NaN, max: values.length ? values[values.length - 1].value : NaN, mean: rows ? sum / rows : NaN,
    unique: { values, more: false },
  };
}

function classTable(request: LossRequest, elementLosses: Float64Array, unweightedLosses: Float64Array): ClassRow[] {
  const input = request.input;
  const target = request.target;
  if (request.loss === 'cross_entropy' || request.loss === 'nll_loss') {
    const truth = targetClasses(request);
    if (!truth) return []; // a scalar input has no class axis (PyTorch rejects it)
    // The true class of each element as the engine's checks read it; the predicted class is the input's argmax.
    const { classes: classCount, inner, elementClass } = truth;
    const scores = floatValues(input);
    const rows = Array.from({ length: classCount }, (_, index) => ({ index, count: 0, lossSum: 0, probabilitySum: 0, hits: 0 }));
    let counted = 0;
    for (let element = 0; element < elementClass.length; element++) {
      const truthClass = elementClass[element];
      if (truthClass < 0) continue;
      const base = Math.floor(element / inner) * classCount * inner + (element % inner);
      let predicted = 0;
      let bestScore = -Infinity;
      for (let c = 0; c < classCount; c++) {
        const score = scores[base + c * inner];
        if (score > bestScore) { bestScore = score; predicted = c; }
      }
      const row = rows[truthClass];
      row.count++;
      row.lossSum += elementLosses[element] ?? NaN;
      row.probabilitySum += Math.exp(-(unweightedLosses[element] ?? NaN));
      if (predicted === truthClass) row.hits++;
      counted++;
    }
    return rows.map((row) => ({
      index: row.index,
      count: row.count,
      share: counted ? row.count / counted : 0,
      meanLoss: row.count ? row.lossSum / row.count : NaN,
      meanTrueClassProbability: row.count ? row.probabilitySum / row.count : NaN,
      recall: row.count ? row.hits / row.count : NaN,
    }));
  }
  // Binary losses: one row per output column (axis 1; the whole tensor is one output when rank < 2).
  const outputs = input.shape.length >= 2 ? input.shape[1] : 1;
  const inner = input.shape.slice(2).reduce((product, size) => product * size, 1);
  const targetValues = floatValues(target);
  const rows = Array.from({ length: outputs }, (_, index) => ({ index, count: 0, positives: 0, lossSum: 0, probabilitySum: 0 }));
  for (let i = 0; i < targetValues.length; i++) {
    const row = rows[input.shape.length >= 2 ? Math.floor(i / inner) % outputs : 0];
    row.count++;
    row.positives += targetValues[i];
    row.lossSum += elementLosses[i] ?? NaN;
    row.probabilitySum += Math.exp(-(unweightedLosses[i] ?? NaN));
  }
  return rows.map((row) => ({
    index: row.index,
    count: row.count,
    share: row.count ? row.positives / row.count : 0,
    meanLoss: row.count ? row.lossSum / row.count : NaN,
    meanTrueClassProbability: row.count ? row.probabilitySum / row.count : NaN,
    positives: row.positives,
    negatives: row.count - row.positives,
  }));
}

/** exp(-loss) of the unweighted, unsmoothed element losses is the probability given to the truth (index targets). */
function trueClassProbabilities(request: LossRequest, unweightedLosses: Float64Array): Float64Array {
  const ignoreIndex = request.ignoreIndex ?? -100;
  const indexTargets = (request.loss === 'cross_entropy' || request.loss === 'nll_loss') && request.target.shape.length !== request.input.shape.length;
  const target = indexTargets ? floatValues(request.target) : undefined;
  const kept: number[] = [];
  for (let i = 0; i < unweightedLosses.length; i++) {
    if (target && target[i] === ignoreIndex) continue;
    kept.push(Math.exp(-unweightedLosses[i]));
  }
  return Float64Array.from(kept);
}

function tensorStats(tensor: HostTensor, isTarget: boolean): TensorStats {
  const values = floatValues(tensor);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = 0;
  let nonFinite = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Number.isFinite(value)) {
      nonFinite++;
      continue;
    }
    if (value < min) min = value;
    if (value > max) max = value;
    sum += value;
    finite++;
  }
  const stats: TensorStats = { dtype: tensor.dtype, shape: tensor.shape, min: finite ? min : NaN, max: finite ? max : NaN, mean: finite ? sum / finite : NaN, nonFinite };
  if (isTarget) stats.unique = distinctValues(values);
  return stats;
}

/** Integers in [-SMALL_OFFSET, SMALL_RANGE - SMALL_OFFSET) are counted in an array (class indices, -100, 255). */
const SMALL_OFFSET = 256;
const SMALL_RANGE = 4096;

/** The first {@link MAX_UNIQUE_VALUES} distinct values in order of appearance, with their counts; `more` when there are others. */
function distinctValues(values: ArrayLike<number>): NonNullable<TensorStats['unique']> {
  const small = new Float64Array(SMALL_RANGE);
  const other = new Map<number, number>();
  const kept: number[] = [];
  let more = false;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    const slot = value + SMALL_OFFSET;
    if (slot >= 0 && slot < SMALL_RANGE && (slot | 0) === slot) {
      if (small[slot]++ === 0) {
        if (kept.length < MAX_UNIQUE_VALUES) kept.push(value);
        else more = true;
      }
      continue;
    }
    const count = other.get(value);
    if (count !== undefined) other.set(value, count + 1);
    else {
      other.set(value, 1);
      if (kept.length < MAX_UNIQUE_VALUES) kept.push(value);
      else more = true;
    }
  }
  const countOf = (value: number): number => {
    const slot = value + SMALL_OFFSET;
    return slot >= 0 && slot < SMALL_RANGE && (slot | 0) === slot ? small[slot] : other.get(value)!;
  };
  return { values: kept.map((value) => ({ value, count: countOf(value) })).sort((a, b) => a.value - b.value), more };
}
