/**
 * Run-time checks on captured tensors (the catalogue's run-time table), per-class statistics for the panel,
 * and "the value you probably meant" when the input went through softmax/sigmoid once too often.
 * Browser-safe and synchronous; robust to requests PyTorch would reject (that is when they help most).
 */
import { HostTensor, LossError, LossRequest, LossResult, RuntimeCheck } from './api';
import { reduce, runHostKernel } from './host-kernel';
import { elementCount, FloatArray, floatValues, isFloating, planLoss, toFloat64 } from './validate';

/** Slack for "sums to one" and "is an integer": float32 softmax rows are off by a few ulps. */
const SUM_TOLERANCE = 1e-3;
const IMBALANCE_RATIO = 10;
const NEAR_UNIFORM = 0.02;

interface ClassLayout {
  batch: number;
  classes: number;
  inner: number;
}

function classLayout(input: HostTensor): ClassLayout | null {
  if (input.shape.length === 0) return null;
  const rank = input.shape.length;
  return {
    batch: rank === 1 ? 1 : input.shape[0],
    classes: rank === 1 ? input.shape[0] : input.shape[1],
    inner: elementCount(input.shape.slice(2)),
  };
}

function isClassLoss(request: LossRequest): boolean {
  return request.loss === 'cross_entropy' || request.loss === 'nll_loss';
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

/** True when every row (along the class axis) lies in [0, 1] and sums to 1. */
function rowsSumToOne(values: FloatArray, layout: ClassLayout): boolean {
  const { batch, classes, inner } = layout;
  if (classes < 2 || values.length === 0) return false;
  for (let n = 0; n < batch; n++) {
    for (let j = 0; j < inner; j++) {
      let sum = 0;
      for (let c = 0, at = n * classes * inner + j; c < classes; c++, at += inner) {
        const v = values[at];
        if (!(v >= 0 && v <= 1)) return false;
        sum += v;
      }
      if (Math.abs(sum - 1) > SUM_TOLERANCE) return false;
    }
  }
  return true;
}

function countNonFinite(values: FloatArray): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (values[i] - values[i] !== 0) count++;
  return count;
}

/** Describes the rows of a class-probability-shaped target: all one-hot, some with several ones, or neither. */
function hotRows(values: FloatArray, layout: ClassLayout): 'one-hot' | 'multi-hot' | null {
  const { batch, classes, inner } = layout;
  let multi = false;
  for (let n = 0; n < batch; n++) {
    for (let j = 0; j < inner; j++) {
      let ones = 0;
      for (let c = 0, at = n * classes * inner + j; c < classes; c++, at += inner) {
        const v = values[at];
        if (v === 1) ones++;
        else if (v !== 0) return null;
      }
      if (ones > 1) multi = true;
    }
  }
  return multi ? 'multi-hot' : 'one-hot';
}

/** Three significant digits, as a Python literal. */
function pythonNumber(value: number): string {
  const text = Number(value.toPrecision(3)).toString();
  return /[.e]/.test(text) ? text : `${text}.0`;
}

function tensorLiteral(name: string, values: number[], suffix = ''): string {
  return `${name}=torch.tensor([${values.map(pythonNumber).join(', ')}])${suffix}`;
}

export interface ClassStatistic {
  classIndex: number;
  /** Number of (non-ignored) target elements of this class; soft counts for probability targets. */
  count: number;
  frequency: number;
  /** Mean per-element loss over this class's elements (PyTorch's reduction='none' values), NaN when absent. */
  meanLoss: number;
}

/** Where each element of a class loss's target belongs, for per-class tables and the imbalance check. */
export interface TargetClasses {
  classes: number;
  /** Elements per (sample, class) pair: the product of the input's dimensions after the class axis. */
  inner: number;
  /** Per-class target counts; soft counts for probability targets. */
  counts: Float64Array;
  /** Each element's class: the target's argmax for probability targets, else the index; -1 when ignored or invalid. */
  elementClass: Int32Array;
}

