import type { FunctionModel } from './context';
import { ARGMAX, clampFunction, expFunction, logFunction, REDUCTION, ROUND, sigmoidFunction, softmaxFunction } from './scores';

/** NumPy, `scipy.special` and `math` functions (NumPy's array constructors are in `arrays.ts`). */
export const NUMPY_FUNCTIONS: ReadonlyMap<string, FunctionModel> = new Map([
  // NumPy and `math` compute no gradient: a -inf there cannot reach the weights.
  ['numpy.log', logFunction(false)],
  ['math.log', logFunction(false)],
  ['numpy.exp', expFunction(false)],
  ['numpy.clip', clampFunction('a_min', 'min')],
  ['numpy.argmax', ARGMAX],
  ['numpy.round', ROUND],
  ['numpy.sum', REDUCTION],
  ['numpy.mean', REDUCTION],
  ['scipy.special.softmax', softmaxFunction('softmax')],
  ['scipy.special.log_softmax', softmaxFunction('log_softmax')],
  ['scipy.special.expit', sigmoidFunction('sigmoid')],
]);
