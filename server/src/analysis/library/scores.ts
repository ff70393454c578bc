import { child, namedChildren, textOf, type PyNode } from '../../parse/tree';
import type { Framework } from '../types';
import { factsOf, tensor, UNKNOWN, type ArgumentFacts, type NodeEdit, type Origin, type ScoreKind, type Scope, type Value } from '../values';
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
    ctx.addEvent({ kind: 'softmax-without-dim', node: call, framework, origins: [] });
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

/** A row: the natural logarithm. */
export const LOG: FunctionModel = { call: (ctx, args, node, path, scope) => applyLog(ctx, argument(args, 0, 'input', 'x'), node, frameworkOfPath(path), scope) };

/** A row: argmax-like (predicted class indices, no gradient). */
export const ARGMAX: FunctionModel = { call: (_ctx, _args, node) => predictedLabels(node, 'argmax of the scores', 'int') };

/** A row: rounding (predicted 0/1 labels of probabilities, as floats). */
export const ROUND: FunctionModel = { call: (_ctx, _args, node) => predictedLabels(node, 'rounded predictions', 'float') };

/** A row: a sum or mean over the first argument. */
export const REDUCTION: FunctionModel = { call: (_ctx, args) => reduce(args.positional[0]?.value ?? UNKNOWN) };

/** A row: a wrapper that calls the wrapped module (`torch.compile(model)`): the model itself. */
export const SAME_MODEL: FunctionModel = { call: (_ctx, args) => args.positional[0]?.value ?? UNKNOWN };

/** A row: a function whose first argument reaches a gradient (`torch.autograd.grad(loss, params)`). */
export const BACKPROPAGATES_FIRST: FunctionModel = {
  call: (ctx, args) => {
    const first = args.positional[0];
    if (first) ctx.markBackpropagated(first.value);
    return UNKNOWN;
  },
};

/** `log(p)`: of softmax/sigmoid probabilities it is a log-of-softmax / log-of-sigmoid expression. */
export function applyLog(ctx: LibraryContext, input: ArgumentFacts | undefined, call: PyNode, framework: Framework, scope: Scope | undefined): Value {
  const facts = factsOf(input?.value ?? UNKNOWN);
  const score = facts.score;
  if (!score || score.value !== 'probabilities') return tensor(withLossOf({}, input?.value ?? UNKNOWN));
  const complement = input?.node ? isComplement(input.node) : false;
  if (score.activation === 'softmax') {
    const fix = input?.node ? logSoftmaxFix(call, input.node, score.origins) : undefined;
    ctx.addEvent({ kind: 'log-of-softmax', node: call, framework, origins: score.origins, fix });
    return tensor({
      score: { value: 'log-probabilities', activation: 'log_softmax', origins: score.origins },
      logOfProbabilities: { value: true, origins: score.origins },
      lastDim: facts.lastDim,
    });
  }
  if (score.activation === 'sigmoid') {
    const fix = input?.node ? logSigmoidFix(ctx, call, input.node, complement, scope) : undefined;
    ctx.addEvent({ kind: 'log-of-sigmoid', node: call, framework, origins: score.origins, fix, complement });
    return tensor({ logOfProbabilities: { value: true, origins: score.origins } });
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
