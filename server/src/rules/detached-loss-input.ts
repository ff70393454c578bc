import { methodCall, positionalArguments, relatedElsewhere, replaceWith, unparenthesize } from './argument-fixes';
import { child, textOf, type PyNode } from '../parse/tree';
import { inputFacts, lossLabel } from './helpers';
import type { NodeEdit, Origin } from '../analysis/values';
import type { Rule } from './rule';

/** Undoes a `.detach()`/`.data`/`stop_gradient(..)` written in the argument itself. */
function reattachEdit(argument: PyNode, detachments: readonly Origin[]): NodeEdit | undefined {
  const expression = unparenthesize(argument);
  if (!detachments.some((o) => o.node === expression)) return undefined;
  const method = methodCall(expression);
  if (method?.method === 'detach' && method.args.length === 0) return replaceWith(argument, textOf(method.receiver));
  if (expression.type === 'attribute' && textOf(child(expression, 'attribute')!) === 'data') return replaceWith(argument, textOf(child(expression, 'object')!));
  // `jax.lax.stop_gradient(z)`, `tf.stop_gradient(z)`
  const stopped = positionalArguments(expression);
  if (method?.method === 'stop_gradient' && stopped.length === 1) return replaceWith(argument, textOf(stopped[0]));
  return undefined;
}

export const detachedLossInput: Rule = {
  info: {
    id: 'detached-loss-input',
    severity: 'warning',
    category: 'configuration',
    description: 'The loss input is .detach()ed, .item()ed or .numpy()ed and the loss is back-propagated.',
    example: 'loss = criterion(model(x).detach(), y)\nloss.backward()',
    fix: 'Keep the graph: pass the model output itself.',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      const detached = inputFacts(site).detached;
      if (!detached || !site.backpropagated) continue;
      const argument = site.inputReportNode;
      const edit = site.input?.node ? reattachEdit(site.input.node, detached.origins) : undefined;
      report({
        node: argument,
        framework: site.spec.framework,
        message: `${lossLabel(site)} is back-propagated, but its input was cut from the autograd graph (.detach(), .data, .item() or .numpy()): no gradient reaches the model through this loss. Pass the tensor that is still attached to the graph.`,
        related: relatedElsewhere(detached.origins, argument),
        fix: edit ? { title: 'Keep the input attached to the graph', edits: [edit] } : undefined,
      });
    }
  },
};
