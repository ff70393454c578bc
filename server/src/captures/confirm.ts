/**
 * Captured tensors confirm or refute the static findings at their loss call, and add the run-time checks the
 * static analysis could not see as findings of their own. Shared by the CLI and the language server; the panel
 * computes its numbers with the same `compareCapture` and pairs captures with the same `matchCapture`.
 *
 * Browser-safe apart from the engine's backends (the default `run` is the host kernel `js`).
 */
import type { AnalysisOptions, AnalysisResult, CaptureOrigin, Confirmation, Finding, ProgramSource, Severity, SourceLocation, Verdict } from '../analysis/types';
import type { LossRequest, LossResult } from '../losses/api';
import { computeLoss } from '../losses/engine';
import { elementCount, floatValues, isFloating } from '../losses/validate';
import { currentCode, matchCapture, type MatchableCall } from './match';
import { compareCapture, requestFor, type CaptureComparison } from './recompute';
import type { CaptureRecord } from './record';
import type { CaptureTensors } from './tensors';

/** A capture as read from a notebook output or a capture folder. */
export interface SavedCapture {
  record: CaptureRecord;
  /** The notebook cell whose output holds it. */
  cell?: number;
  /** Where it is: the output's cell, or the folder's `manifest.json`. */
  origin: CaptureOrigin;
  /** Decodes its tensors (inline data, or the folder's files); throws when they cannot be read. */
  tensors(): CaptureTensors;
}

export interface ConfirmationOutcome {
  findings: Finding[];
  /** Captures that matched a call but could not be recomputed, with why. */
  problems: { capture: string; message: string }[];
}

/** Recomputed captures (figures only), by capture id and the findings that select a correction (the language server keeps one). */
export type ComparisonCache = Map<string, Promise<Omit<CaptureComparison, 'correction'>>>;

const SQUASHING_RULES = new Set(['softmax-before-cross-entropy', 'sigmoid-before-bce-with-logits']);

const IGNORE_COMMENT = /#\s*loss-lens:\s*ignore(?:\[([^\]]*)\])?\s*(?:#.*)?$/;

/**
 * The findings of `result` with a `confirmation` where a (fresh or stale) capture matches their loss call, refuted
 * ones lowered to information, plus one finding per failed run-time check with no static counterpart (`source: capture`).
 */