/** The target's class per element of a cross_entropy/nll_loss request; null for other losses or a scalar input. */
export function targetClasses(request: LossRequest): TargetClasses | null {
  const layout = isClassLoss(request) ? classLayout(request.input) : null;
  if (!layout) return null;
  const { batch, classes, inner } = layout;
  const counts = new Float64Array(classes);
  const elementClass = new Int32Array(batch * inner).fill(-1);
  const target = floatValues(request.target);
  const ignoreIndex = request.ignoreIndex ?? -100;
  if (sameShape(request.input.shape, request.target.shape)) {
    for (let n = 0; n < batch; n++) {
      for (let j = 0; j < inner; j++) {
        const base = n * classes * inner + j;
        let best = 0;
        for (let c = 0, at = base; c < classes; c++, at += inner) {
          counts[c] += target[at];
          if (target[at] > target[base + best * inner]) best = c;
        }
        elementClass[n * inner + j] = best;
      }
    }
  } else {
    for (let element = 0; element < target.length && element < elementClass.length; element++) {
      const t = target[element];
      if (t === ignoreIndex || !(t >= 0 && t < classes) || !Number.isInteger(t)) continue;
      counts[t]++;
      elementClass[element] = t;
    }
  }
  return { classes, inner, counts, elementClass };
}

/** Per-class counts, frequencies and mean losses for the panel's table (class-index and probability targets). */
export function classStatistics(request: LossRequest): ClassStatistic[] {
  const truth = targetClasses(request);
  if (!truth) return [];
  const { classes, counts, elementClass } = truth;
  let perElement: Float64Array | null = null;
  try {
    perElement = runHostKernel(planLoss({ ...request, reduction: 'none' }), false).values;
  } catch (error) {
    if (!(error instanceof LossError)) throw error; // counts are still useful for a rejected request
  }
  const lossSums = new Float64Array(classes);
  const members = new Float64Array(classes);
  if (perElement) {
    for (let element = 0; element < elementClass.length; element++) {
      const c = elementClass[element];
      if (c < 0) continue;
      lossSums[c] += perElement[element];
      members[c]++;
    }
  }
  const total = counts.reduce((a, b) => a + b, 0);
  return Array.from(counts, (count, classIndex) => ({
    classIndex,
    count,
    frequency: total > 0 ? count / total : 0,
    meanLoss: members[classIndex] > 0 ? lossSums[classIndex] / members[classIndex] : NaN,
  }));
}

export interface IntendedValue {
  value: number;
  explanation: string;
}

/**
 * The loss the user probably meant: for cross-entropy on probabilities, cross-entropy on log(probabilities),
 * which equals cross-entropy on the logits before the softmax (log_softmax(log p) = log p when rows sum to 1);
 * for a with-logits binary loss on probabilities, binary_cross_entropy on them (= the loss on the logits before
 * the sigmoid). Null when the input does not look transformed, or the request fails.
 */
export function intendedValue(request: LossRequest): IntendedValue | null {
  const reduction = request.reduction ?? 'mean';
  if (reduction === 'none' || !isFloating(request.input.dtype)) return null;
  const values = floatValues(request.input);
  try {
    if (request.loss === 'cross_entropy') {
      const layout = classLayout(request.input);
      if (!layout || !rowsSumToOne(values, layout)) return null;
      const logInput: HostTensor = { dtype: 'float64', shape: request.input.shape, data: Float64Array.from(values, Math.log) };
      const plan = planLoss({ ...request, input: logInput, weight: request.weight && asFloat64(request.weight), target: asFloat64IfFloat(request.target) });
      const value = reduce(runHostKernel(plan, false), reduction)!;
      return { value, explanation: 'cross_entropy on log(input), i.e. on the logits before the softmax' };
    }
    if (request.loss === 'binary_cross_entropy_with_logits' && values.length > 0 && countOutsideUnit(values) === 0) {
      if (request.posWeight) return null; // BCELoss has no pos_weight: no like-for-like value
      const plan = planLoss({ ...request, loss: 'binary_cross_entropy' });
      const value = reduce(runHostKernel(plan, false), reduction)!;
      return { value, explanation: 'binary_cross_entropy on the input, i.e. with-logits on the logits before the sigmoid' };
    }
  } catch (error) {
    if (error instanceof LossError) return null;
    throw error;
  }
  return null;
}

