import { factsOf, tensor, UNKNOWN } from '../values';
import type { FunctionModel } from './context';

/** A row: JAX's and TensorFlow's spelling of `.detach()`: what is known of the input, with no gradient flowing back through it. */
export const STOP_GRADIENT: FunctionModel = {
  call: (_ctx, args, node) =>
    tensor({ ...factsOf(args.positional[0]?.value ?? UNKNOWN), detached: { value: true, origins: [{ node, message: 'stop_gradient cuts the value from the gradient' }] } }),
};
