import { factsOf } from '../analysis/values';
import { keywordOrArgument, relatedElsewhere, resizeUniformVector } from './argument-fixes';
import { inputFacts, lossLabel } from './helpers';
import type { Rule } from './rule';

export const posWeightShape: Rule = {
  info: {
    id: 'pos-weight-shape',
    severity: 'error',
    category: 'configuration',
    description: 'pos_weight= length differs from the number of outputs, when both are known.',
    example: 'model = nn.Linear(20, 5)\ncriterion = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([3.0, 1.5]))',
    fix: 'Give one value per output.',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      if (site.spec.canonical !== 'binary_cross_entropy_with_logits') continue;
      const posWeight = site.options.get('pos_weight');
      const posWeightFacts = posWeight ? factsOf(posWeight.value) : {};
      const reported = posWeight ? keywordOrArgument(posWeight) : undefined;
      const outputs = inputFacts(site).lastDim;
      // A single value broadcasts over every output.
      if (!reported || posWeightFacts.rank?.value !== 1 || !posWeightFacts.lastDim || posWeightFacts.lastDim.value === 1 || !outputs) continue;
      if (posWeightFacts.lastDim.value === outputs.value) continue;
      const resize = resizeUniformVector(posWeightFacts.lastDim, outputs.value);
      report({
        node: reported,
        framework: site.spec.framework,
        message: `${lossLabel(site)} broadcasts pos_weight over the outputs, but pos_weight has ${posWeightFacts.lastDim.value} values for ${outputs.value} output${outputs.value === 1 ? '' : 's'}: PyTorch raises a size mismatch at the first step. Give one value per output.`,
        related: relatedElsewhere([...outputs.origins, ...posWeightFacts.lastDim.origins], reported),
        fix: resize ? { title: `Give pos_weight ${outputs.value} values`, edits: [resize] } : undefined,
      });
    }
  },
};
