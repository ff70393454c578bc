import type { PyNode } from '../../parse/tree';
import { UNKNOWN, type Activation, type CallArguments, type LayerValue, type Scope, type Value } from '../values';
import { ARRAY_CONSTRUCTORS, ARRAY_LIBRARIES } from './arrays';
import type { CallModel, FunctionModel, LibraryContext } from './context';
import { DATA_FUNCTIONS, datasetOf } from './data';
import { JAX_FUNCTIONS } from './jax';
import { KERAS_FUNCTIONS, KERAS_LAYERS, kerasModelMethod } from './keras';
import { applyLayer, OPAQUE_LAYER } from './layers';
import { LOSS_LENS_FUNCTIONS } from './loss-lens';
import { NUMPY_FUNCTIONS } from './numpy';
import { STDLIB_FUNCTIONS } from './stdlib';
import { TENSORFLOW_FUNCTIONS } from './tensorflow';
import { TORCH_FUNCTIONS } from './torch';
import { containerMethod, MODULE_SELF_METHODS, TORCH_LAYERS, TORCH_NN_FUNCTIONS } from './torch-nn';
import { LOSS_CLASSES, LOSS_FUNCTIONS } from '../loss-catalog';

/**
 * The library models, assembled: what the interpreter (`../evaluate.ts`) asks when a program calls something it
 * reached through an import. Each framework file holds tables (path → model); this file only looks them up, in the
 * order that decides between them: functions by full path, then layer constructors, array constructors, datasets.
 * Losses are recognised before any of these, by the interpreter, from `../loss-catalog.ts`.
 */

/** Every function model by canonical path (after `normalizePath`). */
const FUNCTION_MODELS: ReadonlyMap<string, FunctionModel> = new Map([
  ...TORCH_FUNCTIONS,
  ...TORCH_NN_FUNCTIONS,
  ...KERAS_FUNCTIONS,
  ...TENSORFLOW_FUNCTIONS,
  ...JAX_FUNCTIONS,
  ...NUMPY_FUNCTIONS,
  ...DATA_FUNCTIONS,
  ...STDLIB_FUNCTIONS,
  ...LOSS_LENS_FUNCTIONS,
]);

const TORCH_NN = 'torch.nn.';
const KERAS_MODEL_PATHS = new Set(['keras.Sequential', 'keras.models.Sequential', 'keras.Model', 'keras.models.Model']);

/** The constructor model of a layer path (`torch.nn.<Name>`, `keras.layers.<...>.<Name>`, Keras models); undefined otherwise. */
function layerModel(path: string): CallModel | undefined {
  // Decided before anything is split or allocated: most calls are not layer constructors.
  const isTorch = path.startsWith(TORCH_NN) && path.indexOf('.', TORCH_NN.length) < 0;
  const isKeras = !isTorch && (path.startsWith('keras.layers.') || KERAS_MODEL_PATHS.has(path));
  if (!isTorch && !isKeras) return undefined;
  const name = path.slice(path.lastIndexOf('.') + 1);
  return (isTorch ? TORCH_LAYERS : KERAS_LAYERS).get(name) ?? OPAQUE_LAYER;
}

/** A method call on something reached through an import whose result is the backward pass (`accelerator.backward(loss)`). */
const BACKWARD_OF_INSTANCE = /\(\)\.(backward|manual_backward|gradient|minimize)$/;
const BACKWARD_OF_TRAINER = /^(accelerate|lightning|pytorch_lightning)\b.*\.backward$/;

/**
 * What calling the library function at `path` returns; undefined when no model knows it (the interpreter then keeps
 * a reference to its result, `path()`).
 */
export function callLibrary(ctx: LibraryContext, path: string, args: CallArguments, node: PyNode, scope: Scope | undefined): Value | undefined {
  const model = FUNCTION_MODELS.get(path);
  if (model) {
    const value = model.call(ctx, args, node, path, scope);
    if (value) return value;
  }
  const layer = layerModel(path);
  if (layer) {
    const value = layer(ctx, args, node, path, scope);
    if (value) return value;
  }
  const dot = path.indexOf('.');
  if (dot > 0 && ARRAY_LIBRARIES.has(path.slice(0, dot))) {
    const constructor = ARRAY_CONSTRUCTORS.get(path.slice(path.lastIndexOf('.') + 1));
    const value = constructor?.(ctx, args, node, path, scope);
    if (value) return value;
  }
  const dataset = datasetOf(path, node);
  if (dataset) return dataset;
  if (BACKWARD_OF_INSTANCE.test(path) || BACKWARD_OF_TRAINER.test(path)) {
    for (const argument of args.positional) ctx.markBackpropagated(argument.value);
    return UNKNOWN;
  }
  // `scaler.scale(loss)` (mixed precision) is the loss.
  if (path.endsWith('().scale') && args.positional[0]) return args.positional[0].value;
  return undefined;
}

