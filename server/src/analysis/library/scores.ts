import { child, namedChildren, textOf, type PyNode } from '../../parse/tree';
import type { Framework } from '../types';
import { factsOf, tensor, UNKNOWN, type ArgumentFacts, type ExpressionEvent, type NodeEdit, type Origin, type ScoreKind, type Scope, type TensorFacts, type Value } from '../values';
import { argument, type FunctionModel, type LibraryContext } from './context';
import { frameworkOfPath, isComplement, origin, predictedLabels, reduce, replaceNode, scoreFacts, unparenthesize, withLossOf } from './common';

/**
 * The kinds of rows the function tables are made of (`torch.ts`, `tensorflow.ts`, ...): each returns a
 * `FunctionModel` saying what a call of that function returns. A framework file lists its paths with one of these.
 */

export type ActivationName = 'softmax' | 'sigmoid' | 'log_softmax' | 'log_sigmoid';

const ACTIVATION_MESSAGES: Record<ActivationName, string> = {
  softmax: 'softmax applied here',
  sigmoid: 'sigmoid applied here',
  log_softmax: 'log_softmax applied here',
  log_sigmoid: 'logsigmoid applied here',
};

/**
 * `softmax(x, dim)` in any spelling: the result is probabilities (log-probabilities for the log variants), with the
 * input's shape; without `dim` it is a PyTorch deprecation (`softmax-without-dim`).
 */
export function applyActivation(ctx: LibraryContext, activation: ActivationName, input: ArgumentFacts | undefined, call: PyNode, framework: Framework, hasDim: boolean): Value {
  // Dropping the activation replaces the call by its input (a `dtype=` given to it goes too: the loss casts anyway).
  const removal = input?.node ? [replaceNode(call, textOf(input.node))] : undefined;
  const base = factsOf(input?.value ?? UNKNOWN);
  if ((activation === 'softmax' || activation === 'log_softmax') && !hasDim && framework === 'pytorch') {
    ctx.addEvent({ kind: 'softmax-without-dim', node: call, framework, origins: [], inputRank: base.rank?.value });
  }
  const kind: ScoreKind = activation === 'softmax' || activation === 'sigmoid' ? 'probabilities' : 'log-probabilities';
  return tensor(scoreFacts(kind, activation, [origin(call, ACTIVATION_MESSAGES[activation], removal)], base));
}

/** A row: a softmax-like function over an axis (`dim`/`axis`, second positional). */
export function softmaxFunction(activation: 'softmax' | 'log_softmax'): FunctionModel {
  return {
    activation,
    call: (ctx, args, node, path) => {
      const hasDim = args.positional.length > 1 || args.keywords.has('dim') || args.keywords.has('axis');
      return applyActivation(ctx, activation, argument(args, 0, 'input', 'x', 'logits'), node, frameworkOfPath(path), hasDim);
    },
  };
}

/** A row: an element-wise sigmoid-like function. */
export function sigmoidFunction(activation: 'sigmoid' | 'log_sigmoid'): FunctionModel {
  return { activation, call: (ctx, args, node, path) => applyActivation(ctx, activation, argument(args, 0, 'input', 'x'), node, frameworkOfPath(path), true) };
}

/** A row: the natural logarithm, of a library that differentiates through it (`gradient`) or not (NumPy, `math`). */
export function logFunction(gradient: boolean): FunctionModel {
  return { call: (ctx, args, node, path, scope) => applyLog(ctx, argument(args, 0, 'input', 'x'), node, frameworkOfPath(path), scope, gradient) };
}

export const LOG = logFunction(true);

/**
 * A row: clamping (`torch.clamp(p, eps, 1)`, `np.clip`, `tf.clip_by_value`): the kind of score stays; a positive
 * lower bound (`min`, under each library's name) keeps a later log finite.
 */
export function clampFunction(...lowerBoundNames: string[]): FunctionModel {
  return { call: (_ctx, args, node) => clamped(argument(args, 0, 'input', 'x', 'a', 't')?.value ?? UNKNOWN, argument(args, 1, ...lowerBoundNames), node) };
}

