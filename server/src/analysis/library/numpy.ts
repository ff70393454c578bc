import type { FunctionModel } from './context';
import { ARGMAX, LOG, REDUCTION, ROUND, sigmoidFunction, softmaxFunction } from './scores';

/** NumPy, `scipy.special` and `math` functions (NumPy's array constructors are in `arrays.ts`). */
export const NUMPY_FUNCTIONS: ReadonlyMap<string, FunctionModel> = new Map([
  ['numpy.log', LOG],
  ['math.log', LOG],
  ['numpy.argmax', ARGMAX],
  ['numpy.round', ROUND],
  ['numpy.sum', REDUCTION],
  ['numpy.mean', REDUCTION],
  ['scipy.special.softmax', softmaxFunction('softmax')],
  ['scipy.special.log_softmax', softmaxFunction('log_softmax')],
  ['scipy.special.expit', sigmoidFunction('sigmoid')],
]);
