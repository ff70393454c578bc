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
        message: `log of ${event.complement ? '1 - sigmoid' : 'sigmoid'} underflows to -inf for large ${event.complement ? 'positive' : 'negative'} inputs. ${event.complement ? 'logsigmoid(-x)' : 'logsigmoid(x)'} computes it stably.`,
        related: event.origins,
        fix: event.fix ? { title: `Use ${event.complement ? 'logsigmoid(-x)' : 'logsigmoid(x)'}`, edits: event.fix } : undefined,
      });
    }
  },
};