/** What clamping `input` from `lowerBound` (absent, `None` or `0`: no lower bound) gives. */
export function clamped(input: Value, lowerBound: ArgumentFacts | undefined, node: PyNode): Value {
  const facts = factsOf(input);
  const bound = lowerBound?.value;
  const guards = bound !== undefined && !(bound.kind === 'number' && bound.value <= 0) && !(lowerBound?.node && textOf(lowerBound.node) === 'None');
  const result: TensorFacts = {};
  if (facts.score) result.score = facts.score;
  if (facts.lossOf) result.lossOf = facts.lossOf;
  if (facts.detached) result.detached = facts.detached;
  if (facts.library) result.library = facts.library;
  if (guards) result.guarded = { value: 'clamp', origins: [origin(node, 'kept away from 0 by a clamp')] };
  else if (facts.guarded) result.guarded = facts.guarded;
  return tensor(result);
}

/** A row: argmax-like (predicted class indices, no gradient). */
export const ARGMAX: FunctionModel = { call: (_ctx, _args, node) => predictedLabels(node, 'argmax of the scores', 'int') };

/** A row: rounding (predicted 0/1 labels of probabilities, as floats). */
export const ROUND: FunctionModel = { call: (_ctx, _args, node) => predictedLabels(node, 'rounded predictions', 'float') };

/** A row: a sum or mean over the first argument. */
export const REDUCTION: FunctionModel = { call: (_ctx, args) => reduce(args.positional[0]?.value ?? UNKNOWN) };

/** A row: a wrapper that calls the wrapped module (`torch.compile(model)`): the model itself. */
export const SAME_MODEL: FunctionModel = { call: (_ctx, args) => argument(args, 0, 'module', 'model')?.value ?? UNKNOWN };

/** A row: a function whose first argument reaches a gradient (`torch.autograd.grad(loss, params)`). */
export const BACKPROPAGATES_FIRST: FunctionModel = {
  call: (ctx, args) => {
    const first = args.positional[0];
    if (first) ctx.markBackpropagated(first.value);
    return UNKNOWN;
  },
};

/**
 * `log(p)`: of softmax/sigmoid probabilities it is a log-of-softmax / log-of-sigmoid expression, reported where a
 * gradient can flow through it. Under `torch.no_grad()`, on a detached tensor or a NumPy array a -inf cannot reach the
 * weights (sampling, decoding): the event rides on the result instead, and is reported only if an entropy `p * log(p)`
 * turns the -inf into NaN (the interpreter's `*`). A guarded log (`log(p + eps)`, `log(p.clamp(min=eps))`) says so.
 */
export function applyLog(ctx: LibraryContext, input: ArgumentFacts | undefined, call: PyNode, framework: Framework, scope: Scope | undefined, gradient = true): Value {
  const facts = factsOf(input?.value ?? UNKNOWN);
  const score = facts.score;
  if (!score || score.value !== 'probabilities') return tensor(withLossOf({}, input?.value ?? UNKNOWN));
  const complement = input?.node ? isComplement(input.node) : false;
  const reported = gradient && !facts.detached && facts.library?.value !== 'numpy' && ctx.gradientEnabled();
  const guarded = facts.guarded?.value;
  const withEvent = (event: ExpressionEvent, result: TensorFacts): Value => {
    if (guarded) event.guarded = guarded;
    if (reported) ctx.addEvent(event);
    else result.logWithoutGradient = event;
    return tensor(result);
  };
  if (score.activation === 'softmax') {
    const fix = input?.node ? logSoftmaxFix(call, input.node, score.origins) : undefined;
    return withEvent(
      { kind: 'log-of-softmax', node: call, framework, origins: score.origins, fix },
      {
        score: { value: 'log-probabilities', activation: 'log_softmax', origins: score.origins },
        logOfProbabilities: { value: true, origins: score.origins },
        lastDim: facts.lastDim,
      },
    );
  }
  if (score.activation === 'sigmoid') {
    const fix = input?.node ? logSigmoidFix(ctx, call, input.node, complement, scope) : undefined;
    return withEvent({ kind: 'log-of-sigmoid', node: call, framework, origins: score.origins, fix, complement }, { logOfProbabilities: { value: true, origins: score.origins } });
  }
  return tensor({});
}

