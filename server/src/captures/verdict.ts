/**
 * What a capture says about the findings at its loss call: each static finding's verdict (confirmed, refuted,
 * inconclusive, stale) with the figures behind it, and the run-time checks that are findings of their own. One
 * function for the diagnostics (`confirm.ts`: CLI and language server) and the notebook panel (its webview, and the
 * extension host when it computes for the webview), so that the two never disagree.
 *
 * Browser-safe.
 */
import type { CaptureOrigin, Confirmation, SourceLocation, Verdict } from '../analysis/types';
import type { LossRequest, RuntimeCheck } from '../losses/api';
import { elementCount, floatValues, isFloating } from '../losses/validate';
import type { CaptureComparison } from './recompute';

/** The recomputed figures a verdict reads (what `compareCapture` returns, less the correction's request). */
export type ComparedFigures = Pick<CaptureComparison, 'result' | 'error' | 'checks' | 'corrected'>;

export interface CaptureJudgement {
  /** Each rule reported at the call by the static analysis, with the capture's verdict on it. */
  verdicts: { rule: string; confirmation: Confirmation }[];
  /**
   * Run-time checks that fired with no static counterpart at the call: findings of their own (none when the capture
   * is stale, or may be of another call of this loss).
   */
  runtimeFindings: RuntimeCheck[];
}

export interface JudgementInput {
  /** The rule IDs the static analysis reports at the call (`findingsAtCall`). */
  rules: readonly string[];
  /** The capture's id and where it is saved. */
  capture: string;
  origin?: CaptureOrigin;
  /** How the capture was paired with the call (`matchCapture`). */
  match: { stale: boolean; certain: boolean };
  /** The request the capture stands for and its recomputed figures; not needed for a stale capture. */
  request?: LossRequest;
  comparison?: ComparedFigures;
}

/** A loss call's places, as the findings at it are looked for. */
export interface CallPlaces {
  location: SourceLocation;
  constructorLocation?: SourceLocation;
}

/** The static findings a capture of `call` speaks to: those inside the call or the loss's constructor (capture-sourced ones excluded). */
export function findingsAtCall<F extends { location: SourceLocation; source?: 'static' | 'capture' }>(findings: readonly F[], call: CallPlaces): F[] {
  return findings.filter((finding) => finding.source !== 'capture' && (within(finding.location, call.location) || (call.constructorLocation !== undefined && within(finding.location, call.constructorLocation))));
}

function within(inner: SourceLocation, outer: SourceLocation): boolean {
  if (inner.cell !== outer.cell || inner.file !== outer.file) return false;
  const before = (a: { line: number; character: number }, b: { line: number; character: number }) => a.line < b.line || (a.line === b.line && a.character <= b.character);
  return before(outer.range.start, inner.range.start) && before(inner.range.end, outer.range.end);
}

const SQUASHING_RULES = new Set(['softmax-before-cross-entropy', 'sigmoid-before-bce-with-logits']);

/** The capture's verdict on each rule at its call, and the run-time checks with no static counterpart there. */
export function judgeCapture(input: JudgementInput): CaptureJudgement {
  const { rules, capture, origin, match } = input;
  if (match.stale) {
    const message = `capture ${capture} is stale: the code it was taken from changed since; capture again`;
    return { verdicts: rules.map((rule) => ({ rule, confirmation: { verdict: 'stale', capture, configured: null, corrected: null, gradientNormRatio: null, checks: [], message, ...(origin ? { origin } : {}) } })), runtimeFindings: [] };
  }
  const { request, comparison } = input;
  if (!request || !comparison) throw new Error(`capture ${capture}: a verdict needs the recomputed capture`);
  const fired = new Set(comparison.checks.map((check) => check.rule));
  const counterparts = new Set<string>();
  const verdicts = rules.map((rule) => {
    let evidence = evidenceFor(rule, request, fired);
    // Lowering a finding on a capture that may be of another call could hide a real error: say so instead.
    if (evidence.verdict === 'refuted' && !match.certain) evidence = { ...inconclusive, reason: `${evidence.reason}, but the capture may be of another call of this loss (capture with loss_lens.watch or "Inspect loss" to tell)` };
    for (const check of evidence.checks) counterparts.add(check);
    // A loss near ln(C) is what a double softmax or sigmoid does: a symptom of the confirmed finding, not another one.
    if (evidence.verdict === 'confirmed' && SQUASHING_RULES.has(rule)) counterparts.add('loss-near-uniform');
    return { rule, confirmation: confirmation(evidence, capture, comparison, request, origin) };
  });
  // A capture that may be of another call must not put a finding of its own on this one.
  const runtimeFindings = match.certain ? comparison.checks.filter((check) => !counterparts.has(check.rule)) : [];
  return { verdicts, runtimeFindings };
}

