import { textOf, type PyNode } from '../../parse/tree';
import { factsOf, tensor, UNKNOWN, type CallArguments, type Value } from '../values';
import type { LibraryContext } from './context';
import { dtypeOfText, origin, predictedLabels, reduce, withLossOf } from './common';
import { applyActivation, applyLog } from './scores';

/**
 * Methods of tensors and arrays (PyTorch's, and NumPy's where they agree), by method name: `x.softmax(1)`, `y.float()`,
 * `t.view(-1, 1)`. The receiver may be of unknown type (a parameter): the method name alone decides.
 */

/** One row: what `receiver.method(args)` returns. */
export type MethodModel = (ctx: LibraryContext, receiver: Value, receiverNode: PyNode, method: string, args: CallArguments, node: PyNode) => Value;

const SOFTMAX_METHOD: MethodModel = (ctx, receiver, receiverNode, method, args, node) => {
  const dimGiven = args.positional.length > 0 || args.keywords.has('dim');
  if (!dimGiven) ctx.addEvent({ kind: 'softmax-without-dim', node, framework: 'pytorch', origins: [] });
  return applyActivation(ctx, method as 'softmax' | 'log_softmax', { node: receiverNode, value: receiver }, node, 'pytorch', true);
};

const SIGMOID_METHOD: MethodModel = (ctx, receiver, receiverNode, _method, _args, node) => applyActivation(ctx, 'sigmoid', { node: receiverNode, value: receiver }, node, 'pytorch', true);

const LOG_METHOD: MethodModel = (ctx, receiver, receiverNode, _method, _args, node) => applyLog(ctx, { node: receiverNode, value: receiver }, node, 'pytorch', undefined);

const TO_FLOAT: MethodModel = (_ctx, receiver, _receiverNode, method, _args, node) => {
  const facts = factsOf(receiver);
  return tensor({ ...facts, dtype: { value: 'float', origins: [origin(node, `cast to float by \`.${method}()\``)] }, lossOf: facts.lossOf });
};

const TO_INT: MethodModel = (_ctx, receiver, _receiverNode, method, _args, node) => tensor({ ...factsOf(receiver), dtype: { value: 'int', origins: [origin(node, `cast to integer by \`.${method}()\``)] } });

const TO_BOOL: MethodModel = (_ctx, receiver, _receiverNode, _method, _args, node) => tensor({ ...factsOf(receiver), dtype: { value: 'bool', origins: [origin(node, 'cast to bool')] } });

/** `.to(torch.float32)`, `.type(torch.LongTensor)`, `.astype("int64")`: a cast when a dtype is named, else the same tensor. */
const CAST: MethodModel = (_ctx, receiver, _receiverNode, method, args, node) => {
  const dtypeArgument = args.keywords.get('dtype') ?? args.positional.find((a) => a.node && dtypeOfText(textOf(a.node)));
  const dtype = dtypeArgument?.node ? dtypeOfText(textOf(dtypeArgument.node)) : undefined;
  if (dtype) return tensor({ ...factsOf(receiver), dtype: { value: dtype, origins: [origin(node, `cast to ${dtype} by \`.${method}(${textOf(dtypeArgument!.node!)})\``)] } });
  return receiver.kind === 'tensor' ? receiver : tensor({});
};

/** Device moves and copies: the same values. */
const SAME_TENSOR: MethodModel = (_ctx, receiver) => (receiver.kind === 'tensor' ? receiver : UNKNOWN);

const DETACH: MethodModel = (_ctx, receiver, _receiverNode, method, _args, node) =>
  tensor({
    ...factsOf(receiver),
    detached: { value: true, origins: [origin(node, `\`.${method}()\` cuts the tensor from the graph`)] },
    ...(method === 'numpy' ? { library: { value: 'numpy' as const, origins: [origin(node, 'a NumPy array made here')] } } : {}),
  });

const ARGMAX_METHOD: MethodModel = (_ctx, _receiver, _receiverNode, _method, _args, node) => predictedLabels(node, 'argmax of the scores', 'int');

/** `x.max(dim)` is `(values, indices)`; `x.max()` a scalar. */
const MAX_METHOD: MethodModel = (_ctx, _receiver, _receiverNode, _method, args, node) => {
  const dimGiven = args.positional.length > 0 || args.keywords.has('dim');
  if (dimGiven) return { kind: 'tuple', items: [tensor({}), predictedLabels(node, '`max(..)[1]`: predicted labels', 'int')] };
  return tensor({});
};

const ROUND_METHOD: MethodModel = (_ctx, _receiver, _receiverNode, _method, _args, node) => predictedLabels(node, 'rounded predictions', 'float');

const REDUCE_METHOD: MethodModel = (_ctx, receiver) => reduce(receiver);

const BACKWARD: MethodModel = (ctx, receiver) => {
  ctx.markBackpropagated(receiver);
  return UNKNOWN;
};

/** Clamping keeps the kind of score (clamped probabilities are still probabilities). */
const CLAMP: MethodModel = (_ctx, receiver) => {
  const facts = factsOf(receiver);
  return tensor({ score: facts.score, lossOf: facts.lossOf });
};

const RESHAPE: MethodModel = (_ctx, receiver, _receiverNode, method, args, node) => reshape(receiver, method, args, node);