function asFloat64(tensor: HostTensor): HostTensor {
  return { dtype: 'float64', shape: tensor.shape, data: toFloat64(tensor) };
}

function asFloat64IfFloat(tensor: HostTensor): HostTensor {
  return isFloating(tensor.dtype) ? asFloat64(tensor) : tensor;
}

/** Figures about the request a caller has counted already (the panel's element pass), so that no pass repeats. */
export interface KnownCounts {
  /** NaN and infinite values in the input. */
  inputNonFinite?: number;
}

/**
 * The run-time checks of the catalogue on one request (and its result, for `loss-near-uniform`). `meant` is
 * `intendedValue(request)` when the caller has computed it already: it costs a loss pass over the input.
 */
export function runChecks(request: LossRequest, result?: LossResult, meant?: IntendedValue | null, known: KnownCounts = {}): RuntimeCheck[] {
  const checks: RuntimeCheck[] = [];
  const input = floatValues(request.input);
  const target = floatValues(request.target);

  const badInput = isFloating(request.input.dtype) ? known.inputNonFinite ?? countNonFinite(input) : 0;
  const badTarget = isFloating(request.target.dtype) ? countNonFinite(target) : 0;
  if (badInput + badTarget > 0) {
    const where = [badInput && `${badInput} in the input`, badTarget && `${badTarget} in the target`].filter(Boolean).join(' and ');
    checks.push({ rule: 'non-finite-values', severity: 'error', message: `NaN or infinite values: ${where}; the loss and its gradient will be NaN or infinite` });
  }

  const intended = (): IntendedValue | null => (meant === undefined ? intendedValue(request) : meant);
  if (isClassLoss(request)) classChecks(request, input, target, intended, checks);
  else binaryChecks(request, input, target, intended, checks);

  if (result) checks.push(...resultChecks(request, result));
  return checks;
}

/** The checks that need the computed loss (`loss-near-uniform`): `runChecks(request, result)` ends with these. */
export function resultChecks(request: LossRequest, result: LossResult): RuntimeCheck[] {
  const checks: RuntimeCheck[] = [];
  nearUniformCheck(request, result, checks);
  return checks;
}

