import { namedChildren } from '../../parse/tree';
import { expectationOf, KERAS_STRING_LOSSES, LOSS_FUNCTIONS } from '../loss-catalog';
import { tensor, UNKNOWN, type Activation, type CallArguments, type ClassValue, type LayerValue, type LossCallFacts, type LossValue, type ScoreKind, type TensorFacts, type Value } from '../values';
import type { PyNode } from '../../parse/tree';
import { argument, type CallModel, type FunctionModel, type LibraryContext } from './context';
import { deleteListElement, deleteStatementLine, origin } from './common';
import { oneHotFunction } from './arrays';
import { activationLayer, activationLayerValue, applyLayer, LAYER_ACTIVATIONS, layerValue, PASS_THROUGH_LAYER, sequential, unknownLayer, withRemoval } from './layers';
import { LOG, sigmoidFunction, softmaxFunction } from './scores';

/** Keras (and `tf.keras`, normalised to `keras`): layers by class name, models, `compile`/`fit`, activations, utilities. */

export const KERAS_FUNCTIONS: ReadonlyMap<string, FunctionModel> = new Map([
  ['keras.activations.softmax', softmaxFunction('softmax')],
  ['keras.activations.sigmoid', sigmoidFunction('sigmoid')],
  ['keras.ops.log', LOG],
  ['keras.utils.to_categorical', oneHotFunction('float', 'one-hot floats')],
  ['keras.ops.one_hot', oneHotFunction('float', 'one-hot floats')],
]);

/** What an `activation=` argument names: a string (`"softmax"`, `"linear"`) or an activation function. */
function kerasActivation(ctx: LibraryContext, value: Value): Activation | undefined {
  if (value.kind === 'string') {
    if (value.value === 'softmax' || value.value === 'sigmoid' || value.value === 'log_softmax') return value.value;
    if (value.value === 'linear') return 'none';
    return undefined;
  }
  if (value.kind === 'ref') {
    const activation = ctx.activationOf(value.path);
    return activation === 'softmax' || activation === 'sigmoid' ? activation : undefined;
  }
  // `activation=None`
  return undefined;
}

/** `Dense(units, activation=...)`: logits without activation, (log-)probabilities with one; the activation can be removed. */
const DENSE: CallModel = (ctx, args, node, path) => {
  const unitsArgument = argument(args, 0, 'units');
  const units = unitsArgument?.value.kind === 'number' ? unitsArgument.value.value : undefined;
  const activationArgument = argument(args, 1, 'activation');
  const activation = activationArgument ? kerasActivation(ctx, activationArgument.value) : 'none';
  const removal = activationArgument?.node ? [deleteListElement(args.keywords.get('activation')?.keywordNode ?? activationArgument.node)] : undefined;
  return layerValue(path, node, () => {
    const facts: TensorFacts = {};
    if (activation === 'none') facts.score = { value: 'logits', activation: 'none', origins: [origin(node, 'Dense layer without activation: unbounded scores')] };
    else if (activation) {
      const kind: ScoreKind = activation === 'log_softmax' ? 'log-probabilities' : 'probabilities';
      facts.score = { value: kind, activation, origins: [origin(node, `Dense layer with activation="${activation}"`, removal)] };
    }
    if (units !== undefined) facts.lastDim = { value: units, origins: [origin(node, `${units} output unit${units === 1 ? '' : 's'}`)] };
    return tensor(facts);
  });
};

/** `Activation("softmax")`. */
const ACTIVATION: CallModel = (ctx, args, node, path) => {
  const activation = kerasActivation(ctx, args.positional[0]?.value ?? UNKNOWN);
  if (activation === 'softmax' || activation === 'sigmoid' || activation === 'log_softmax') return activationLayerValue(path, node, activation, `Activation("${activation}") layer`);
  if (activation === 'none') return layerValue(path, node, (input) => input);
  return layerValue(path, node, () => UNKNOWN);
};

/** `Sequential([a, b, c])`: an activation element can be removed from the list; `model.add` appends. */
const KERAS_SEQUENTIAL: CallModel = (_ctx, args, node, path) => {
  const list = argument(args, 0, 'layers');
  const layers: LayerValue[] = [];
  if (list && (list.value.kind === 'list' || list.value.kind === 'tuple') && list.node) {
    const elementNodes = namedChildren(list.node);
    list.value.items.forEach((item, i) => {
      if (item.kind !== 'layer') layers.push(unknownLayer(node));
      else layers.push(LAYER_ACTIVATIONS.has(item.path) && elementNodes[i] ? withRemoval(item, deleteListElement(elementNodes[i])) : item);
    });
  }
  const model = sequential(path, node, layers);
  model.keras = {};
  return model;
};

