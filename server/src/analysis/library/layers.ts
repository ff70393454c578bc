import { textOf, type PyNode } from '../../parse/tree';
import { factsOf, tensor, UNKNOWN, type LayerValue, type NodeEdit, type ScoreKind, type TensorFacts, type Value } from '../values';
import type { CallModel } from './context';
import { origin, replaceNode, scoreFacts } from './common';

/**
 * Layer models shared by `torch-nn.ts` and `keras.ts`: a layer constructor evaluates to a `LayerValue` whose `apply`
 * says what the layer does to its input. The rows of the layer tables are made with these.
 */

/** Activation layers: dropped as a whole (from a `Sequential`, or at the call) by the softmax fixes. */
export const LAYER_ACTIVATIONS = new Set(['torch.nn.Softmax', 'torch.nn.Sigmoid', 'torch.nn.LogSoftmax', 'keras.layers.Softmax', 'keras.layers.Activation']);

export function layerValue(path: string, node: PyNode, apply: LayerValue['apply']): LayerValue {
  return { kind: 'layer', path, node, apply };
}

export function unknownLayer(node: PyNode): LayerValue {
  return { kind: 'layer', path: '?', node, apply: () => UNKNOWN };
}

/** A row: a layer whose output is unknown (most layers: normalisation, pooling, attention, ...). */
export const OPAQUE_LAYER: CallModel = (_ctx, _args, node, path) => layerValue(path, node, () => UNKNOWN);

/** A row: a layer that passes its input through as far as the facts go (dropout, flatten, identity). */
export const PASS_THROUGH_LAYER: CallModel = (_ctx, _args, node, path) => layerValue(path, node, (input) => input);

/** The layer form of an activation: its output is (log-)probabilities with the input's shape. */
export function activationLayerValue(path: string, node: PyNode, activation: 'softmax' | 'sigmoid' | 'log_softmax' | 'log_sigmoid', message: string): LayerValue {
  const kind: ScoreKind = activation === 'softmax' || activation === 'sigmoid' ? 'probabilities' : 'log-probabilities';
  return layerValue(path, node, (input) => tensor({ ...scoreFacts(kind, activation, [origin(node, message)], factsOf(input)) }));
}

/** A row: an activation layer (`nn.Sigmoid()`, `keras.layers.Softmax()`). */
export function activationLayer(activation: 'softmax' | 'sigmoid' | 'log_softmax' | 'log_sigmoid', message: string): CallModel {
  return (_ctx, _args, node, path) => activationLayerValue(path, node, activation, message);
}

/** A row: a layer whose output is unbounded scores (a linear map, a convolution), of `units` outputs when known. */
export function logitsLayerValue(path: string, node: PyNode, message: string, units: number | undefined): LayerValue {
  return layerValue(path, node, () => {
    const facts: TensorFacts = { score: { value: 'logits', activation: 'none', origins: [origin(node, message)] } };
    if (units !== undefined) facts.lastDim = { value: units, origins: [origin(node, `${units} output unit${units === 1 ? '' : 's'}`)] };
    return tensor(facts);
  });
}

/** The same layer, its activation's origin carrying the edit that removes the layer where it is written. */
export function withRemoval(layer: LayerValue, edit: NodeEdit): LayerValue {
  return {
    ...layer,
    apply: (input, call) => {
      const output = layer.apply(input, call);
      const score = factsOf(output).score;
      if (!score || score.origins.length !== 1) return output;
      return tensor({ ...factsOf(output), score: { ...score, origins: [{ ...score.origins[0], removal: [edit] }] } });
    },
  };
}

/** Layers applied in order (`nn.Sequential`, Keras `Sequential`); `layers` stays mutable for `model.add`. */
export function sequential(path: string, node: PyNode, layers: LayerValue[]): LayerValue {
  return {
    kind: 'layer',
    path,
    node,
    layers,
    apply: (input) => layers.reduce<Value>((value, layer) => layer.apply(value, undefined), input),
  };
}

/** Applying a layer (or a model made of layers); activation layers called directly can be dropped at the call. */
export function applyLayer(layer: LayerValue, input: Value, call: PyNode | undefined, inputNode: PyNode | undefined): Value {
  const output = layer.apply(input, call);
  const score = factsOf(output).score;
  if (call && inputNode && score && score.origins.length === 1 && score.origins[0].node === layer.node && LAYER_ACTIVATIONS.has(layer.path)) {
    const removal = [replaceNode(call, textOf(inputNode))];
    return tensor({ ...factsOf(output), score: { ...score, origins: [{ ...score.origins[0], removal }] } });
  }
  return output;
}
