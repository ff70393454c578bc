import type { NodeEdit } from '../analysis/values';
import { child, textOf, type PyNode } from '../parse/tree';
import { appendTo, methodCall, relatedElsewhere, replaceWith, unparenthesize } from './argument-fixes';
import { inputFacts, lossLabel, targetFacts } from './helpers';
import type { Rule } from './rule';

/** Undoes an `[N, 1]` reshape written in the argument itself; otherwise `.squeeze(1)` is appended. */
function squeezeEdit(argument: PyNode): NodeEdit {
  const expression = unparenthesize(argument);
  const call = methodCall(expression);
  if (call) {
    const args = call.args.map((a) => textOf(a).replace(/\s+/g, ''));
    // `y.unsqueeze(1)` → `y`
    if (call.method === 'unsqueeze' && args.length === 1 && (args[0] === '1' || args[0] === '-1')) return replaceWith(argument, textOf(call.receiver));
    // `y.view(-1, 1)` → `y.view(-1)`
    if ((call.method === 'view' || call.method === 'reshape') && args.length === 2 && args[1] === '1') {
      const argumentList = child(expression, 'arguments')!;
      return replaceWith(argumentList, `(${textOf(call.args[0])})`);
    }
  }
  // `y[:, None]` → `y`
  if (expression.type === 'subscript') {
    const subscripts = expression.children.filter((c) => c.field === 'subscript').map((s) => textOf(s).replace(/\s+/g, ''));
    const value = child(expression, 'value');
    if (value && subscripts.length === 2 && subscripts[0] === ':' && subscripts[1] === 'None') return replaceWith(argument, textOf(value));
  }
  return appendTo(argument, '.squeeze(1)');
}

export const targetExtraDim: Rule = {
  info: {
    id: 'target-extra-dim',
    severity: 'error',
    category: 'targets',
    description: 'A class-index target shaped [N, 1] (unsqueeze(1), view(-1, 1), reshape(-1, 1)) reaches CrossEntropyLoss/NLLLoss.',
    example: 'loss = nn.CrossEntropyLoss()(logits, y.unsqueeze(1))',
    fix: 'Remove the extra axis: .squeeze(1).',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      if (site.spec.canonical !== 'cross_entropy' && site.spec.canonical !== 'nll_loss') continue;
      const trailingOne = targetFacts(site).trailingOne;
      if (!site.target?.node || !trailingOne) continue;
      // `[N, C, d]` inputs take `[N, d]` targets, and d may be 1.
      const inputRank = inputFacts(site).rank?.value;
      if (inputRank !== undefined && inputRank > 2) continue;
      // A single output unit is its own finding (single-logit-cross-entropy); the target shape is then not the problem.
      if (inputFacts(site).lastDim?.value === 1) continue;
      const argument = site.target.node;
      report({
        node: argument,
        framework: site.spec.framework,
        message: `${lossLabel(site)} takes class indices of shape [N], but this target has shape [N, 1]: PyTorch raises "0D or 1D target tensor expected, multi-target not supported". Remove the extra axis (.squeeze(1)).`,
        related: relatedElsewhere(trailingOne.origins, argument),
        fix: { title: 'Remove the extra axis of the target', edits: [squeezeEdit(argument)] },
      });
    }
  },
};
