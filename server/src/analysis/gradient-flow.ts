import type { PyNode } from '../parse/tree';
import { factsOf, tensor, UNKNOWN, type Value } from './values';

/** JAX's and TensorFlow's spelling of `.detach()`: the value, with no gradient flowing back through it. */
const STOP_GRADIENT = new Set(['jax.lax.stop_gradient', 'tensorflow.stop_gradient']);

/** `jax.lax.stop_gradient(x)`: what is known of `x`, marked detached; undefined for any other call. */
export function stopGradientOf(path: string, input: Value | undefined, node: PyNode): Value | undefined {
  if (!STOP_GRADIENT.has(path)) return undefined;
  return tensor({ ...factsOf(input ?? UNKNOWN), detached: { value: true, origins: [{ node, message: 'stop_gradient cuts the value from the gradient' }] } });
}
