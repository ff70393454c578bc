import type { Rule } from './rule';

export const logOfSoftmax: Rule = {
  info: {
    id: 'log-of-softmax',
    severity: 'warning',
    category: 'scores',
    description: 'log(softmax(x)) in any spelling: underflows to -inf for confident predictions.',
    example: 'log_probs = torch.log(F.softmax(logits, dim=1))',
    fix: 'log_softmax(x, dim), which computes the same thing stably.',
  },
  check({ facts, report }) {
    for (const event of facts.events) {
      if (event.kind !== 'log-of-softmax') continue;
      report({
        node: event.node,
        framework: event.framework,
        message: 'log of softmax underflows: a probability that rounds to 0 gives -inf (and NaN gradients). log_softmax computes the same values stably.',
        related: event.origins,
        fix: event.fix ? { title: 'Use log_softmax', edits: event.fix } : undefined,
      });
    }
  },
};