interface Evidence {
  verdict: Exclude<Verdict, 'stale'>;
  /** The run-time checks that decided (a check that did not fire decides a refutation). */
  checks: string[];
  /** Why, in words (for confirmed and refuted). */
  reason: string;
}

const inconclusive: Evidence = { verdict: 'inconclusive', checks: [], reason: 'captured tensors neither confirm nor refute this' };

/** What the captured request says about one static finding. */
function evidenceFor(rule: string, request: LossRequest, fired: ReadonlySet<string>): Evidence {
  const classLoss = request.loss === 'cross_entropy' || request.loss === 'nll_loss';
  const floatInput = isFloating(request.input.dtype);
  const { input, target } = request;
  const confirmed = (reason: string, checks: string[] = []): Evidence => ({ verdict: 'confirmed', checks, reason });
  const refuted = (reason: string, checks: string[] = []): Evidence => ({ verdict: 'refuted', checks, reason });
  switch (rule) {
    case 'softmax-before-cross-entropy':
      if (!classLoss || !floatInput) return inconclusive;
      return fired.has('input-rows-sum-to-one')
        ? confirmed('every row of the captured input is in [0, 1] and sums to 1', ['input-rows-sum-to-one'])
        : refuted('the rows of the captured input do not sum to 1: these are raw logits, as the loss expects', ['input-rows-sum-to-one']);
    case 'sigmoid-before-bce-with-logits':
      if (request.loss !== 'binary_cross_entropy_with_logits' || !floatInput) return inconclusive;
      return fired.has('input-in-unit-interval')
        ? confirmed('every value of the captured input is in [0, 1]', ['input-in-unit-interval'])
        : refuted('the captured input has values outside [0, 1]: these are raw logits, as the loss expects', ['input-in-unit-interval']);
    case 'logits-to-probability-loss':
      if (request.loss !== 'binary_cross_entropy' || !floatInput) return inconclusive;
      return fired.has('input-outside-unit-interval')
        ? confirmed('the captured input has values outside [0, 1]', ['input-outside-unit-interval'])
        : refuted('every value of the captured input is in [0, 1]: these are probabilities, as the loss expects', ['input-outside-unit-interval']);
    case 'log-softmax-before-cross-entropy':
      if (request.loss !== 'cross_entropy' || !floatInput) return inconclusive;
      return logProbabilityRows(request)
        ? confirmed('the captured input is log-probabilities (the exponentials of each row sum to 1)')
        : refuted('the captured input is not log-probabilities (the exponentials of its rows do not sum to 1)');
    case 'nll-without-log-softmax':
      if (request.loss !== 'nll_loss' || !floatInput) return inconclusive;
      return logProbabilityRows(request)
        ? refuted('the captured input is log-probabilities (the exponentials of each row sum to 1), as nll_loss expects')
        : confirmed('the captured input is not log-probabilities (the exponentials of its rows do not sum to 1)');
    case 'float-class-index-target':
      if (!classLoss) return inconclusive;
      if (fired.has('target-float-integers')) return confirmed(`the captured target is ${target.dtype} holding whole numbers`, ['target-float-integers']);
      return isFloating(target.dtype) ? inconclusive : refuted(`the captured target holds ${target.dtype} class indices`, ['target-float-integers']);
    case 'one-hot-target-to-cross-entropy':
      if (!classLoss) return inconclusive;
      if (fired.has('target-one-hot')) return confirmed('every row of the captured target is one-hot', ['target-one-hot']);
      return target.shape.length < input.shape.length ? refuted('the captured target holds class indices', ['target-one-hot']) : inconclusive;
    case 'multi-hot-target-to-cross-entropy':
      if (!classLoss) return inconclusive;
      if (fired.has('target-multi-hot')) return confirmed('rows of the captured target have several ones', ['target-multi-hot']);
      if (fired.has('target-one-hot') || target.shape.length < input.shape.length) return refuted('the captured target has exactly one class per row', ['target-multi-hot']);
      return inconclusive;
    case 'integer-target-to-bce':
      if (classLoss) return inconclusive;
      return isFloating(target.dtype) ? refuted(`the captured target is ${target.dtype}`) : confirmed(`the captured target is ${target.dtype}`);
    case 'target-extra-dim':
      if (!classLoss || input.shape.length < 2) return inconclusive;
      if (target.shape.length === input.shape.length && target.shape[1] === 1 && input.shape[1] > 1) return confirmed(`the captured target has shape [${target.shape.join(', ')}]`);
      return target.shape.length === input.shape.length - 1 ? refuted(`the captured target has shape [${target.shape.join(', ')}], one index per row`) : inconclusive;
    case 'bce-shape-mismatch':
      if (classLoss) return inconclusive;
      return input.shape.join() === target.shape.join()
        ? refuted(`the captured input and target both have shape [${input.shape.join(', ')}]`)
        : confirmed(`the captured input has shape [${input.shape.join(', ')}] and the target [${target.shape.join(', ')}]`);
    case 'single-logit-cross-entropy':
      if (request.loss !== 'cross_entropy' || input.shape.length < 2) return inconclusive;
      return input.shape[1] === 1 ? confirmed('the captured input has one class') : refuted(`the captured input has ${input.shape[1]} classes`);
    case 'class-weight-length': {
      if (!classLoss || !request.weight || input.shape.length === 0) return inconclusive;
      const classes = input.shape.length === 1 ? input.shape[0] : input.shape[1];
      const length = elementCount(request.weight.shape);
      return length === classes ? refuted(`the captured weight has one value per class (${classes})`) : confirmed(`the captured weight has ${length} values for ${classes} classes`);
    }
    case 'argmax-into-loss':
      return floatInput ? inconclusive : confirmed(`the captured input is ${input.dtype}`);
    default:
      return inconclusive;
  }
}

