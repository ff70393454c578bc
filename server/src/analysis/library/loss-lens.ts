import { UNKNOWN } from '../values';
import { argument, type FunctionModel } from './context';

/** Loss Lens' own Python helper, where a program uses it. */

/** `loss_lens.watch(criterion)` captures some calls and passes every call through: it is the loss it wraps. */
const WATCH: FunctionModel = { call: (_ctx, args) => argument(args, 0, 'loss')?.value ?? UNKNOWN };

export const LOSS_LENS_FUNCTIONS: ReadonlyMap<string, FunctionModel> = new Map([['loss_lens.watch', WATCH]]);
