/**
 * The rule registry.
 *
 * HOW TO WRITE A RULE (one file per rule, listed in `RULES_IMPLEMENTED` below)
 *
 *   export const myRule: Rule = {
 *     info: { id, severity, category, description, example, fix },   // the catalogue row, as data
 *     check({ facts, report }) { ... },
 *   };
 *
 * `check` runs once per analysis over facts the evaluator computed once (`analysis/evaluate.ts`); a rule never walks
 * the syntax tree. The facts:
 *
 * - `facts.lossCalls: LossCallFacts[]` (`analysis/values.ts`): every recognised loss application.
 *     `spec` (canonical name, framework, `normalization` softmax|sigmoid, `target` form indices-or-probabilities |
 *     indices | one-hot | binary), `style` module|function|keras-compile, `call` (the call node), `callee`,
 *     `lossObject` (module losses: constructor node, `nameNode`, constructor options), `input`/`target`
 *     (`ArgumentFacts`: `node` = the argument expression, `value` = what it is), `options` (weight, pos_weight,
 *     reduction, ignore_index, label_smoothing, from_logits → `ArgumentFacts`), `expects` (logits | probabilities |
 *     log-probabilities, `from_logits` resolved; undefined when unknown), `inputReportNode` (where an input finding
 *     goes: the input argument, or Keras's `loss=` keyword), `model` (Keras), `backpropagated`.
 * - `facts.lossObjects: LossValue[]`: every loss object constructed, called or not (options checked at construction).
 * - `facts.events: ExpressionEvent[]`: expression-level observations (softmax-without-dim, log-of-softmax,
 *     log-of-sigmoid, manual-cross-entropy), each with its node, origins and a ready fix when known.
 * - `facts.moduleScope`: the names bound at module level at the end (to spell a fix: `F`, `torch`, `keras`).
 * - A value (`Value`) is a tensor (`kind: 'tensor'`, with `facts: TensorFacts`), a number, string, list/tuple (with
 *     `items`), a dict (string keys), a loss object, a layer, ... `factsOf(value)` gives the tensor facts or `{}`. Every fact is
 *     `{ value, origins }` where each origin is `{ node, message, removal? }` (the place that introduced it, and edits
 *     that undo it). TensorFacts: `score` (probabilities | log-probabilities | logits + `activation`), `encoding`
 *     (class-indices | one-hot | multi-hot | soft-labels), `dtype` (float | int | bool), `rank`, `lastDim` (classes /
 *     outputs: `nn.Linear(in, C)`, `Dense(C)`, literals, `torch.ones(C)`), `trailingOne` ([N, 1] from unsqueeze/view/
 *     reshape/[:, None]), `predictedLabels` (argmax, max(..)[1], round), `detached` (detach/item/numpy/tolist/.data),
 *     `library` (numpy | torch | tensorflow | jax), `lossOf` (loss sites whose result flows here).
 *     A missing fact means unknown: report nothing then. The lattice and flow rules: `docs/analysis.md`.
 *
 * REPORTING: `report({ node, message, framework, related?: Origin[], fix?: { title, edits: NodeEdit[] } })`.
 * `node` is where the finding goes (its unit gives the cell). Related origins may sit in other cells/functions.
 * Suppression comments, select/ignore/severities/frameworks options and de-duplication (a function evaluated at
 * several call sites) are applied by the engine. Helpers: `rules/helpers.ts`.
 */
import type { RuleInfo } from '../analysis/types';
import type { Rule } from './rule';
import { RUNTIME_RULES } from './runtime';
import { softmaxBeforeCrossEntropy } from './softmax-before-cross-entropy';
import { sigmoidBeforeBceWithLogits } from './sigmoid-before-bce-with-logits';
import { logitsToProbabilityLoss } from './logits-to-probability-loss';
import { nllWithoutLogSoftmax } from './nll-without-log-softmax';
import { logSoftmaxBeforeCrossEntropy } from './log-softmax-before-cross-entropy';
import { sigmoidThenBce } from './sigmoid-then-bce';
import { logOfSoftmax } from './log-of-softmax';
import { logOfSigmoid } from './log-of-sigmoid';
import { manualCrossEntropy } from './manual-cross-entropy';
import { softmaxWithoutDim } from './softmax-without-dim';
import { binaryCrossentropyMulticlass } from './binary-crossentropy-multiclass';
import { floatClassIndexTarget } from './float-class-index-target';
import { oneHotTargetToCrossEntropy } from './one-hot-target-to-cross-entropy';
import { multiHotTargetToCrossEntropy } from './multi-hot-target-to-cross-entropy';
import { integerTargetToBce } from './integer-target-to-bce';
import { targetExtraDim } from './target-extra-dim';
import { bceShapeMismatch } from './bce-shape-mismatch';
import { sparseLabelMismatch } from './sparse-label-mismatch';
import { singleLogitCrossEntropy } from './single-logit-cross-entropy';
import { classWeightLength } from './class-weight-length';
import { posWeightShape } from './pos-weight-shape';
import { weightNotTensor } from './weight-not-tensor';
import { argmaxIntoLoss } from './argmax-into-loss';
import { detachedLossInput } from './detached-loss-input';

/** Every static rule, run in this order: scores, targets, configuration. */
export const RULES_IMPLEMENTED: readonly Rule[] = [
  softmaxBeforeCrossEntropy,
  sigmoidBeforeBceWithLogits,
  logitsToProbabilityLoss,
  nllWithoutLogSoftmax,
  logSoftmaxBeforeCrossEntropy,
  sigmoidThenBce,
  logOfSoftmax,
  logOfSigmoid,
  manualCrossEntropy,
  softmaxWithoutDim,
  binaryCrossentropyMulticlass,
  floatClassIndexTarget,
  oneHotTargetToCrossEntropy,
  multiHotTargetToCrossEntropy,
  integerTargetToBce,
  targetExtraDim,
  bceShapeMismatch,
  sparseLabelMismatch,
  singleLogitCrossEntropy,
  classWeightLength,
  posWeightShape,
  weightNotTensor,
  argmaxIntoLoss,
  detachedLossInput,
];

/** The whole catalogue: static rules, then the run-time checks. */
export const RULES: RuleInfo[] = [...RULES_IMPLEMENTED.map((rule) => rule.info), ...RUNTIME_RULES];

export type { Rule, RuleContext, RuleFinding } from './rule';
