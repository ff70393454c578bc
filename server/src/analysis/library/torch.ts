import { tensor, UNKNOWN } from '../values';
import { argument, type FunctionModel } from './context';
import { predictedLabels } from './common';
import { loaderOver, tensorDataset } from './data';
import { ARGMAX, BACKPROPAGATES_FIRST, LOG, REDUCTION, ROUND, SAME_MODEL, sigmoidFunction, softmaxFunction } from './scores';

/** `torch.*` functions (array constructors are in `arrays.ts`, `torch.nn` in `torch-nn.ts`). */

/** `torch.max(x, dim)` is `(values, indices)`; `torch.max(x)` a scalar. */
const MAX: FunctionModel = {
  call: (_ctx, args, node) => {
    if (args.positional.length >= 2 || args.keywords.has('dim')) return { kind: 'tuple', items: [tensor({}), predictedLabels(node, '`max(..)[1]`: predicted labels', 'int')] };
    return tensor({});
  },
};

/** `DataLoader(dataset)`: batches of the dataset's samples (undefined when the samples are not known). */
const DATA_LOADER: FunctionModel = {
  call: (ctx, args) => {
    const samples = ctx.samplesOf(argument(args, 0, 'dataset')?.value ?? UNKNOWN);
    return samples ? loaderOver(samples) : undefined;
  },
};

export const TORCH_FUNCTIONS: ReadonlyMap<string, FunctionModel> = new Map([
  ['torch.softmax', softmaxFunction('softmax')],
  ['torch.special.softmax', softmaxFunction('softmax')],
  ['torch.log_softmax', softmaxFunction('log_softmax')],
  ['torch.special.log_softmax', softmaxFunction('log_softmax')],
  ['torch.sigmoid', sigmoidFunction('sigmoid')],
  ['torch.special.expit', sigmoidFunction('sigmoid')],
  ['torch.log', LOG],
  ['torch.argmax', ARGMAX],
  ['torch.max', MAX],
  ['torch.round', ROUND],
  ['torch.sum', REDUCTION],
  ['torch.mean', REDUCTION],
  ['torch.autograd.grad', BACKPROPAGATES_FIRST],
  ['torch.autograd.backward', BACKPROPAGATES_FIRST],
  // Wrappers that call the wrapped module's forward.
  ['torch.nn.parallel.DataParallel', SAME_MODEL],
  ['torch.nn.parallel.DistributedDataParallel', SAME_MODEL],
  ['torch.compile', SAME_MODEL],
  ['torch.utils.data.TensorDataset', { call: (_ctx, args) => tensorDataset(args.positional.map((a) => a.value)) }],
  ['torch.utils.data.DataLoader', DATA_LOADER],
]);
