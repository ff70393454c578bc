import type { PyNode } from '../parse/tree';
import { factsOf, tensor, type TensorFacts, type Value } from './values';

/**
 * Facts that elementwise arithmetic and reductions keep, apart from scores and targets: whether a value is a NumPy
 * array (PyTorch refuses one where it needs a tensor, e.g. a loss `weight`) and the shape of a tensor scaled by a number
 * (`torch.ones(4) * 2.0` still has 4 values).
 */

/** Marks what a NumPy constructor made, and clears the mark on what a torch/JAX/TensorFlow constructor made from an array. */
export function withArrayLibrary(path: string, value: Value, node: PyNode): Value {
  if (value.kind !== 'tensor') return value;
  const facts = { ...value.facts };
  if (path.startsWith('numpy.')) facts.numpyArray = { value: true, origins: [{ node, message: 'NumPy array created here' }] };
  else delete facts.numpyArray;
  return tensor(facts);
}

/** What `left op right` keeps: the NumPy mark when every operand is a NumPy array or a number, the shape when one side is a number. */
export function elementwiseFacts(left: Value, right: Value): TensorFacts {
  const facts: TensorFacts = {};
  const operands = [left, right];
  const arrays = operands.filter((v) => factsOf(v).numpyArray);
  if (arrays.length > 0 && operands.every((v) => v.kind === 'number' || factsOf(v).numpyArray)) facts.numpyArray = factsOf(arrays[0]).numpyArray;
  const scaled = left.kind === 'number' ? factsOf(right) : right.kind === 'number' ? factsOf(left) : undefined;
  if (scaled?.rank) facts.rank = scaled.rank;
  if (scaled?.lastDim) facts.lastDim = scaled.lastDim;
  if (scaled?.trailingOne) facts.trailingOne = scaled.trailingOne;
  return facts;
}

/** A reduction of a NumPy array (`counts.sum()`) is still a NumPy value. */
export function reductionFacts(value: Value): TensorFacts {
  const numpyArray = factsOf(value).numpyArray;
  return numpyArray ? { numpyArray } : {};
}
