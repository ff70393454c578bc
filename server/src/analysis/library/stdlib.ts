import type { PyNode } from '../../parse/tree';
import { factsOf, tensor, UNKNOWN, type DType, type Value } from '../values';
import type { FunctionModel } from './context';
import { iterationBuiltin } from './data';

/** Python's standard library, where models are built with it. */

/** `OrderedDict([("fc", nn.Linear(..)), ("act", nn.Softmax(1))])`: a dict of the string-keyed pairs, in order. */
const ORDERED_DICT: FunctionModel = {
  call: (_ctx, args) => {
    const pairs = args.positional[0]?.value;
    if (args.positional.length !== 1 || (pairs?.kind !== 'list' && pairs?.kind !== 'tuple')) return undefined;
    const entries = new Map<string, Value>();
    for (const pair of pairs.items) {
      if ((pair.kind !== 'tuple' && pair.kind !== 'list') || pair.items.length !== 2 || pair.items[0].kind !== 'string') return undefined;
      entries.set(pair.items[0].value, pair.items[1]);
    }
    return entries.size === pairs.items.length ? { kind: 'dict', entries } : undefined;
  },
};

export const STDLIB_FUNCTIONS: ReadonlyMap<string, FunctionModel> = new Map([['collections.OrderedDict', ORDERED_DICT]]);

const SCALAR_CASTS: Readonly<Record<string, DType>> = { float: 'float', int: 'int', bool: 'bool' };

/**
 * Python's `float(x)`, `int(x)`, `bool(x)`: a scalar (rank 0) of that type, keeping what `x` encodes (`float(label)`
 * of a class index is still a class index, now a float); a number stays a number. Undefined for other names.
 */
function scalarCast(name: string, value: Value, node: PyNode): Value | undefined {
  const dtype = SCALAR_CASTS[name];
  if (!dtype) return undefined;
  if (value.kind === 'number' && dtype !== 'bool') return { kind: 'number', value: dtype === 'int' ? Math.trunc(value.value) : value.value, float: dtype === 'float' };
  if (value.kind !== 'tensor' && value.kind !== 'unknown') return UNKNOWN;
  const origins = [{ node, message: `a Python ${name} made by \`${name}()\`` }];
  const facts = factsOf(value);
  return tensor({
    ...(facts.encoding ? { encoding: facts.encoding } : {}),
    dtype: { value: dtype, origins },
    rank: { value: 0, origins },
  });
}

/** Builtins called by an unbound name (`enumerate(loader)`, `float(label)`); undefined for names no model knows. */
export function builtinCall(name: string, value: Value, node: PyNode): Value | undefined {
  return iterationBuiltin(name, value) ?? scalarCast(name, value, node);
}
