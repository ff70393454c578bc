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
        // A guard keeps the log finite, so it must not claim -inf; what it costs instead is said (decision: docs/rules/log-of-softmax.md).
        message: event.entropy
          ? 'log of softmax in an entropy p * log(p): a probability that rounds to 0 gives 0 * -inf = NaN. log_softmax computes the log stably (the term is then 0).'
          : event.guarded === 'clamp'
          ? 'log of softmax kept finite by a clamp: probabilities below the bound get no gradient, so the mistakes the model is surest of stop training, and their log is capped at log(min). log_softmax computes exact values stably, with no clamp.'
          : event.guarded === 'epsilon'
          ? 'log of softmax kept finite by an epsilon: no -inf, but the log of small probabilities is biased towards log(eps) and their gradient shrinks. log_softmax computes exact values stably, with no epsilon.'
          : 'log of softmax underflows: a probability that rounds to 0 gives -inf (and NaN gradients). log_softmax computes the same values stably.',
        related: event.origins,
        fix: event.fix ? { title: 'Use log_softmax', edits: event.fix } : undefined,
      });
    }
  },
};
