import { namedChildren, type PyNode } from '../../parse/tree';
import { UNKNOWN, type CallArguments, type LayerValue, type Value } from '../values';
import { argument, type CallModel, type FunctionModel, type LibraryContext } from './context';
import { deleteListElement, deleteStatementLine } from './common';
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

/** A container's element: a layer (an activation layer removable where it is written), or an unknown layer. */
function element(value: Value, elementNode: PyNode | undefined, container: PyNode): LayerValue {
  if (value.kind !== 'layer') return unknownLayer(container);
  return elementNode && LAYER_ACTIVATIONS.has(value.path) ? withRemoval(value, deleteListElement(elementNode)) : value;
}

/** The element nodes of the list literal a container was built from (`nn.ModuleList([a, b])`), in order. */
function literalElements(literal: PyNode | undefined, count: number): (PyNode | undefined)[] {
  const nodes = literal && (literal.type === 'list' || literal.type === 'tuple') ? namedChildren(literal) : [];
  return nodes.length === count ? nodes : new Array<PyNode | undefined>(count).fill(undefined);
}

/**
 * `nn.Sequential(a, b, c)` or `nn.Sequential(OrderedDict([("a", a), ...]))`: an activation element can be removed
 * from the argument list (or the pairs).
 */
const TORCH_SEQUENTIAL: CallModel = (_ctx, args, node, path) => {
  const first = args.positional[0];
  if (args.positional.length === 1 && first.value.kind === 'dict') {
    // Named layers may be used by name elsewhere (`model.softmax`): no fix removes one.
    return sequential(path, node, [...first.value.entries.values()].map((value) => element(value, undefined, node)));
  }
  const elements = args.positional.filter((a) => a.node && a.node.parent?.type === 'argument_list');
  return sequential(path, node, elements.map((a) => element(a.value, a.node, node)));
};

/** `nn.ModuleList([a, b])`, `nn.ModuleDict({"a": a})`: layers known in order, iterated in `forward`. */
const MODULE_CONTAINER: CallModel = (_ctx, args, node, path) => {
  const first = argument(args, 0, 'modules');
  const value = first?.value;
  if (!first) return sequential(path, node, []);
  const values = value?.kind === 'list' || value?.kind === 'tuple' ? value.items : value?.kind === 'dict' ? [...value.entries.values()] : undefined;
  if (!values) return sequential(path, node, [unknownLayer(node)]);
  // Named layers may be used by name elsewhere (`self.heads["act"]`): only list elements get a removal.
  const nodes = value?.kind === 'dict' ? new Array<PyNode | undefined>(values.length).fill(undefined) : literalElements(first.node, values.length);
  const container = sequential(path, node, values.map((item, i) => element(item, nodes[i], node)));
  if (value?.kind === 'dict') container.named = new Map([...value.entries.keys()].map((key, i) => [key, container.layers![i]]));
  return container;
};

/** `self.heads["main"]`: the layer a `nn.ModuleDict` holds under a known key; undefined when not known. */
export function moduleDictLookup(container: LayerValue, key: string): LayerValue | undefined {
  return container.named?.get(key);
}

/**
 * `self.heads["main"] = layer`: the `nn.ModuleDict` holds `layer` under that key, in the key's place (a new key comes
 * last, as in Python's dict); a value that is not a layer, or a key not written out, makes the dict's contents unknown.
 */
export function setModuleDictEntry(container: LayerValue, key: string | undefined, value: Value, node: PyNode): void {
  if (container.path !== 'torch.nn.ModuleDict' || !container.layers) return;
  const previous = key === undefined ? undefined : container.named?.get(key);
  const layer = value.kind === 'layer' ? value : unknownLayer(node);
  if (previous) container.layers[container.layers.indexOf(previous)] = layer;
  else container.layers.push(layer);
  if (key === undefined || value.kind !== 'layer') delete container.named;
  else container.named?.set(key, layer);
}

/**
 * `for name, head in self.heads.items()`: the `(key, layer)` pairs of a `nn.ModuleDict` whose keys are all known, as
 * a list the loop unrolls (`namedLayerPairsOf`); undefined otherwise.
 */
function moduleDictItems(container: LayerValue, node: PyNode): Value | undefined {
  if (!container.named || container.named.size !== container.layers?.length) return undefined;
  return { kind: 'list', items: [...container.named].map(([key, layer]): Value => ({ kind: 'tuple', items: [{ kind: 'string', value: key, node }, layer] })) };
}

