import type { PyNode } from '../../parse/tree';
import { factsOf, tensor, UNKNOWN, type CallArguments, type DType, type TargetEncoding, type TensorFacts, type Value } from '../values';
import { argument, type CallModel, type FunctionModel } from './context';
import { explicitDtypeFact, origin, rootOf } from './common';

/**
 * Array constructors shared by PyTorch, NumPy, JAX and TensorFlow (`torch.tensor`, `np.array`, `jnp.zeros`,
 * `tf.constant`, ...), by function name under any of those libraries, and the one-hot encoders.
 */

/** Libraries whose constructors make arrays; the array remembers which library holds it. */
export const ARRAY_LIBRARIES = new Set(['torch', 'numpy', 'jax', 'tensorflow']);

function libraryFact(path: string, node: PyNode): TensorFacts['library'] {
  const root = rootOf(path);
  const library = root === 'numpy' ? 'numpy' : root === 'torch' ? 'torch' : root === 'jax' ? 'jax' : root === 'tensorflow' ? 'tensorflow' : undefined;
  return library ? { value: library, origins: [origin(node, `${library === 'numpy' ? 'a NumPy array' : `a ${library} tensor`} created here`)] } : undefined;
}

/** A constructor row: the tensor it makes, marked with the library that holds it. */
function creates(make: (args: CallArguments, node: PyNode, path: string) => Value | undefined): CallModel {
  return (_ctx, args, node, path) => {
    const created = make(args, node, path);
    if (created?.kind !== 'tensor') return created;
    const library = libraryFact(path, node);
    if (library) created.facts.library = library;
    return created;
  };
}

/** The dtype given by `dtype=`, else the constructor's default. */
function dtypeFact(args: CallArguments, fallback: DType | undefined, at: PyNode): TensorFacts['dtype'] {
  return explicitDtypeFact(args) ?? (fallback ? { value: fallback, origins: [origin(at, `${fallback} tensor created here`)] } : undefined);
}

/** `torch.tensor(data)`, `np.array(data)`, `torch.LongTensor(data)`: the data's facts (a literal's shape and encoding) and dtype. */
function fromData(typed?: DType): CallModel {
  return creates((args, node, path) => {
    const last = path.slice(path.lastIndexOf('.') + 1);
    const data = args.positional[0];
    const literal = data ? literalFacts(data.value) : undefined;
    const literalNode = data && (data.value.kind === 'list' || data.value.kind === 'tuple') ? data.value.node ?? data.node : data?.node;
    const facts: TensorFacts = { ...factsOf(data?.value ?? UNKNOWN) };
    delete facts.lossOf;
    if (literal) {
      if (literal.encoding) facts.encoding = { value: literal.encoding, origins: [origin(literalNode!, literal.rank === 1 ? 'class indices' : `${literal.encoding} rows`)] };
      facts.rank = { value: literal.rank, origins: [origin(literalNode!, 'literal shape')] };
      if (literal.lastDim !== undefined) facts.lastDim = { value: literal.lastDim, origins: [origin(literalNode!, 'literal shape')] };
    }
    if (typed) facts.dtype = { value: typed, origins: [origin(node, `${last} is ${typed === 'float' ? 'a float' : 'an integer'} tensor`)] };
    else {
      const dtype = dtypeFact(args, literal?.dtype, literalNode ?? node);
      if (dtype) facts.dtype = dtype;
    }
    return tensor(facts);
  });
}

/** `randint(low, high, size)`: class indices of the given shape. */
const RANDINT = creates((args, node) => {
  const sizeArgument = argument(args, args.positional.length >= 3 ? 2 : 1, 'size');
  const facts: TensorFacts = {
    encoding: { value: 'class-indices', origins: [origin(node, 'class indices')] },
    dtype: dtypeFact(args, 'int', node),
  };
  const shape = sizeArgument?.value.kind === 'tuple' || sizeArgument?.value.kind === 'list' ? sizeArgument.value.items : undefined;
  if (shape) {
    facts.rank = { value: shape.length, origins: [origin(node, 'shape given here')] };
    const lastSize = shape.at(-1);
    if (lastSize?.kind === 'number') facts.lastDim = { value: lastSize.value, origins: [origin(node, 'shape given here')] };
  }
  return tensor(facts);
});

/** `eye(C)`: one-hot rows of C classes. */
const IDENTITY_MATRIX = creates((args, node) => {
  if (args.positional[0]?.value.kind !== 'number') return undefined;
  const size = args.positional[0].value.value;
  return tensor({
    encoding: { value: 'one-hot', origins: [origin(node, `one-hot rows of an identity matrix (${size} classes)`)] },
    dtype: dtypeFact(args, 'float', node),
    lastDim: { value: size, origins: [origin(node, `${size} classes`)] },
  });
});

/** `zeros(N, C)`, `ones((N, C))`, `full((N, C), v)`: the shape from the sizes, float in PyTorch and NumPy. */
const FILLED = creates((args, node, path) => {
  const last = path.slice(path.lastIndexOf('.') + 1);
  const root = rootOf(path);
  const sizes = (args.positional.length === 1 || last === 'full') && (args.positional[0]?.value.kind === 'tuple' || args.positional[0]?.value.kind === 'list') ? (args.positional[0].value as { items: Value[] }).items : args.positional.slice(0, last === 'full' ? 1 : undefined).map((a) => a.value);
  const facts: TensorFacts = {};
  const dtype = dtypeFact(args, root === 'torch' || root === 'numpy' ? 'float' : undefined, node);
  if (dtype) facts.dtype = dtype;
  if (sizes.length > 0) {
    facts.rank = { value: sizes.length, origins: [origin(node, 'shape given here')] };
    const lastSize = sizes.at(-1);
    if (lastSize?.kind === 'number') facts.lastDim = { value: lastSize.value, origins: [origin(node, 'shape given here')] };
  }
  return tensor(facts);
});