/** `torch.log(F.softmax(x, dim=1))` → `F.log_softmax(x, dim=1)`: only when the softmax call is the log's direct argument. */
function logSoftmaxFix(logCall: PyNode, inputNode: PyNode, origins: Origin[]): NodeEdit[] | undefined {
  const inner = unparenthesize(inputNode);
  if (inner.type !== 'call' || origins.length !== 1 || origins[0].node !== inner) return undefined;
  const callee = child(inner, 'function');
  if (!callee) return undefined;
  const calleeText = textOf(callee);
  if (!/softmax$/.test(calleeText)) return undefined;
  const renamed = calleeText.replace(/softmax$/, 'log_softmax');
  return [replaceNode(logCall, renamed + textOf(inner).slice(calleeText.length))];
}

function logSigmoidFix(ctx: LibraryContext, logCall: PyNode, inputNode: PyNode, complement: boolean, scope: Scope | undefined): NodeEdit[] | undefined {
  let inner = unparenthesize(inputNode);
  if (complement) inner = unparenthesize(child(inner, 'right')!);
  if (inner.type !== 'call') return undefined;
  const argsNode = child(inner, 'arguments');
  const callee = child(inner, 'function');
  if (!argsNode || !callee) return undefined;
  let argumentText: string;
  const receiverOfMethod = callee.type === 'attribute' && textOf(child(callee, 'attribute')!) === 'sigmoid' && namedChildren(argsNode).length === 0;
  if (receiverOfMethod) argumentText = textOf(child(callee, 'object')!);
  else {
    const args = namedChildren(argsNode);
    if (args.length !== 1 || args[0].type === 'keyword_argument') return undefined;
    argumentText = textOf(args[0]);
  }
  const spelling = logSigmoidSpelling(ctx.visibleBindings(scope));
  if (!spelling) return undefined;
  const operand = complement ? (/^[\w.]+$/.test(argumentText) ? `-${argumentText}` : `-(${argumentText})`) : argumentText;
  return [replaceNode(logCall, `${spelling}(${operand})`)];
}

/** How to spell PyTorch's logsigmoid with the names this program has bound (`F.logsigmoid`, `torch.nn.functional.logsigmoid`). */
function logSigmoidSpelling(scopes: Map<string, Value>[]): string | undefined {
  for (const scope of scopes) {
    for (const [name, value] of scope) {
      if (value.kind !== 'ref') continue;
      if (value.path === 'torch.nn.functional') return `${name}.logsigmoid`;
    }
  }
  for (const scope of scopes) for (const [name, value] of scope) if (value.kind === 'ref' && value.path === 'torch') return `${name}.nn.functional.logsigmoid`;
  return undefined;
}

/**
 * `exp(x)`: of log_softmax / logsigmoid output it is softmax / sigmoid probabilities again (no edit undoes it: the
 * origin is the exp); of anything else it is an exponential, which a division by its own sum makes a softmax. A
 * library without gradients (NumPy) computes softmax by hand on purpose (a from-scratch network, a metric): its
 * exponential is not tracked (`differentiable` false), so no rule suggests a built-in loss there.
 */
export function exponential(input: Value, node: PyNode, differentiable = true): Value {
  const facts = factsOf(input);
  const score = facts.score;
  if (score?.value === 'log-probabilities' && (score.activation === 'log_softmax' || score.activation === 'log_sigmoid')) {
    const activation = score.activation === 'log_softmax' ? 'softmax' : 'sigmoid';
    return tensor(scoreFacts('probabilities', activation, [origin(node, `exp of ${score.activation}: ${activation} probabilities`)], facts));
  }
  return tensor(withLossOf(differentiable ? { exponential: { value: true, origins: [origin(node, 'exp')] } } : {}, input));
}

