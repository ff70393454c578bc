import type { Rule } from './rule';

export const manualCrossEntropy: Rule = {
  info: {
    id: 'manual-cross-entropy',
    severity: 'warning',
    category: 'scores',
    description: 'A hand-written cross-entropy or binary cross-entropy formula over probabilities.',
    example: 'loss = -(y_onehot * torch.log(F.softmax(logits, dim=1))).sum(dim=1).mean()',
    fix: 'The built-in loss on the logits (cross_entropy, binary_cross_entropy_with_logits).',
  },
  check({ facts, report }) {
    for (const event of facts.events) {
      if (event.kind !== 'manual-cross-entropy') continue;
      report({
        node: event.node,
        framework: event.framework,
        message: 'Hand-written cross-entropy over probabilities: log of a probability that rounds to 0 gives -inf or NaN. The built-in loss on the logits (cross_entropy, binary_cross_entropy_with_logits) is stable and faster.',
        related: event.origins,
      });
    }
  },
};
