import type { Origin, TensorFacts } from '../analysis/values';
import { appendTo, relatedElsewhere } from './argument-fixes';
import { inputFacts, lossLabel, targetFacts } from './helpers';
import type { Rule } from './rule';

/** Where a trailing dimension of size 1 was introduced (`unsqueeze(1)`, `nn.Linear(in, 1)`), when the tensor has one besides its batch axis. */
function trailingOneOrigins(facts: TensorFacts): Origin[] | undefined {
  if (facts.trailingOne) return facts.trailingOne.origins;
  if (facts.lastDim?.value === 1 && facts.rank?.value !== 1) return facts.lastDim.origins;
  return undefined;
}

/** Known to be one-dimensional (`[N]`), and not a single element that would match `[N, 1]` by chance. */
function isVector(facts: TensorFacts): boolean {
  return facts.rank?.value === 1 && facts.lastDim?.value !== 1;
}

export const bceShapeMismatch: Rule = {
  info: {
    id: 'bce-shape-mismatch',
    severity: 'error',
    category: 'targets',
    description: 'Input and target of a binary loss differ by a trailing 1 ([N, 1] against [N]), when both shapes are known.',
    example: 'model = nn.Linear(10, 1)\nloss = nn.BCEWithLogitsLoss()(model(x), y)  # y: [N]',
    fix: 'squeeze(-1) the argument with the extra axis (or unsqueeze(-1) the other).',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      if (site.spec.framework !== 'pytorch' || site.spec.normalization !== 'sigmoid' || !site.input?.node || !site.target?.node) continue;
      const input = inputFacts(site);
      const target = targetFacts(site);
      const inputColumn = trailingOneOrigins(input);
      const targetColumn = trailingOneOrigins(target);
      const side = inputColumn && isVector(target) ? 'input' : targetColumn && isVector(input) ? 'target' : undefined;
      if (!side) continue;
      const argument = side === 'input' ? site.inputReportNode : site.target.node;
      const origins = side === 'input' ? inputColumn! : targetColumn!;
      const shapes = side === 'input' ? 'the input has shape [N, 1] and the target [N]' : 'the input has shape [N] and the target [N, 1]';
      report({
        node: argument,
        framework: site.spec.framework,
        message: `${lossLabel(site)} needs input and target of the same shape, but ${shapes}: PyTorch raises a ValueError (size mismatch). Squeeze the trailing axis with .squeeze(-1).`,
        related: relatedElsewhere(origins, argument),
        fix: { title: `Squeeze the trailing axis of the ${side} (.squeeze(-1))`, edits: [appendTo(argument, '.squeeze(-1)')] },
      });
    }
  },
};