function classChecks(request: LossRequest, input: FloatArray, target: FloatArray, intended: () => IntendedValue | null, checks: RuntimeCheck[]): void {
  const layout = classLayout(request.input);
  if (!layout) return;
  const { classes } = layout;
  const isCrossEntropy = request.loss === 'cross_entropy';
  if (isFloating(request.input.dtype) && rowsSumToOne(input, layout)) {
    const meant = isCrossEntropy ? intended() : null;
    checks.push({
      rule: 'input-rows-sum-to-one',
      severity: 'warning',
      message: isCrossEntropy
        ? `every row of the input is in [0, 1] and sums to 1: it is already softmaxed, and cross_entropy applies log_softmax again, which flattens the loss and shrinks the gradients; pass the raw logits${meant ? ` (${meant.explanation} gives ${formatValue(meant.value)})` : ''}`
        : 'every row of the input is in [0, 1] and sums to 1: nll_loss expects log-probabilities (log_softmax), not probabilities',
    });
  }

  const probabilityShaped = sameShape(request.input.shape, request.target.shape);
  const ignoreIndex = request.ignoreIndex ?? -100;
  let classCounts: Float64Array;
  if (probabilityShaped) {
    classCounts = targetClasses(request)!.counts;
    const rows = hotRows(target, layout);
    if (rows === 'multi-hot') {
      checks.push({
        rule: 'target-multi-hot', severity: 'error',
        message: 'some target rows have several ones (multi-label): cross_entropy treats them as one distribution; use binary_cross_entropy_with_logits for multi-label targets',
      });
    } else if (rows === 'one-hot') {
      checks.push({
        rule: 'target-one-hot', severity: 'warning',
        message: isFloating(request.target.dtype)
          ? 'the target rows are one-hot: class indices (target.argmax(1)) give the same loss and allow ignore_index'
          : 'the target is one-hot with an integer dtype, which cross_entropy rejects: pass class indices, target.argmax(1)',
      });
    }
  } else {
    // Only a float target can hold "float integers": an integer tensor skips the pass over its values.
    if (isFloating(request.target.dtype) && target.length > 0 && target.every((t) => Number.isInteger(t))) {
      checks.push({
        rule: 'target-float-integers', severity: 'warning',
        message: `the target holds whole numbers in a ${request.target.dtype} tensor, used as class indices: ${request.loss} needs int64 (target.long())`,
      });
    }
    // One indexed loop over the class indices for both the range check and the class counts (a segmentation target
    // holds millions; this runs once per capture, mostly before the optimising compiler has seen it).
    let outside = 0;
    let example = 0;
    classCounts = new Float64Array(classes);
    for (let i = 0; i < target.length; i++) {
      const t = target[i];
      if (t === ignoreIndex) continue;
      if (t >= 0 && t < classes && (t | 0) === t) classCounts[t]++;
      else if (outside++ === 0) example = t;
    }
    if (outside > 0) {
      checks.push({
        rule: 'target-out-of-range', severity: 'error',
        message: `${outside} target value${outside > 1 ? 's are' : ' is'} outside [0, ${classes}) and not ignore_index (${ignoreIndex}), e.g. ${example}: PyTorch raises "Target ${example} is out of bounds." (on CUDA: "device-side assert triggered")`,
      });
    }
  }
  imbalanceForClasses(classCounts, checks);
}

function imbalanceForClasses(classCounts: Float64Array, checks: RuntimeCheck[]): void {
  const statistics = Array.from(classCounts, (count, classIndex) => ({ classIndex, count })).filter((s) => s.count > 0);
  if (statistics.length < 2) return;
  const counts = statistics.map((s) => s.count);
  const rarest = Math.min(...counts);
  const commonest = Math.max(...counts);
  if (rarest * IMBALANCE_RATIO >= commonest) return;
  const classes = classCounts.length;
  const total = counts.reduce((a, b) => a + b, 0);
  // sklearn's "balanced" weights, N / (K * n_c) over the K classes present: a class seen in its fair share
  // weighs 1, and the weights average to 1 over the samples. Classes absent from these tensors get 1.
  const weights = new Array<number>(classes).fill(1);
  for (const s of statistics) weights[s.classIndex] = total / (statistics.length * s.count);
  const rare = statistics.find((s) => s.count === rarest)!.classIndex;
  const common = statistics.find((s) => s.count === commonest)!.classIndex;
  checks.push({
    rule: 'class-imbalance', severity: 'information',
    message: `class ${rare} has ${formatCount(rarest)} samples against ${formatCount(commonest)} for class ${common}: consider inverse-frequency class weights (N / (classes present x count), averaging 1 over the samples)`,
    suggestion: tensorLiteral('weight', weights),
  });
}

function countOutsideUnit(values: FloatArray): number {
  let outside = 0;
  for (let i = 0; i < values.length; i++) if (!(values[i] >= 0 && values[i] <= 1)) outside++;
  return outside;
}

