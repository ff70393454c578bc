import type { LayerValue } from '../values';
import { argument, type CallModel, type FunctionModel } from './context';
import { deleteListElement } from './common';
import { activationLayer, LAYER_ACTIVATIONS, logitsLayerValue, PASS_THROUGH_LAYER, sequential, unknownLayer, withRemoval } from './layers';
import { softmaxFunction, sigmoidFunction } from './scores';
import { oneHotFunction } from './arrays';

/** `torch.nn` (layers, by class name) and `torch.nn.functional`. */

/** A row: a linear layer whose output count is the argument at `outIndex` (or `out_features=`). */
function linearLayer(outIndex: number): CallModel {
  return (_ctx, args, node, path) => {
    const outArgument = argument(args, outIndex, 'out_features');
    const outputs = outArgument?.value.kind === 'number' ? outArgument.value.value : undefined;
    return logitsLayerValue(path, node, 'unbounded scores from a linear layer', outputs);
  };
}

const CONVOLUTION: CallModel = (_ctx, _args, node, path) => logitsLayerValue(path, node, 'unbounded scores from a convolution', undefined);

/** `nn.Softmax()` without `dim` is the deprecated implicit-dim form, as for the function. */
function softmaxLayer(activation: 'softmax' | 'log_softmax', message: string): CallModel {
  const make = activationLayer(activation, message);
  return (ctx, args, node, path, scope) => {
    if (args.positional.length === 0 && !args.keywords.has('dim')) ctx.addEvent({ kind: 'softmax-without-dim', node, framework: 'pytorch', origins: [] });
    return make(ctx, args, node, path, scope);
  };
}

/** `nn.Sequential(a, b, c)`: an activation element can be removed from the argument list. */
const TORCH_SEQUENTIAL: CallModel = (_ctx, args, node, path) => {
  const elements = args.positional.filter((a) => a.node && a.node.parent?.type === 'argument_list');
  const layers: LayerValue[] = elements.map((a) => {
    if (a.value.kind !== 'layer') return unknownLayer(node);
    return LAYER_ACTIVATIONS.has(a.value.path) ? withRemoval(a.value, deleteListElement(a.node!)) : a.value;
  });
  return sequential(path, node, layers);
};

/**
 * `torch.nn.<Name>` constructors by class name; any other `torch.nn.<Name>` is a layer whose output is unknown
 * (losses are in `loss-catalog.ts`).
 */
export const TORCH_LAYERS: ReadonlyMap<string, CallModel> = new Map<string, CallModel>([
  ['Softmax', softmaxLayer('softmax', 'nn.Softmax layer')],
  ['LogSoftmax', softmaxLayer('log_softmax', 'nn.LogSoftmax layer')],
  ['Sigmoid', activationLayer('sigmoid', 'nn.Sigmoid layer')],
  ['LogSigmoid', activationLayer('log_sigmoid', 'nn.LogSigmoid layer')],
  ['Linear', linearLayer(1)],
  ['LazyLinear', linearLayer(0)],
  ['Bilinear', linearLayer(2)],
  ['Conv1d', CONVOLUTION],
  ['Conv2d', CONVOLUTION],
  ['Conv3d', CONVOLUTION],
  ['ConvTranspose1d', CONVOLUTION],
  ['ConvTranspose2d', CONVOLUTION],
  ['ConvTranspose3d', CONVOLUTION],
  ['Dropout', PASS_THROUGH_LAYER],
  ['Identity', PASS_THROUGH_LAYER],
  ['Flatten', PASS_THROUGH_LAYER],
  ['AlphaDropout', PASS_THROUGH_LAYER],
  ['Sequential', TORCH_SEQUENTIAL],
]);

/** `torch.nn.functional` functions (the losses are in `loss-catalog.ts`). */
export const TORCH_NN_FUNCTIONS: ReadonlyMap<string, FunctionModel> = new Map([
  ['torch.nn.functional.softmax', softmaxFunction('softmax')],
  ['torch.nn.functional.log_softmax', softmaxFunction('log_softmax')],
  ['torch.nn.functional.sigmoid', sigmoidFunction('sigmoid')],
  ['torch.nn.functional.logsigmoid', sigmoidFunction('log_sigmoid')],
  ['torch.nn.functional.one_hot', oneHotFunction('int', 'F.one_hot returns int64')],
]);

/** `nn.Module` methods that return the module itself (`model.to(device)`, `model.train()`). */
export const MODULE_SELF_METHODS = new Set(['to', 'cuda', 'cpu', 'train', 'eval', 'float', 'double', 'half', 'bfloat16', 'requires_grad_', 'type', 'share_memory', 'apply', 'to_empty']);