/** Keras model classes sit in the layer table for their own paths; `keras.layers` does not export them. */
const KERAS_MODEL_NAMES = new Set(['Sequential', 'Model']);

/** Every path a model knows: functions, losses, layer constructors. */
function modelledPaths(): string[] {
  return [
    ...FUNCTION_MODELS.keys(),
    ...LOSS_CLASSES.keys(),
    ...LOSS_FUNCTIONS.keys(),
    ...[...TORCH_LAYERS.keys()].map((name) => TORCH_NN + name),
    ...[...KERAS_LAYERS.keys()].filter((name) => !KERAS_MODEL_NAMES.has(name)).map((name) => `keras.layers.${name}`),
    ...KERAS_MODEL_PATHS,
  ];
}

const namesUnder = new Map<string, string[]>();

/**
 * The names `from <module> import *` binds, as far as the models know them (`module` canonical, after
 * `normalizePath`): every modelled path one level under it, `softmax` and `cross_entropy` for `torch.nn.functional`,
 * `Dense` for `keras.layers`. A name the models do not know stays unbound (unknown), as it would be without the import.
 */
export function modelledNamesUnder(module: string): readonly string[] {
  let names = namesUnder.get(module);
  if (!names) {
    const prefix = module + '.';
    names = [...new Set(modelledPaths().filter((path) => path.startsWith(prefix) && !path.includes('.', prefix.length)).map((path) => path.slice(prefix.length)))];
    // Module paths come from source text: bound the cache.
    if (namesUnder.size < 1000) namesUnder.set(module, names);
  }
  return names;
}

/** The activation a library function computes, for models given the function itself (`activation=tf.nn.softmax`). */
export function activationOfFunction(path: string): Activation | undefined {
  return FUNCTION_MODELS.get(path)?.activation;
}

/** Methods of layers and models: `nn.Module` methods that return the module, Keras `add`/`compile`/`fit`, `forward`/`predict`. */
export function callLayerMethod(ctx: LibraryContext, layer: LayerValue, method: string, args: CallArguments, node: PyNode): Value {
  if (MODULE_SELF_METHODS.has(method)) return layer;
  const container = containerMethod(ctx, layer, method, args, node);
  if (container) return container;
  const keras = kerasModelMethod(ctx, layer, method, args, node);
  if (keras) return keras;
  if (method === 'forward' || method === '__call__' || method === 'predict' || method === 'call') {
    const input = args.positional[0];
    return applyLayer(layer, input?.value ?? UNKNOWN, method === 'predict' ? undefined : node, input?.node);
  }
  return UNKNOWN;
}

/** Base classes whose subclasses are models: calling an instance runs `forward` (or Keras's `call`). */
export const MODULE_BASE_CLASSES = new Set([
  'torch.nn.Module',
  'pytorch_lightning.LightningModule',
  'lightning.pytorch.LightningModule',
  'lightning.LightningModule',
  'keras.Model',
  'keras.models.Model',
  'flax.linen.Module',
]);

/** Names used without an import in notebooks whose import cell was skipped: the conventional aliases. */
export const CONVENTIONAL_ALIASES: Readonly<Record<string, string>> = {
  torch: 'torch',
  nn: 'torch.nn',
  F: 'torch.nn.functional',
  np: 'numpy',
  tf: 'tensorflow',
  keras: 'keras',
  jax: 'jax',
  jnp: 'jax.numpy',
  optax: 'optax',
};

export { applyLayer, LAYER_ACTIVATIONS } from './layers';
export { callTensorMethod, tensorAttribute } from './tensor-methods';
export { isKerasModelClass, KERAS_MODEL_METHODS } from './keras';
export { moduleDictLookup, MODULE_SELF_METHODS, namedLayerPairsOf, orderedLayersOf, setModuleDictEntry } from './torch-nn';
export { iterationElement } from './data';
export { builtinCall } from './stdlib';
export { disablesGradient, methodRunsWithoutGradient } from './gradient-flow';
export { handWrittenActivation } from './scores';
export type { LibraryContext } from './context';
