import type { FunctionModel } from './context';
import { oneHotFunction } from './arrays';
import { STOP_GRADIENT } from './gradient-flow';
import { ARGMAX, LOG, REDUCTION, ROUND, sigmoidFunction, softmaxFunction } from './scores';

/**
 * TensorFlow functions (`tf.nn`, `tf.math`; `tf.compat.v1` is normalised to `tensorflow` by `loss-catalog.ts`).
 * `tf.keras` is Keras (`keras.ts`); the `tf.nn` losses are in `loss-catalog.ts`.
 */
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
]);
