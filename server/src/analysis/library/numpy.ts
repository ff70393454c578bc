import { factsOf, tensor, UNKNOWN, type DType } from '../values';
import type { FunctionModel } from './context';
import { origin } from './common';
import { ARGMAX, clampFunction, expFunction, logFunction, REDUCTION, ROUND, sigmoidFunction, softmaxFunction } from './scores';

/**
 * NumPy's scalar types called on a value, `np.float32(label)`, `np.int64(x)`: the value cast to that type, as
 * `float(label)` is (a class index stays a class index, now a float), with its shape (an array stays an array). A
 * number stays a number. Neither the shape nor the library is assumed when unknown: a dataset's label read by index
 * batches into a vector as any class index does (`data.ts`), and its batch is a tensor.
 */
function numpyScalarType(name: string, dtype: DType): FunctionModel {
  return {
    call: (_ctx, args, node) => {
      if (args.positional.length !== 1 || args.keywords.size > 0) return undefined;
      const value = args.positional[0].value;
      if (value.kind === 'number' && dtype !== 'bool') return { kind: 'number', value: dtype === 'int' ? Math.trunc(value.value) : value.value, float: dtype === 'float' };
      if (value.kind !== 'tensor' && value.kind !== 'unknown') return UNKNOWN;
      return tensor({ ...factsOf(value), dtype: { value: dtype, origins: [origin(node, `cast to ${dtype} by \`np.${name}()\``)] } });
    },
  };
}

const NUMPY_SCALAR_TYPES: [string, DType][] = [
  ...['float16', 'float32', 'float64', 'single', 'double', 'half', 'longdouble'].map((name): [string, DType] => [name, 'float']),
  ...['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'intc', 'intp', 'longlong'].map((name): [string, DType] => [name, 'int']),
  ['bool_', 'bool'],
];

/** NumPy, `scipy.special` and `math` functions (NumPy's array constructors are in `arrays.ts`). */
export const NUMPY_FUNCTIONS: ReadonlyMap<string, FunctionModel> = new Map([
  ...NUMPY_SCALAR_TYPES.map(([name, dtype]): [string, FunctionModel] => [`numpy.${name}`, numpyScalarType(name, dtype)]),
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