function binaryChecks(request: LossRequest, input: FloatArray, target: FloatArray, intended: () => IntendedValue | null, checks: RuntimeCheck[]): void {
  const outside = countOutsideUnit(input);
  const inUnit = input.length > 0 && outside === 0;
  if (request.loss === 'binary_cross_entropy_with_logits' && isFloating(request.input.dtype) && inUnit) {
    const meant = intended();
    checks.push({
      rule: 'input-in-unit-interval', severity: 'warning',
      message: `every input value is in [0, 1]: a sigmoid was likely applied before binary_cross_entropy_with_logits, which applies its own; pass the raw logits${meant ? ` (${meant.explanation} gives ${formatValue(meant.value)})` : ''}`,
    });
  }
  if (request.loss === 'binary_cross_entropy' && !inUnit && input.length > 0) {
    checks.push({
      rule: 'input-outside-unit-interval', severity: 'error',
      message: `${outside} input value${outside > 1 ? 's are' : ' is'} outside [0, 1] (PyTorch raises "all elements of input should be between 0 and 1"): these look like logits; use binary_cross_entropy_with_logits`,
    });
  }
  binaryImbalance(request, target, checks);
}

function binaryImbalance(request: LossRequest, target: FloatArray, checks: RuntimeCheck[]): void {
  const shape = request.target.shape;
  if (target.length === 0 || countOutsideUnit(target) > 0) return;
  // One pos_weight per output: per column of [N, C], per channel of [N, C, ...], one value for [N].
  const outputs = shape.length >= 2 ? shape[1] : 1;
  const inner = shape.length >= 2 ? elementCount(shape.slice(2)) : 1;
  const positives = new Float64Array(outputs);
  const totals = new Float64Array(outputs);
  for (let i = 0; i < target.length; i++) {
    const output = outputs === 1 ? 0 : Math.floor(i / inner) % outputs;
    positives[output] += target[i];
    totals[output]++;
  }
  const posWeight: number[] = [];
  let worst = -1;
  let worstRatio = 1;
  for (let o = 0; o < outputs; o++) {
    const pos = positives[o];
    const neg = totals[o] - pos;
    posWeight.push(pos > 0 ? neg / pos : 1);
    const ratio = Math.min(pos, neg) / Math.max(pos, neg);
    if (pos > 0 && ratio < worstRatio) {
      worstRatio = ratio;
      worst = o;
    }
  }
  if (worst < 0 || worstRatio * IMBALANCE_RATIO >= 1) return;
  const pos = positives[worst];
  const neg = totals[worst] - pos;
  const which = outputs > 1 ? `output ${worst}` : 'the target';
  checks.push({
    rule: 'class-imbalance', severity: 'information',
    message: `${which} has ${formatCount(pos)} positives against ${formatCount(neg)} negatives: consider pos_weight = negatives / positives${request.loss === 'binary_cross_entropy' ? ' (with BCEWithLogitsLoss, which has pos_weight)' : ''}`,
    suggestion: tensorLiteral('pos_weight', posWeight, shape.length >= 3 ? `.view(-1, ${new Array(shape.length - 2).fill(1).join(', ')})` : ''),
  });
}

function nearUniformCheck(request: LossRequest, result: LossResult, checks: RuntimeCheck[]): void {
  const classes = isClassLoss(request) ? classLayout(request.input)?.classes ?? 0 : 2;
  if (classes < 2) return;
  let mean: number;
  if (result.reduction === 'mean' && result.value !== null) mean = result.value;
  else if (result.reduction === 'none' && result.values) mean = result.values.reduce((a, b) => a + b, 0) / Math.max(1, result.values.length);
  else return; // a sum says nothing about one element without the mean's denominator
  const uniform = Math.log(classes);
  if (Number.isFinite(mean) && Math.abs(mean - uniform) <= NEAR_UNIFORM * uniform) {
    checks.push({
      rule: 'loss-near-uniform', severity: 'information',
      message: `the loss ${formatValue(mean)} is within 2% of ln(${classes}) = ${formatValue(uniform)}: the predictions are close to uniform (an untrained model, or an input squashed by a softmax/sigmoid)`,
    });
  }
}

function formatValue(value: number): string {
  return Number.isFinite(value) ? Number(value.toPrecision(6)).toString() : String(value);
}

function formatCount(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
