import type { Rule } from './rule';

export const logOfSigmoid: Rule = {
  info: {
    id: 'log-of-sigmoid',
    severity: 'warning',
    category: 'scores',
    description: 'log(sigmoid(x)) or log(1 - sigmoid(x)): underflows to -inf for large |x|.',
    example: 'log_p = torch.log(torch.sigmoid(z))',
    fix: 'F.logsigmoid(x) for log(sigmoid(x)), F.logsigmoid(-x) for log(1 - sigmoid(x)).',
  },
  check({ facts, report }) {
    for (const event of facts.events) {
      if (event.kind !== 'log-of-sigmoid') continue;
      report({
        node: event.node,
        framework: event.framework,
        message: event.entropy
          ? `log of ${event.complement ? '1 - sigmoid' : 'sigmoid'} in an entropy p * log(p): a probability that rounds to 0 gives 0 * -inf = NaN. ${event.complement ? 'logsigmoid(-x)' : 'logsigmoid(x)'} computes the log stably.`
          : event.guarded
          ? `log of ${event.complement ? '1 - sigmoid' : 'sigmoid'} kept finite by ${event.guarded === 'clamp' ? 'a clamp' : 'an epsilon'}: for large ${event.complement ? 'positive' : 'negative'} inputs the value sits at the guard ${event.guarded === 'clamp' ? 'with no gradient' : 'and its gradient shrinks'}. ${event.complement ? 'logsigmoid(-x)' : 'logsigmoid(x)'} computes it exactly and stably.`
          : `log of ${event.complement ? '1 - sigmoid' : 'sigmoid'} underflows to -inf for large ${event.complement ? 'positive' : 'negative'} inputs. ${event.complement ? 'logsigmoid(-x)' : 'logsigmoid(x)'} computes it stably.`,
        related: event.origins,
        fix: event.fix ? { title: `Use ${event.complement ? 'logsigmoid(-x)' : 'logsigmoid(x)'}`, edits: event.fix } : undefined,
      });
    }
  },
};
