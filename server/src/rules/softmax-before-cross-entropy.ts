import { inputFacts, lossLabel, removalEdits } from './helpers';
import type { Rule } from './rule';

export const softmaxBeforeCrossEntropy: Rule = {
  info: {
    id: 'softmax-before-cross-entropy',
    severity: 'error',
    category: 'scores',
    description: 'Softmax probabilities reach a loss that applies softmax itself (CrossEntropyLoss, softmax_cross_entropy, from_logits=True).',
    example: 'probs = F.softmax(model(x), dim=1)\nloss = nn.CrossEntropyLoss()(probs, y)',
    fix: 'Pass the pre-softmax logits: drop the softmax where it is applied, or the trailing nn.Softmax layer.',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      if (site.spec.normalization !== 'softmax' || site.expects !== 'logits') continue;
      const score = inputFacts(site).score;
      if (score?.value !== 'probabilities' || score.activation !== 'softmax') continue;
      const edits = removalEdits(score.origins, site.inputReportNode, facts.units);
      report({
        node: site.inputReportNode,
        framework: site.spec.framework,
        message: `${lossLabel(site)} applies softmax itself, but its input is already softmax probabilities: the loss is computed on softmax(softmax(x)), gradients shrink and training stalls. Pass the logits.`,
        related: score.origins,
        fix: edits ? { title: 'Drop the softmax and pass the logits', edits } : undefined,
      });
    }
  },
};
