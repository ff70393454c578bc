/**
 * How a capture is recomputed, shared by the panel (which shows the numbers) and the confirmation of findings
 * (CLI and language server), so that the two never disagree: the engine request a record stands for, and the
 * corrected variant a finding or a run-time check selects (with the gradient norm it is compared by).
 *
 * Browser-safe: the panel's webview imports it.
 */
import type { HostTensor, LossName, LossRequest, LossResult, RuntimeCheck } from '../losses/api';
import { resultChecks, runChecks } from '../losses/checks';
import { BackendUnavailableError, type ElementPassResult } from '../losses/engine';
import { floatValues, isFloating } from '../losses/validate';
import type { CaptureRecord } from './record';
import type { CaptureTensors } from './tensors';

/** Turns a record and its decoded tensors into the engine's request (Keras losses mapped where PyTorch computes the same). */
export function requestFor(record: CaptureRecord, tensors: CaptureTensors): LossRequest {
  const loss = engineLossName(record);
  return {
    loss,
    input: tensors.input,
    target: loss === 'cross_entropy' && record.loss === 'keras:sparse_categorical_crossentropy' ? toInt64(tensors.target) : tensors.target,
    weight: tensors.weight,
    posWeight: tensors.posWeight,
    ignoreIndex: record.options.ignoreIndex,
    labelSmoothing: record.options.labelSmoothing,
    reduction: record.options.reduction,
  };
}

function engineLossName(record: CaptureRecord): LossName {
  if (!record.loss.startsWith('keras:')) return record.loss as LossName;
  // Keras puts the class axis last; for a 2-D input that is PyTorch's axis 1, so the losses agree.
  if (record.options.fromLogits !== true || record.tensors.input.shape.length !== 2) {
    throw new Error(`${record.loss} is recomputed only with from_logits=True on a 2-D input; this capture has ${record.options.fromLogits ? '' : 'from_logits=False, '}shape [${record.tensors.input.shape.join(', ')}]`);
  }
  const mapped: Record<string, LossName> = {
    'keras:sparse_categorical_crossentropy': 'cross_entropy',
    'keras:categorical_crossentropy': 'cross_entropy',
    'keras:binary_crossentropy': 'binary_cross_entropy_with_logits',
  };
  const name = mapped[record.loss];
  if (!name) throw new Error(`${record.loss} is not a loss the panel recomputes`);
  return name;
}

function toInt64(tensor: HostTensor): HostTensor {
  if (tensor.dtype === 'int64') return tensor;
  const out = new BigInt64Array(tensor.data.length);
  for (let i = 0; i < out.length; i++) out[i] = BigInt(Math.trunc(Number(tensor.data[i])));
  return { dtype: 'int64', shape: tensor.shape, data: out };
}

export interface CorrectedVariant {
  /** What was changed, in words ("cross-entropy on the logits (log of the probabilities)"). */
  title: string;
  /** The catalogue ID the correction answers. */
  rule: string;
  result: LossResult;
  /** ||d loss / d logits|| as configured over the same for the corrected loss; null when the configured loss could not run. */
  gradientNormRatio: number | null;
}

/** The loss as configured and, when a run-time check or a finding at the call selects one, as corrected. */
export interface CaptureComparison {
  /** The loss as configured; absent when PyTorch would raise (then `error` says what it would say). */
  result?: LossResult;
  error?: string;
  /** The run-time checks on the request, and `loss-near-uniform` on the result when there is one. */
  checks: RuntimeCheck[];
  correction?: Correction;
  corrected?: CorrectedVariant;
  /** The element pass, when the caller offered one and it ran: its result is `result`. */
  pass?: ElementPassResult;
}

/**
 * Recomputes a captured call as configured and as corrected, with the ratio of their gradient norms. `findings`
 * are the rule IDs reported at the call by the static analysis (they select a correction the tensors alone cannot
 * prove, e.g. `sigmoid-then-bce`); `run` is the engine on the caller's backend. The panel and the confirmation of
 * findings both start from this, so their numbers agree.
 */