/** The functional API's `Model(inputs, outputs)`: its output is the symbolic `outputs`. */
const FUNCTIONAL_MODEL: CallModel = (_ctx, args, node, path) => {
  const output = argument(args, 1, 'outputs')?.value ?? UNKNOWN;
  const model: LayerValue = { kind: 'layer', path, node, apply: () => output, keras: { output } };
  return model;
};

/**
 * `keras.layers.<Name>` (and `keras.Sequential`, `keras.Model`) constructors by class name; any other is a layer whose
 * output is unknown. `Input` is not a layer (its value stays a reference).
 */
export const KERAS_LAYERS: ReadonlyMap<string, CallModel> = new Map<string, CallModel>([
  ['Dense', DENSE],
  ['Softmax', activationLayer('softmax', 'Softmax layer')],
  ['Activation', ACTIVATION],
  ['Dropout', PASS_THROUGH_LAYER],
  ['Flatten', PASS_THROUGH_LAYER],
  ['InputLayer', PASS_THROUGH_LAYER],
  ['Input', () => undefined],
  ['Sequential', KERAS_SEQUENTIAL],
  ['Model', FUNCTIONAL_MODEL],
]);

/** Keras model classes, whose subclasses the interpreter treats as models (`compile`/`fit` attach to `call`). */
export const KERAS_MODEL_CLASSES = new Set(['keras.Model', 'keras.models.Model']);

/** Methods a subclassed Keras model inherits and the engine models: `compile`, `fit`, `train_on_batch`, `predict`. */
export const KERAS_MODEL_METHODS = new Set(['compile', 'fit', 'train_on_batch', 'predict']);

/** A class deriving (directly or through program classes) from `keras.Model`. */
export function isKerasModelClass(cls: ClassValue, seen = new Set<ClassValue>()): boolean {
  if (seen.has(cls)) return false;
  seen.add(cls);
  return cls.bases.some((base) => (base.kind === 'ref' && KERAS_MODEL_CLASSES.has(base.path)) || (base.kind === 'class' && isKerasModelClass(base, seen)));
}

/** `model.add(layer)`, `model.compile(loss=...)`, `model.fit(x, y)`: undefined for other methods. */
export function kerasModelMethod(ctx: LibraryContext, layer: LayerValue, method: string, args: CallArguments, node: PyNode): Value | undefined {
  if (method === 'add' && layer.layers) {
    const added = args.positional[0];
    if (added?.value.kind === 'layer') {
      const statement = node.parent?.type === 'expression_statement' ? node.parent : undefined;
      layer.layers.push(statement && LAYER_ACTIVATIONS.has(added.value.path) ? withRemoval(added.value, deleteStatementLine(statement)) : added.value);
    } else layer.layers.push(unknownLayer(node));
    return UNKNOWN;
  }
  if (method === 'compile') {
    recordKerasCompile(ctx, layer, args, node);
    return UNKNOWN;
  }
  if (method === 'fit' || method === 'train_on_batch') {
    const compiled = layer.keras?.compiled;
    const target = argument(args, 1, 'y');
    if (compiled) {
      compiled.backpropagated = true;
      if (!compiled.target && target) compiled.target = target;
    }
    return UNKNOWN;
  }
  return undefined;
}

/** `model.compile(loss=...)`: a loss applied to the model's output; the target comes later, from `fit`. */
function recordKerasCompile(ctx: LibraryContext, model: LayerValue, args: CallArguments, node: PyNode): void {
  const lossArgument = args.keywords.get('loss') ?? args.positional[1];
  if (!lossArgument?.node) return;
  let loss: LossValue | undefined;
  const value = lossArgument.value;
  if (value.kind === 'loss') loss = value;
  else if (value.kind === 'string') {
    const spec = KERAS_STRING_LOSSES.get(value.value);
    if (spec) loss = { kind: 'loss', spec, node: value.node, nameNode: value.node, options: new Map() };
  } else if (value.kind === 'ref') {
    const spec = LOSS_FUNCTIONS.get(value.path);
    if (spec && spec.framework === 'keras') loss = { kind: 'loss', spec, node: lossArgument.node, nameNode: lossArgument.node, options: new Map() };
  }
  if (!loss) return;
  const keywordNode = args.keywords.get('loss')?.keywordNode ?? lossArgument.node;
  model.keras ??= {};
  const output = applyLayer(model, UNKNOWN, undefined, undefined);
  const site: LossCallFacts = {
    spec: loss.spec,
    style: 'keras-compile',
    call: node,
    lossObject: loss,
    callee: loss.nameNode,
    input: { value: output },
    options: new Map(loss.options),
    expects: expectationOf(loss.spec, loss.options),
    inputReportNode: keywordNode,
    model,
    backpropagated: false,
  };
  model.keras.compiled = site;
  ctx.recordLossCall(site);
}