/** The exponentials of each row (along the class axis) sum to 1: log-probabilities. */
function logProbabilityRows(request: LossRequest): boolean {
  const { shape } = request.input;
  if (shape.length === 0) return false;
  const classes = shape.length === 1 ? shape[0] : shape[1];
  const inner = elementCount(shape.slice(2));
  const batch = shape.length === 1 ? 1 : shape[0];
  const values = floatValues(request.input);
  if (classes < 2 || values.length === 0) return false;
  for (let n = 0; n < batch; n++) {
    for (let j = 0; j < inner; j++) {
      let sum = 0;
      for (let c = 0, at = n * classes * inner + j; c < classes; c++, at += inner) sum += Math.exp(values[at]);
      if (!(Math.abs(sum - 1) <= 1e-3)) return false;
    }
  }
  return true;
}

function confirmation(evidence: Evidence, capture: string, comparison: ComparedFigures, request: LossRequest, origin: CaptureOrigin | undefined): Confirmation {
  const configured = comparison.result?.value ?? null;
  const corrected = comparison.corrected?.result.value ?? null;
  const gradientNormRatio = comparison.corrected?.gradientNormRatio ?? null;
  let message: string;
  if (evidence.verdict === 'confirmed') {
    const figures: string[] = [];
    if (comparison.error !== undefined) figures.push(`PyTorch raises: ${comparison.error}`);
    else if (configured !== null) figures.push(`loss ${figure(configured)}`);
    if (corrected !== null && comparison.corrected) {
      const how = request.loss === 'binary_cross_entropy' && comparison.corrected.result.loss === 'binary_cross_entropy_with_logits' ? 'with logits' : 'on the logits';
      figures[figures.length - 1] = `${figures[figures.length - 1] ?? ''}, ${how} ${figure(corrected)}`.replace(/^, /, '');
    }
    if (gradientNormRatio !== null && gradientNormRatio > 0 && Number.isFinite(gradientNormRatio)) {
      figures.push(gradientNormRatio < 1 ? `gradients ${(1 / gradientNormRatio).toFixed(1)}x smaller` : `gradients ${gradientNormRatio.toFixed(1)}x larger`);
    }
    message = `confirmed on captured tensors: ${figures.length > 0 ? figures.join('; ') : evidence.reason}`;
    if (figures.length > 0) message += ` (${evidence.reason})`;
  } else if (evidence.verdict === 'refuted') {
    message = `refuted by captured tensors: ${evidence.reason}`;
  } else {
    message = `${evidence.reason}${configured !== null ? ` (loss ${figure(configured)})` : ''}`;
  }
  return { verdict: evidence.verdict, capture, configured, corrected, gradientNormRatio, checks: evidence.checks, message, ...(origin ? { origin } : {}) };
}

/** Four significant digits, as the panel shows losses. */
function figure(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(4))) : String(value);
}
