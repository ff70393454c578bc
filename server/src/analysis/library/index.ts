import type { PyNode } from '../../parse/tree';
import { UNKNOWN, type Activation, type CallArguments, type LayerValue, type Scope, type Value } from '../values';
import { ARRAY_CONSTRUCTORS, ARRAY_LIBRARIES } from './arrays';
import type { CallModel, FunctionModel, LibraryContext } from './context';
import { DATA_FUNCTIONS, datasetOf } from './data';
import { JAX_FUNCTIONS } from './jax';
import { KERAS_FUNCTIONS, KERAS_LAYERS, kerasModelMethod } from './keras';
import { applyLayer } from './layers';
import { NUMPY_FUNCTIONS } from './numpy';
import { TENSORFLOW_FUNCTIONS } from './tensorflow';
import { TORCH_FUNCTIONS } from './torch';
import { MODULE_SELF_METHODS, TORCH_LAYERS, TORCH_NN_FUNCTIONS } from './torch-nn';
import { OPAQUE_LAYER } from './layers';

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

/** The activation a library function computes, for models given the function itself (`activation=tf.nn.softmax`). */
export function activationOfFunction(path: string): Activation | undefined {
  return FUNCTION_MODELS.get(path)?.activation;
}

/** Methods of layers and models: `nn.Module` methods that return the module, Keras `add`/`compile`/`fit`, `forward`/`predict`. */
export function callLayerMethod(ctx: LibraryContext, layer: LayerValue, method: string, args: CallArguments, node: PyNode): Value {
  if (MODULE_SELF_METHODS.has(method)) return layer;
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
export { MODULE_SELF_METHODS } from './torch-nn';
export { iterationBuiltin, iterationElement } from './data';
export type { LibraryContext } from './context';