/** `zeros_like(x)`: the shape and dtype of `x`. */
const FILLED_LIKE = creates((args, node) => {
  const like = factsOf(args.positional[0]?.value ?? UNKNOWN);
  const facts: TensorFacts = {};
  if (like.rank) facts.rank = like.rank;
  if (like.lastDim) facts.lastDim = like.lastDim;
  if (like.trailingOne) facts.trailingOne = like.trailingOne;
  const dtype = dtypeFact(args, like.dtype?.value, node);
  if (dtype) facts.dtype = dtype;
  return tensor(facts);
});

/** Constructors by function name, under any of `ARRAY_LIBRARIES` (`torch.zeros`, `np.zeros`, `jnp.zeros`, `tf.zeros`). */
export const ARRAY_CONSTRUCTORS: ReadonlyMap<string, CallModel> = new Map<string, CallModel>([
  ['tensor', fromData()],
  ['as_tensor', fromData()],
  ['array', fromData()],
  ['asarray', fromData()],
  ['constant', fromData()],
  ['convert_to_tensor', fromData()],
  ['Tensor', fromData()],
  ['from_numpy', fromData()],
  ['FloatTensor', fromData('float')],
  ['DoubleTensor', fromData('float')],
  ['LongTensor', fromData('int')],
  ['IntTensor', fromData('int')],
  ['randint', RANDINT],
  ['eye', IDENTITY_MATRIX],
  ['identity', IDENTITY_MATRIX],
  ['ones', FILLED],
  ['zeros', FILLED],
  ['randn', FILLED],
  ['rand', FILLED],
  ['full', FILLED],
  ['empty', FILLED],
  ['ones_like', FILLED_LIKE],
  ['zeros_like', FILLED_LIKE],
  ['rand_like', FILLED_LIKE],
  ['randn_like', FILLED_LIKE],
  ['full_like', FILLED_LIKE],
]);

/** A row: a one-hot encoder (`F.one_hot(y, C)`, `to_categorical(y, C)`), of the given dtype. */
export function oneHotFunction(dtype: DType, message: string): FunctionModel {
  return {
    call: creates((args, node) => {
      const classes = argument(args, 1, 'num_classes', 'depth');
      const facts: TensorFacts = {
        encoding: { value: 'one-hot', origins: [origin(node, 'one-hot encoded here')] },
        dtype: { value: dtype, origins: [origin(node, message)] },
      };
      const inputRank = factsOf(args.positional[0]?.value ?? UNKNOWN).rank;
      if (inputRank) facts.rank = { value: inputRank.value + 1, origins: inputRank.origins };
      if (classes?.value.kind === 'number') facts.lastDim = { value: classes.value.value, origins: [origin(node, `${classes.value.value} classes`)] };
      return tensor(facts);
    }),
  };
}

interface LiteralFacts {
  rank: number;
  lastDim?: number;
  dtype: DType;
  encoding?: TargetEncoding;
}

/** What a literal (`[[1, 0, 1], [0, 1, 0]]`, possibly through a variable) says as a target: rank, width, dtype, encoding. */
function literalFacts(value: Value): LiteralFacts | undefined {
  if (value.kind !== 'list' && value.kind !== 'tuple') return undefined;
  const rows = value.items;
  if (rows.length === 0) return undefined;
  if (rows.every((r) => r.kind === 'number')) {
    const numbers = rows as { value: number; float: boolean }[];
    const float = numbers.some((n) => n.float);
    return { rank: 1, lastDim: rows.length, dtype: float ? 'float' : 'int', encoding: numbers.every((n) => Number.isInteger(n.value) && n.value >= 0) ? 'class-indices' : undefined };
  }
  if (!rows.every((r) => (r.kind === 'list' || r.kind === 'tuple') && r.items.length > 0 && r.items.every((c) => c.kind === 'number'))) return undefined;
  const matrix = rows.map((r) => (r as { items: { value: number; float: boolean }[] }).items);
  const width = matrix[0].length;
  const values = matrix.map((r) => r.map((c) => c.value));
  const float = matrix.some((r) => r.some((c) => c.float));
  let encoding: TargetEncoding | undefined;
  const binary = values.every((r) => r.every((v) => v === 0 || v === 1));
  if (binary) {
    const ones = values.map((r) => r.filter((v) => v === 1).length);
    if (ones.some((n) => n > 1)) encoding = 'multi-hot';
    else if (ones.every((n) => n === 1) && width > 1) encoding = 'one-hot';
  } else if (values.every((r) => r.every((v) => v >= 0 && v <= 1) && Math.abs(r.reduce((a, b) => a + b, 0) - 1) < 1e-6)) encoding = 'soft-labels';
  return { rank: 2, lastDim: matrix.every((r) => r.length === width) ? width : undefined, dtype: float ? 'float' : 'int', encoding };
}
