import { inputFacts, lossLabel, removalEdits } from './helpers';
import type { Rule } from './rule';

export const sigmoidBeforeBceWithLogits: Rule = {
  info: {
    id: 'sigmoid-before-bce-with-logits',
    severity: 'error',
    category: 'scores',
    description: 'Sigmoid output reaches a loss that applies sigmoid itself (BCEWithLogitsLoss, sigmoid_cross_entropy_with_logits, from_logits=True).',
    example: 'loss = nn.BCEWithLogitsLoss()(torch.sigmoid(model(x)), y)',
    fix: 'Drop the sigmoid and pass the logits.',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      if (site.spec.normalization !== 'sigmoid' || site.expects !== 'logits') continue;
      const score = inputFacts(site).score;
      if (score?.value !== 'probabilities' || score.activation !== 'sigmoid') continue;
      const edits = removalEdits(score.origins, site.inputReportNode, facts.units);
      report({
        node: site.inputReportNode,
        framework: site.spec.framework,
        message: `${lossLabel(site)} applies sigmoid itself, but its input is already sigmoid output: the loss sees sigmoid(sigmoid(x)), squeezed into [0.5, 0.73], and barely learns. Pass the logits.`,
        related: score.origins,
        fix: edits ? { title: 'Drop the sigmoid and pass the logits', edits } : undefined,
      });
    }
  },
};