export async function compareCapture(
  request: LossRequest,
  findings: readonly string[],
  run: (request: LossRequest) => Promise<LossResult>,
  elementPass?: (request: LossRequest) => Promise<ElementPassResult | null>,
): Promise<CaptureComparison> {
  // With `elementPass` (the panel; null where the backend has none), a class-index loss without a correction needs one pass for the value, the
  // per-element losses, the per-class table and the input's statistics (every core in Node: the engine's parallel
  // pass). Class-loss scores outside [0, 1] have no correction (it takes log p of probabilities): the pass runs
  // first, and its count of non-finite values serves the checks.
  let pass: ElementPassResult | undefined;
  let passFailure: unknown;
  const classLoss = request.loss === 'cross_entropy' || request.loss === 'nll_loss';
  const passFirst = !!elementPass && classLoss && !(isFloating(request.input.dtype) && allInUnitInterval(floatValues(request.input)));
  if (passFirst) {
    try {
      pass = (await elementPass(request)) ?? undefined;
    } catch (failure) {
      passFailure = failure ?? new Error('the element pass failed');
    }
  }

  // The checks that select a correction do not need the loss (only `loss-near-uniform`, added below, does).
  const requestChecks = runChecks(request, undefined, undefined, pass ? { inputNonFinite: pass.summary.nonFinite } : {});
  const rules = requestChecks.map((check) => check.rule).concat(findings);
  let correction = correctionFor(request, rules, false);

  let result: LossResult | undefined;
  let configuredGradient: HostTensor | undefined;
  let error: string | undefined;
  try {
    if (passFailure !== undefined) throw passFailure;
    if (elementPass && !passFirst && !correction) pass = (await elementPass(request)) ?? undefined;
    if (pass) {
      result = pass.result;
    } else {
      // Gradients only when there is something to compare them with (each is a pass and an input-sized array);
      // then in the same engine call as the value.
      const { gradient, ...configured } = await run(correction ? { ...request, withGradient: true } : request);
      result = configured;
      configuredGradient = gradient;
    }
  } catch (failure) {
    // A backend this webview lacks is not PyTorch's error: the caller retries with the automatic choice.
    if (failure instanceof BackendUnavailableError) throw failure;
    error = failure instanceof Error ? failure.message : String(failure);
    // sigmoid-then-bce's correction is the one that needs the configured loss to run: without it another may apply.
    if (correction?.rule === 'sigmoid-then-bce') correction = correctionFor(request, rules, true);
  }
  const checks: RuntimeCheck[] = result ? requestChecks.concat(resultChecks(request, result)) : requestChecks;

  let corrected: CorrectedVariant | undefined;
  if (correction) {
    const correctedResult = await run({ ...correction.request, withGradient: true });
    const configuredNorm = configuredGradient ? correction.configuredLogitGradientNorm(configuredGradient) : null;
    const correctedNorm = correctedResult.gradient ? norm(correctedResult.gradient.data as Float32Array) : null;
    corrected = {
      title: correction.title,
      rule: correction.rule,
      result: { ...correctedResult, gradient: undefined },
      gradientNormRatio: configuredNorm !== null && correctedNorm ? configuredNorm / correctedNorm : null,
    };
  }
  return { result, error, checks, correction, corrected, pass };
}

export interface Correction {
  title: string;
  rule: string;
  request: LossRequest;
  /** ||d loss / d z|| of the configured pipeline, z being the logits the corrected loss receives, from the configured gradient. */
  configuredLogitGradientNorm(configuredGradient: HostTensor): number;
}

