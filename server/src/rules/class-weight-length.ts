import { factsOf } from '../analysis/values';
import { keywordOrArgument, relatedElsewhere, resizeUniformVector } from './argument-fixes';
import { inputFacts, lossLabel } from './helpers';
import type { Rule } from './rule';

export const classWeightLength: Rule = {
  info: {
    id: 'class-weight-length',
    severity: 'error',
    category: 'configuration',
    description: 'weight= length differs from the number of classes, when both are known.',
    example: 'model = nn.Linear(20, 5)\ncriterion = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]))',
    fix: 'Give one weight per class.',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      if (site.spec.canonical !== 'cross_entropy' && site.spec.canonical !== 'nll_loss') continue;
      const weight = site.options.get('weight');
      const weightFacts = weight ? factsOf(weight.value) : {};
      const reported = weight ? keywordOrArgument(weight) : undefined;
      const classes = inputFacts(site).lastDim;
      if (!reported || weightFacts.rank?.value !== 1 || !weightFacts.lastDim || !classes || classes.value < 2) continue;
      if (weightFacts.lastDim.value === classes.value) continue;
      const resize = resizeUniformVector(weightFacts.lastDim, classes.value);
      report({
        node: reported,
        framework: site.spec.framework,
        message: `${lossLabel(site)} needs one weight per class, but weight has ${weightFacts.lastDim.value} values for ${classes.value} classes: PyTorch raises "weight tensor should be defined either for all ${classes.value} classes or no classes".`,
        related: relatedElsewhere([...classes.origins, ...weightFacts.lastDim.origins], reported),
        fix: resize ? { title: `Give weight ${classes.value} values`, edits: [resize] } : undefined,
      });
    }
  },
};
