import { child } from '../parse/tree';
import { inputFacts, kerasFromLogitsEdit, kerasSpelling, lossLabel, renameCallee, everyUseOfLossObject } from './helpers';
import type { NodeEdit, Rule } from './rule';

export const logitsToProbabilityLoss: Rule = {
  info: {
    id: 'logits-to-probability-loss',
    severity: 'error',
    category: 'scores',
    description: 'Unbounded scores (a linear layer or Dense with no final activation) reach a loss that expects probabilities (BCELoss, Keras losses with from_logits=False).',
    example: 'model = nn.Linear(16, 1)\nloss = nn.BCELoss()(model(x), y)',
    fix: 'Switch to the logits form of the loss: BCEWithLogitsLoss, binary_cross_entropy_with_logits, from_logits=True.',
  },
  check({ facts, report }) {
    const keras = kerasSpelling(facts.moduleScope);
    for (const site of facts.lossCalls) {
      if (site.expects !== 'probabilities') continue;
      const score = inputFacts(site).score;
      if (score?.value !== 'logits') continue;
      let edit: NodeEdit | undefined;
      if (site.spec.framework === 'keras') edit = kerasFromLogitsEdit(site, keras);
      else if (site.spec.canonical === 'binary_cross_entropy') {
        const isLogits = (other: typeof site) => inputFacts(other).score?.value === 'logits';
        if (site.lossObject && everyUseOfLossObject(facts.lossCalls, site, isLogits)) {
          const ctorCallee = child(site.lossObject.node, 'function');
          edit = ctorCallee ? renameCallee(ctorCallee, /^BCELoss$/, 'BCEWithLogitsLoss') : undefined;
        } else if (!site.lossObject) edit = renameCallee(site.callee, /^binary_cross_entropy$/, 'binary_cross_entropy_with_logits');
      }
      report({
        node: site.inputReportNode,
        framework: site.spec.framework,
        message: `${lossLabel(site)} expects probabilities in [0, 1], but its input is unbounded scores (logits): ${site.spec.framework === 'pytorch' ? 'PyTorch raises on values outside [0, 1], or the loss is meaningless' : 'Keras clips them to [epsilon, 1 - epsilon] and the loss is meaningless'}. Use the logits form of the loss.`,
        related: score.origins,
        fix: edit ? { title: site.spec.framework === 'keras' ? 'Use from_logits=True' : 'Use the with-logits loss', edits: [edit] } : undefined,
      });
    }
  },
};
