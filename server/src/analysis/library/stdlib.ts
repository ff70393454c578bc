import type { Value } from '../values';
import type { FunctionModel } from './context';

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