export function correctionFor(request: LossRequest, rules: readonly string[], configuredFailed: boolean): Correction | undefined {
  const has = (rule: string): boolean => rules.includes(rule);
  const input = floatValues(request.input);
  // log and logit below need probabilities: a finding about the code does not make a stale capture one.
  const probabilities = isFloating(request.input.dtype) && allInUnitInterval(input);
  if (probabilities && (request.loss === 'cross_entropy' || request.loss === 'nll_loss') && (has('input-rows-sum-to-one') || has('softmax-before-cross-entropy'))) {
    // Probabilities p went where logits belong. log p are logits of the same distribution (softmax(log p) = p).
    const logits = map(input, (p) => Math.log(p));
    const classAxis = request.input.shape.length === 1 ? 0 : 1;
    return {
      title: 'cross-entropy on the logits (log of the probabilities), as the loss expects',
      rule: has('softmax-before-cross-entropy') ? 'softmax-before-cross-entropy' : 'input-rows-sum-to-one',
      request: { ...request, loss: 'cross_entropy', input: { dtype: request.input.dtype === 'float64' ? 'float64' : 'float32', shape: request.input.shape, data: logits } },
      // Through the softmax that made p: dL/dz_c = p_c (g_c - sum_k p_k g_k), along the class axis.
      configuredLogitGradientNorm: (gradient) => softmaxBackwardNorm(input, floatValues(gradient), request.input.shape, classAxis),
    };
  }
  const sigmoidApplied = has('input-in-unit-interval') || has('sigmoid-before-bce-with-logits');
  if (probabilities && ((request.loss === 'binary_cross_entropy_with_logits' && sigmoidApplied) || (request.loss === 'binary_cross_entropy' && has('sigmoid-then-bce') && !configuredFailed))) {
    // Sigmoid outputs p: logit(p) = log p - log(1 - p) are the scores the with-logits loss wants.
    const logits = map(input, (p) => Math.log(p) - Math.log1p(-p));
    return {
      title: 'BCE with logits on the pre-sigmoid scores (logit of the input)',
      rule: request.loss === 'binary_cross_entropy' ? 'sigmoid-then-bce' : has('sigmoid-before-bce-with-logits') ? 'sigmoid-before-bce-with-logits' : 'input-in-unit-interval',
      request: { ...request, loss: 'binary_cross_entropy_with_logits', input: { dtype: request.input.dtype === 'float64' ? 'float64' : 'float32', shape: request.input.shape, data: logits } },
      // Through the sigmoid that made p: dL/dz = g p (1 - p).
      configuredLogitGradientNorm: (gradient) => {
        const g = floatValues(gradient);
        let sum = 0;
        for (let i = 0; i < g.length; i++) {
          const value = g[i] * input[i] * (1 - input[i]);
          sum += value * value;
        }
        return Math.sqrt(sum);
      },
    };
  }
  if (request.loss === 'binary_cross_entropy' && (has('input-outside-unit-interval') || has('logits-to-probability-loss'))) {
    // Raw scores into BCELoss (PyTorch raises): the with-logits loss on the same scores.
    return {
      title: 'BCE with logits on the same scores, which are logits',
      rule: has('logits-to-probability-loss') ? 'logits-to-probability-loss' : 'input-outside-unit-interval',
      request: { ...request, loss: 'binary_cross_entropy_with_logits' },
      configuredLogitGradientNorm: (gradient) => norm(floatValues(gradient)),
    };
  }
  return undefined;
}


/** ||p ⊙ (g - <p, g>)|| along the class axis: the norm of the gradient through the softmax, without storing it. */
function softmaxBackwardNorm(probabilities: ArrayLike<number>, gradient: ArrayLike<number>, shape: number[], classAxis: number): number {
  const classCount = shape[classAxis] ?? 1;
  const inner = shape.slice(classAxis + 1).reduce((product, size) => product * size, 1);
  const outer = shape.slice(0, classAxis).reduce((product, size) => product * size, 1);
  let sum = 0;
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < inner; d++) {
      const base = o * classCount * inner + d;
      let dot = 0;
      for (let c = 0; c < classCount; c++) dot += probabilities[base + c * inner] * gradient[base + c * inner];
      for (let c = 0; c < classCount; c++) {
        const at = base + c * inner;
        const value = probabilities[at] * (gradient[at] - dot);
        sum += value * value;
      }
    }
  }
  return Math.sqrt(sum);
}

function allInUnitInterval(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!(values[i] >= 0 && values[i] <= 1)) return false;
  return true;
}

function norm(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}

function map(values: Float32Array | Float64Array, transform: (value: number) => number): Float32Array | Float64Array {
  const out = values instanceof Float64Array ? new Float64Array(values.length) : new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = transform(values[i]);
  return out;
}