export const TENSOR_METHODS: ReadonlyMap<string, MethodModel> = new Map<string, MethodModel>([
  ['softmax', SOFTMAX_METHOD],
  ['log_softmax', SOFTMAX_METHOD],
  ['sigmoid', SIGMOID_METHOD],
  ['log', LOG_METHOD],
  ['float', TO_FLOAT],
  ['double', TO_FLOAT],
  ['half', TO_FLOAT],
  ['bfloat16', TO_FLOAT],
  ['long', TO_INT],
  ['int', TO_INT],
  ['short', TO_INT],
  ['byte', TO_INT],
  ['bool', TO_BOOL],
  ['to', CAST],
  ['type', CAST],
  ['astype', CAST],
  ['cuda', SAME_TENSOR],
  ['cpu', SAME_TENSOR],
  ['contiguous', SAME_TENSOR],
  ['clone', SAME_TENSOR],
  ['requires_grad_', SAME_TENSOR],
  ['pin_memory', SAME_TENSOR],
  ['detach', DETACH],
  ['item', DETACH],
  ['numpy', DETACH],
  ['tolist', DETACH],
  ['unsqueeze', RESHAPE],
  ['view', RESHAPE],
  ['reshape', RESHAPE],
  ['squeeze', RESHAPE],
  ['flatten', RESHAPE],
  ['ravel', RESHAPE],
  ['view_as', RESHAPE],
  ['reshape_as', RESHAPE],
  ['argmax', ARGMAX_METHOD],
  ['max', MAX_METHOD],
  ['round', ROUND_METHOD],
  ['sum', REDUCE_METHOD],
  ['mean', REDUCE_METHOD],
  ['backward', BACKWARD],
  ['clamp', CLAMP],
  ['clip', CLAMP],
  ['clamp_', CLAMP],
]);

/** Methods of other objects that back-propagate their arguments (`optimizer.minimize(loss)`, `tape.gradient(loss, w)`). */
const BACKPROPAGATING_METHODS = /^(backward|manual_backward|gradient|minimize|grad)$/;

/** `receiver.method(args)` for any method: a row of `TENSOR_METHODS`, else an unknown result that keeps the losses it carries. */
export function callTensorMethod(ctx: LibraryContext, receiver: Value, receiverNode: PyNode, method: string, args: CallArguments, node: PyNode): Value {
  const model = TENSOR_METHODS.get(method);
  if (model) return model(ctx, receiver, receiverNode, method, args, node);
  if (BACKPROPAGATING_METHODS.test(method)) for (const argument of args.positional) ctx.markBackpropagated(argument.value);
  // `scaler.scale(loss)` (mixed precision) is the loss.
  if (method === 'scale' && args.positional[0]) return args.positional[0].value;
  return receiver.kind === 'tensor' ? tensor(withLossOf({}, receiver)) : UNKNOWN;
}

/** `x.data`, `x.T` of a tensor. */
export function tensorAttribute(receiver: Value, attr: string, node: PyNode): Value {
  if (receiver.kind !== 'tensor') return UNKNOWN;
  if (attr === 'data') return tensor({ ...receiver.facts, detached: { value: true, origins: [origin(node, '`.data` is cut from the graph')] } });
  if (attr === 'T' || attr === 'mT') return tensor({ score: receiver.facts.score, dtype: receiver.facts.dtype });
  return UNKNOWN;
}

/** Shape methods: what is known of the shape afterwards (`[N, 1]` made or removed, rank). */
function reshape(receiver: Value, method: string, args: CallArguments, node: PyNode): Value {
  const facts = { ...factsOf(receiver) };
  const argTexts = args.positional.map((a) => (a.node ? textOf(a.node).replace(/\s+/g, '') : '?'));
  const shapeArgs = argTexts.length === 1 && args.positional[0].value.kind === 'tuple' ? textOf(args.positional[0].node!).replace(/[\s()]/g, '').split(',').filter(Boolean) : argTexts;
  delete facts.trailingOne;
  delete facts.rank;
  delete facts.lastDim;
  const inputRank = factsOf(receiver).rank?.value;
  const addsTrailingOne =
    (method === 'unsqueeze' && (argTexts[0] === '1' && (inputRank === undefined || inputRank === 1) || argTexts[0] === '-1')) ||
    ((method === 'view' || method === 'reshape') && shapeArgs.length === 2 && shapeArgs[1] === '1');
  if (addsTrailingOne) {
    facts.trailingOne = { value: true, origins: [origin(node, `\`.${method}(${argTexts.join(', ')})\` makes the shape [N, 1]`)] };
    facts.rank = { value: 2, origins: [origin(node, 'shape [N, 1]')] };
    facts.lastDim = { value: 1, origins: [origin(node, 'shape [N, 1]')] };
  } else if ((method === 'view' || method === 'reshape') && shapeArgs.length === 1 && shapeArgs[0] === '-1') {
    facts.rank = { value: 1, origins: [origin(node, 'flattened')] };
  } else if (method === 'flatten' || method === 'ravel') {
    if (args.positional.length === 0) facts.rank = { value: 1, origins: [origin(node, 'flattened')] };
  } else if (method === 'squeeze') {
    const before = factsOf(receiver);
    if (before.trailingOne || before.rank?.value === 2) facts.rank = { value: 1, origins: [origin(node, 'squeezed')] };
  } else if (method === 'view_as' || method === 'reshape_as') {
    const like = factsOf(args.positional[0]?.value ?? UNKNOWN);
    if (like.rank) facts.rank = like.rank;
    if (like.lastDim) facts.lastDim = like.lastDim;
    if (like.trailingOne) facts.trailingOne = like.trailingOne;
  }
  return receiver.kind === 'tensor' || Object.keys(facts).length > 0 ? tensor(facts) : UNKNOWN;
}
