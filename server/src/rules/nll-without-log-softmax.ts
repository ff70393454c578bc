import { child } from '../parse/tree';
import { everyUseOfLossObject, inputFacts, lossLabel, renameActivationEdit, renameCallee } from './helpers';
import type { NodeEdit, Rule } from './rule';

export const nllWithoutLogSoftmax: Rule = {
  info: {
    id: 'nll-without-log-softmax',
    severity: 'error',
    category: 'scores',
    description: 'NLLLoss / nll_loss gets logits or probabilities instead of log-probabilities.',
    example: 'loss = F.nll_loss(F.softmax(model(x), dim=1), y)',
    fix: 'Apply log_softmax first (instead of softmax), or use cross_entropy on the logits.',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      if (site.spec.canonical !== 'nll_loss') continue;
      const score = inputFacts(site).score;
      if (!score || (score.value !== 'logits' && !(score.value === 'probabilities' && score.activation === 'softmax'))) continue;
      let edits: NodeEdit[] | undefined;
      let title = '';
      if (score.value === 'probabilities') {
        const renames = score.origins.map((o) => renameActivationEdit(o));
        if (renames.every((e) => e)) {
          edits = renames as NodeEdit[];
          title = 'Use log_softmax instead of softmax';
        }
      } else {
        const isLogits = (other: typeof site) => inputFacts(other).score?.value === 'logits';
        const rename = site.lossObject
          ? everyUseOfLossObject(facts.lossCalls, site, isLogits) && child(site.lossObject.node, 'function')
            ? renameCallee(child(site.lossObject.node, 'function')!, /^NLLLoss$/, 'CrossEntropyLoss')
            : undefined
          : renameCallee(site.callee, /^nll_loss$/, 'cross_entropy');
        if (rename) {
          edits = [rename];
          title = 'Use cross_entropy on the logits';
        }
      }
      report({
        node: site.inputReportNode,
        framework: site.spec.framework,
        // On probabilities -p[target] lies in [-1, 0]: nothing diverges, but d(-p_y)/dz_y = -p_y(1 - p_y) vanishes as p_y -> 0.
        message:
          score.value === 'logits'
            ? `${lossLabel(site)} expects log-probabilities, but its input is raw logits: the loss is just the negated logit of the true class, unbounded below, and training diverges. Apply log_softmax first, or use cross_entropy on the logits.`
            : `${lossLabel(site)} expects log-probabilities, but its input is softmax probabilities: the loss is then minus the probability of the true class, a value in [-1, 0] instead of a log-likelihood, whose gradient vanishes as that probability nears 0, so the samples the model gets most wrong barely train. Apply log_softmax instead of softmax, or use cross_entropy on the logits.`,
        related: score.origins,
        fix: edits ? { title, edits } : undefined,
      });
    }
  },
};
