import { NO_ARGUMENTS, type FunctionModel } from './context';
import { oneHotFunction } from './arrays';
import { STOP_GRADIENT } from './gradient-flow';
import { ARGMAX, LOG, REDUCTION, sigmoidFunction, softmaxFunction } from './scores';

/** JAX (`jax.nn`, `jax.numpy`, `jax.grad`). The optax losses are in `loss-catalog.ts`. */

/** `jax.grad(loss_fn)`: what `loss_fn` returns is differentiated; the result is a function (a reference). */
const GRAD: FunctionModel = {
  call: (ctx, args, _node, path) => {
    const fn = args.positional[0]?.value;
    if (fn?.kind === 'function') ctx.markBackpropagated(ctx.invoke(fn, undefined, NO_ARGUMENTS()));
    return { kind: 'ref', path: `${path}()` };
  },
};

export const JAX_FUNCTIONS: ReadonlyMap<string, FunctionModel> = new Map([
  ['jax.nn.softmax', softmaxFunction('softmax')],
  ['jax.nn.log_softmax', softmaxFunction('log_softmax')],
  ['jax.nn.sigmoid', sigmoidFunction('sigmoid')],
  ['jax.nn.log_sigmoid', sigmoidFunction('log_sigmoid')],
  ['jax.nn.one_hot', oneHotFunction('float', 'one-hot floats')],
  ['jax.numpy.log', LOG],
  ['jax.numpy.argmax', ARGMAX],
  ['jax.numpy.sum', REDUCTION],
  ['jax.numpy.mean', REDUCTION],
  ['jax.grad', GRAD],
  ['jax.value_and_grad', GRAD],
  ['jax.lax.stop_gradient', STOP_GRADIENT],
]);
