import { child, namedChildren, textOf, type PyNode } from '../../parse/tree';
import { factsOf, tensor, UNKNOWN, type ClassValue, type Value } from '../values';
import type { FunctionModel } from './context';

/** A row: JAX's and TensorFlow's spelling of `.detach()`: what is known of the input, with no gradient flowing back through it. */
export const STOP_GRADIENT: FunctionModel = {
  call: (_ctx, args, node) =>
    tensor({ ...factsOf(args.positional[0]?.value ?? UNKNOWN), detached: { value: true, origins: [{ node, message: 'stop_gradient cuts the value from the gradient' }] } }),
};

/** Context managers and decorators under which PyTorch records no gradient (`torch.no_grad()`, `@torch.inference_mode()`). */
const GRADIENT_OFF = new Set([
  'torch.no_grad',
  'torch.inference_mode',
  'torch.autograd.no_grad',
  'torch.autograd.inference_mode',
  'torch.autograd.grad_mode.no_grad',
  'torch.autograd.grad_mode.inference_mode',
]);

/**
 * Whether a `with` item or a decorator (its value, and the expression it was evaluated from) turns gradients off:
 * `torch.no_grad()`, `torch.inference_mode()` (called or, as a decorator, bare), `torch.set_grad_enabled(False)`.
 */
export function disablesGradient(value: Value, expression: PyNode): boolean {
  if (value.kind !== 'ref') return false;
  const path = value.path.endsWith('()') ? value.path.slice(0, -2) : value.path;
  if (GRADIENT_OFF.has(path)) return true;
  if (path !== 'torch.set_grad_enabled' && path !== 'torch.autograd.set_grad_enabled') return false;
  const args = expression.type === 'call' ? child(expression, 'arguments') : undefined;
  const first = args ? namedChildren(args)[0] : undefined;
  return first !== undefined && textOf(first) === 'False';
}

const LIGHTNING_MODULES = new Set(['pytorch_lightning.LightningModule', 'lightning.pytorch.LightningModule', 'lightning.LightningModule']);
/** Lightning's Trainer runs these hooks with gradients off. */
const LIGHTNING_STEPS_WITHOUT_GRADIENT = new Set(['validation_step', 'test_step', 'predict_step']);

function isLightningModule(cls: ClassValue, seen = new Set<ClassValue>()): boolean {
  if (seen.has(cls)) return false;
  seen.add(cls);
  return cls.bases.some((base) => (base.kind === 'ref' && LIGHTNING_MODULES.has(base.path)) || (base.kind === 'class' && isLightningModule(base, seen)));
}

/** A method the framework calls with gradients off: a LightningModule's `validation_step`, `test_step`, `predict_step`. */
export function methodRunsWithoutGradient(name: string, owner: ClassValue): boolean {
  return LIGHTNING_STEPS_WITHOUT_GRADIENT.has(name) && isLightningModule(owner);
}