export async function confirmFindings(
  program: ProgramSource,
  result: AnalysisResult,
  captures: readonly SavedCapture[],
  options: AnalysisOptions = {},
  cache: ComparisonCache = new Map(),
  /** The current text of a project module the analysis followed (`result.modules`): a capture's fingerprint covers them. */
  moduleText?: (file: string) => string | undefined,
  run: (request: LossRequest) => Promise<LossResult> = (request) => computeLoss(request, { backend: 'js' }),
): Promise<ConfirmationOutcome> {
  const findings = result.findings.map((finding) => ({ ...finding }));
  const problems: ConfirmationOutcome['problems'] = [];
  if (captures.length === 0) return { findings, problems };
  const unitText = new Map(program.units.map((unit) => [unit.cell, unit.text]));
  const lineOf = (location: SourceLocation): string => (unitText.get(location.cell)?.split('\n')[location.range.start.line] ?? '').replace(/\r$/, '');
  const calls = result.lossCalls.map((call, index): MatchableCall => ({
    id: String(index),
    loss: call.loss,
    cell: call.location.cell,
    line: call.location.range.start.line,
    text: textIn(unitText.get(call.location.cell) ?? '', call.location),
    lineText: lineOf(call.location).trim(),
  }));

  // The latest capture of each call speaks for it.
  const code = currentCode(program.units, result.modules, moduleText);
  const latest = new Map<string, { capture: SavedCapture; stale: boolean; certain: boolean }>();
  for (const capture of captures) {
    const match = matchCapture(capture, calls, code);
    if (!match) continue;
    const previous = latest.get(match.callId);
    if (!previous || previous.capture.record.createdAt <= capture.record.createdAt) latest.set(match.callId, { capture, stale: match.stale, certain: match.certain });
  }

  for (const [callId, { capture, stale, certain }] of latest) {
    const call = result.lossCalls[Number(callId)];
    const atCall = findings.filter((finding) => finding.source !== 'capture' && (within(finding.location, call.location) || (call.constructorLocation !== undefined && within(finding.location, call.constructorLocation))));
    const id = capture.record.id;
    if (stale) {
      for (const finding of atCall) {
        finding.confirmation = { verdict: 'stale', capture: id, configured: null, corrected: null, gradientNormRatio: null, checks: [], message: `capture ${id} is stale: the code it was taken from changed since; capture again`, origin: capture.origin };
      }
      continue;
    }
    let request: LossRequest;
    let comparison: Omit<CaptureComparison, 'correction'>;
    const rules = [...new Set(atCall.map((finding) => finding.rule))].sort();
    try {
      request = requestFor(capture.record, capture.tensors());
      const key = `${id}|${rules.join(',')}`;
      let pending = cache.get(key);
      if (!pending) {
        // The correction's request holds input-sized arrays: the cache keeps the figures only.
        pending = compareCapture(request, rules, run).then(({ correction: _correction, ...figures }) => figures);
        cache.set(key, pending);
      }
      comparison = await pending;
    } catch (error) {
      problems.push({ capture: id, message: error instanceof Error ? error.message : String(error) });
      continue;
    }
    const fired = new Set(comparison.checks.map((check) => check.rule));
    const counterparts = new Set<string>();
    for (const finding of atCall) {
      let evidence = evidenceFor(finding.rule, request, fired);
      // Lowering a finding on a capture that may be of another call could hide a real error: say so instead.
      if (evidence.verdict === 'refuted' && !certain) evidence = { ...inconclusive, reason: `${evidence.reason}, but the capture may be of another call of this loss (capture with loss_lens.watch or "Inspect loss" to tell)` };
      for (const check of evidence.checks) counterparts.add(check);
      // A loss near ln(C) is what a double softmax or sigmoid does: a symptom of the confirmed finding, not another one.
      if (evidence.verdict === 'confirmed' && SQUASHING_RULES.has(finding.rule)) counterparts.add('loss-near-uniform');
      finding.confirmation = confirmation(evidence, id, comparison, request, capture.origin);
      if (evidence.verdict === 'refuted') finding.severity = 'information';
    }
    // A capture that may be of another call must not put a finding of its own on this one.
    if (!certain) continue;
    const inputLocation = call.inputLocation ?? call.location;
    for (const check of comparison.checks) {
      if (counterparts.has(check.rule) || !reported(check.rule, options)) continue;
      if (suppressed(lineOf(inputLocation), check.rule)) continue;
      const severity = options.severities?.[check.rule];
      findings.push({
        rule: check.rule,
        severity: severity && severity !== 'off' ? severity : (check.severity as Severity),
        message: `${check.message} (on the tensors of capture ${id})`,
        location: inputLocation,
        related: capture.origin.cell !== undefined ? [{ location: { cell: capture.origin.cell, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } }, message: 'the capture' }] : [],
        source: 'capture',
      });
    }
  }
  findings.sort(compareFindings);
  return { findings, problems };
}

function reported(rule: string, options: AnalysisOptions): boolean {
  if (options.select && !options.select.includes(rule)) return false;
  if (options.ignore?.includes(rule)) return false;
  return options.severities?.[rule] !== 'off';
}

function suppressed(line: string, rule: string): boolean {
  const match = IGNORE_COMMENT.exec(line);
  return match !== null && (match[1] === undefined || match[1].split(',').map((id) => id.trim()).includes(rule));
}

function textIn(text: string, location: SourceLocation): string {
  const lines = text.split('\n');
  const { start, end } = location.range;
  if (start.line === end.line) return (lines[start.line] ?? '').slice(start.character, end.character);
  return [(lines[start.line] ?? '').slice(start.character), ...lines.slice(start.line + 1, end.line), (lines[end.line] ?? '').slice(0, end.character)].join('\n');
}

function within(inner: SourceLocation, outer: SourceLocation): boolean {
  if (inner.cell !== outer.cell) return false;
  const before = (a: { line: number; character: number }, b: { line: number; character: number }) => a.line < b.line || (a.line === b.line && a.character <= b.character);
  return before(outer.range.start, inner.range.start) && before(inner.range.end, outer.range.end);
}

function compareFindings(a: Finding, b: Finding): number {
  return (
    (a.location.cell ?? -1) - (b.location.cell ?? -1) ||
    a.location.range.start.line - b.location.range.start.line ||
    a.location.range.start.character - b.location.range.start.character ||
    (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0)
  );
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

function confirmation(evidence: Evidence, capture: string, comparison: Omit<CaptureComparison, 'correction'>, request: LossRequest, origin: CaptureOrigin): Confirmation {
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
  return { verdict: evidence.verdict, capture, configured, corrected, gradientNormRatio, checks: evidence.checks, message, origin };
}

/** Four significant digits, as the panel shows losses. */
function figure(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(4))) : String(value);
}
