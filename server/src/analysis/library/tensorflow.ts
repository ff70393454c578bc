import { UNKNOWN } from '../values';
import { argument, type FunctionModel } from './context';
import { DENSE } from './keras';
import { applyLayer } from './layers';
import { oneHotFunction } from './arrays';
import { STOP_GRADIENT } from './gradient-flow';
import { ARGMAX, clampFunction, EXP, LOG, REDUCTION, ROUND, sigmoidFunction, softmaxFunction } from './scores';

/**
 * TensorFlow functions (`tf.nn`, `tf.math`, TF1's `tf.layers`; `tf.compat.v1` is normalised to `tensorflow` by
 * `loss-catalog.ts`). `tf.keras` is Keras (`keras.ts`), and so are TF2's `tf.losses`/`tf.metrics` Keras names; the `tf.nn` and TF1 `tf.losses`
 * losses are in `loss-catalog.ts`.
 */

/**
 * TensorFlow 1's functional layer `tf.layers.dense(inputs, units, activation=None, ...)` (`tf.compat.v1.layers.dense`):
 * a Keras `Dense` applied to `inputs` at once.
 */
const TF1_DENSE: FunctionModel = {
  call: (ctx, args, node, path, scope) => {
    const inputs = argument(args, 0, 'inputs');
    const layerArguments = args.keywords.has('inputs') ? args : { positional: args.positional.slice(1), keywords: args.keywords };
    const layer = DENSE(ctx, layerArguments, node, path, scope);
    return layer?.kind === 'layer' ? applyLayer(layer, inputs?.value ?? UNKNOWN, undefined, undefined) : undefined;
  },
};

export const TENSORFLOW_FUNCTIONS: ReadonlyMap<string, FunctionModel> = new Map([
  ['tensorflow.nn.softmax', softmaxFunction('softmax')],
  ['tensorflow.math.softmax', softmaxFunction('softmax')],
  ['tensorflow.nn.log_softmax', softmaxFunction('log_softmax')],
  ['tensorflow.math.log_softmax', softmaxFunction('log_softmax')],
  ['tensorflow.sigmoid', sigmoidFunction('sigmoid')],
  ['tensorflow.nn.sigmoid', sigmoidFunction('sigmoid')],
  ['tensorflow.math.sigmoid', sigmoidFunction('sigmoid')],
  ['tensorflow.math.log_sigmoid', sigmoidFunction('log_sigmoid')],
  ['tensorflow.math.log', LOG],
  ['tensorflow.log', LOG],
  ['tensorflow.exp', EXP],
  ['tensorflow.math.exp', EXP],
  ['tensorflow.clip_by_value', clampFunction('clip_value_min')],
  ['tensorflow.argmax', ARGMAX],
  ['tensorflow.math.argmax', ARGMAX],
  ['tensorflow.round', ROUND],
  ['tensorflow.math.round', ROUND],
  ['tensorflow.reduce_sum', REDUCTION],
  ['tensorflow.reduce_mean', REDUCTION],
  ['tensorflow.math.reduce_sum', REDUCTION],
  ['tensorflow.math.reduce_mean', REDUCTION],
  ['tensorflow.one_hot', oneHotFunction('float', 'one-hot floats')],
  ['tensorflow.stop_gradient', STOP_GRADIENT],
  ['tensorflow.layers.dense', TF1_DENSE],
  ['tensorflow.layers.Dense', { call: DENSE }],
]);