/** The `(key, layer)` pairs a `for` loop over `module_dict.items()` visits, in order; undefined for anything else. */
export function namedLayerPairsOf(value: Value): readonly Value[] | undefined {
  if (value.kind !== 'list' || value.items.length > MAX_UNROLLED_LAYERS) return undefined;
  const pairs = value.items.every((item) => item.kind === 'tuple' && item.items.length === 2 && item.items[0].kind === 'string' && item.items[1].kind === 'layer');
  return pairs ? value.items : undefined;
}

const ITERATED_IN_ORDER = new Set(['torch.nn.Sequential', 'torch.nn.ModuleList']);

/** The layers a `for` loop over this value visits, in order (`nn.ModuleList`, `nn.Sequential`); undefined for anything else. */
export function orderedLayersOf(value: Value): readonly LayerValue[] | undefined {
  return value.kind === 'layer' && value.layers && ITERATED_IN_ORDER.has(value.path) && value.layers.length <= MAX_UNROLLED_LAYERS ? value.layers : undefined;
}

/** Longer containers are iterated like any other value (one abstract iteration). */
const MAX_UNROLLED_LAYERS = 32;

const CHANGED_BY = new Set(['extend', 'insert', 'update']);

/**
 * Methods of `nn.Sequential`/`nn.ModuleList`/`nn.ModuleDict` that change or list their layers; undefined for others.
 * A layer added inside a loop stands for an unknown number of layers: it is recorded as an unknown one.
 */
export function containerMethod(ctx: LibraryContext, layer: LayerValue, method: string, args: CallArguments, node: PyNode): Value | undefined {
  if (!layer.layers || !layer.path.startsWith('torch.nn.')) return undefined;
  if (method === 'values' && layer.path === 'torch.nn.ModuleDict') return { ...layer, path: 'torch.nn.ModuleList' };
  if (method === 'items' && layer.path === 'torch.nn.ModuleDict') return moduleDictItems(layer, node);
  const added = method === 'add_module' || method === 'register_module' ? argument(args, 1, 'module') : method === 'append' ? argument(args, 0, 'module') : undefined;
  if (!added) {
    if (!CHANGED_BY.has(method)) return undefined;
    // What `extend`, `insert` or `update` do to the order (and to a dict's keys) is not followed.
    layer.layers.push(unknownLayer(node));
    delete layer.named;
    return UNKNOWN;
  }
  if (layer.named && method !== 'append') {
    const name = argument(args, 0, 'name')?.value;
    if (name?.kind === 'string' && added.value.kind === 'layer' && !ctx.inLoop() && !layer.named.has(name.value)) layer.named.set(name.value, added.value);
    else delete layer.named;
  }
  if (added.value.kind !== 'layer' || ctx.inLoop()) layer.layers.push(unknownLayer(node));
  else {
    // A layer added by name (`add_module("softmax", ...)`) may be used by that name elsewhere: no fix removes it.
    const statement = node.parent?.type === 'expression_statement' && method === 'append' ? node.parent : undefined;
    layer.layers.push(statement && LAYER_ACTIVATIONS.has(added.value.path) ? withRemoval(added.value, deleteStatementLine(statement)) : added.value);
  }
  // `append` returns the container; `add_module` returns None.
  return method === 'append' ? layer : UNKNOWN;
}

/**
 * `torch.nn.<Name>` constructors by class name; any other `torch.nn.<Name>` is a layer whose output is unknown
 * (losses are in `loss-catalog.ts`).
 */
export const TORCH_LAYERS: ReadonlyMap<string, CallModel> = new Map<string, CallModel>([
  ['Softmax', softmaxLayer('softmax', 'nn.Softmax layer')],
  ['LogSoftmax', softmaxLayer('log_softmax', 'nn.LogSoftmax layer')],
  ['Sigmoid', activationLayer('sigmoid', 'nn.Sigmoid layer')],
  ['LogSigmoid', activationLayer('log_sigmoid', 'nn.LogSigmoid layer')],
  ['Softmax2d', activationLayer('softmax', 'nn.Softmax2d layer')],
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
  ['ModuleList', MODULE_CONTAINER],
  ['ModuleDict', MODULE_CONTAINER],
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