/** A row: `torch.exp`, `tf.exp`, `jnp.exp` (`differentiable`), `np.exp` (not). */
export function expFunction(differentiable: boolean): FunctionModel {
  return { call: (_ctx, args, node) => exponential(argument(args, 0, 'input', 'x')?.value ?? UNKNOWN, node, differentiable) };
}

export const EXP = expFunction(true);

const SUM_CALLEE = /(^|\.)(sum|reduce_sum)$/;
const EXP_CALLEE = /(^|\.)exp$/;

function sameExpression(a: PyNode, b: PyNode): boolean {
  return textOf(unparenthesize(a)).replace(/\s+/g, '') === textOf(unparenthesize(b)).replace(/\s+/g, '');
}

function keepsDims(call: PyNode): boolean {
  const argumentList = child(call, 'arguments');
  return (argumentList ? namedChildren(argumentList) : []).some(
    (a) => a.type === 'keyword_argument' && /^keepdims?$/.test(textOf(child(a, 'name')!)) && textOf(child(a, 'value')!) === 'True',
  );
}

/** `s` is a sum of `e` over an axis that keeps its dims: `e.sum(1, keepdim=True)`, `torch.sum(e, 1, keepdim=True)`, `tf.reduce_sum(e, -1, keepdims=True)`. */
function isKeptSumOf(s: PyNode, e: PyNode): boolean {
  const call = unparenthesize(s);
  const callee = call.type === 'call' ? child(call, 'function') : undefined;
  if (!callee || !SUM_CALLEE.test(textOf(callee)) || !keepsDims(call)) return false;
  if (callee.type === 'attribute' && textOf(child(callee, 'attribute')!) === 'sum' && sameExpression(child(callee, 'object')!, e)) return true;
  const argumentList = child(call, 'arguments');
  const first = argumentList ? namedChildren(argumentList)[0] : undefined;
  return first !== undefined && first.type !== 'keyword_argument' && sameExpression(first, e);
}

/** `1 + exp(-x)` (either order; `(-x).exp()` too; `1 + exp(x)` gives sigmoid(-x), a probability as well). */
function isOnePlusExp(node: PyNode): boolean {
  const sum = unparenthesize(node);
  if (sum.type !== 'binary_operator' || textOf(child(sum, 'operator')!) !== '+') return false;
  const [left, right] = [unparenthesize(child(sum, 'left')!), unparenthesize(child(sum, 'right')!)];
  const one = (n: PyNode) => /^1(\.0*)?$/.test(textOf(n));
  const isExp = (n: PyNode): boolean => {
    if (n.type !== 'call') return false;
    const callee = child(n, 'function')!;
    const argumentList = child(n, 'arguments');
    const args = argumentList ? namedChildren(argumentList) : [];
    // `x.exp()` (a method) or `torch.exp(x)` (a function of one argument).
    if (!EXP_CALLEE.test(textOf(callee))) return false;
    return args.length === 0 ? callee.type === 'attribute' : args.length === 1 && args[0].type !== 'keyword_argument';
  };
  return (one(left) && isExp(right)) || (one(right) && isExp(left));
}

/**
 * An activation written by hand as a division: `exp(x) / exp(x).sum(dim, keepdim=True)` (or `e / e.sum(..)` with
 * `e = exp(x)`) is a softmax, `1 / (1 + exp(-x))` a sigmoid; undefined for any other division.
 */
export function handWrittenActivation(division: PyNode, numerator: PyNode, denominator: PyNode, numeratorValue: Value): Value | undefined {
  const facts = factsOf(numeratorValue);
  if (facts.exponential && isKeptSumOf(denominator, numerator)) {
    return tensor(scoreFacts('probabilities', 'softmax', [origin(division, 'softmax written by hand: exp / sum of exp')], facts));
  }
  if (numeratorValue.kind === 'number' && numeratorValue.value === 1 && isOnePlusExp(denominator)) {
    return tensor(scoreFacts('probabilities', 'sigmoid', [origin(division, 'sigmoid written by hand: 1 / (1 + exp(..))')], {}));
  }
  return undefined;
}
