import { child } from '../parse/tree';
import { everyUseOfLossObject, inputFacts, lossLabel, removalEdits, renameCallee } from './helpers';
import type { NodeEdit, Rule } from './rule';

export const logSoftmaxBeforeCrossEntropy: Rule = {
  info: {
    id: 'log-softmax-before-cross-entropy',
    severity: 'warning',
    category: 'scores',
    description: 'Log-probabilities reach CrossEntropyLoss, which applies log_softmax again (harmless in value, a confused pipeline).',
    example: 'loss = F.cross_entropy(F.log_softmax(model(x), dim=1), y)',
    fix: 'Use nll_loss on the log-probabilities, or pass the logits.',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      if (site.spec.normalization !== 'softmax' || site.expects !== 'logits') continue;
      const score = inputFacts(site).score;
      if (score?.value !== 'log-probabilities' || score.activation !== 'log_softmax') continue;
      let edits: NodeEdit[] | undefined;
      let title = 'Use nll_loss on the log-probabilities';
      // nll_loss has no label_smoothing: with it, or for other frameworks, the fix passes the logits instead.
      if (site.spec.canonical === 'cross_entropy' && !site.options.has('label_smoothing')) {
        const isLogProbabilities = (other: typeof site) => inputFacts(other).score?.value === 'log-probabilities';
        const rename = site.lossObject
          ? everyUseOfLossObject(facts.lossCalls, site, isLogProbabilities) && child(site.lossObject.node, 'function')
            ? renameCallee(child(site.lossObject.node, 'function')!, /^CrossEntropyLoss$/, 'NLLLoss')
            : undefined
          : renameCallee(site.callee, /^cross_entropy$/, 'nll_loss');
        if (rename) edits = [rename];
      }
      if (!edits) {
        edits = removalEdits(score.origins, site.inputReportNode, facts.units);
        title = 'Drop the log_softmax and pass the logits';
      }
      report({
        node: site.inputReportNode,
        framework: site.spec.framework,
        message: `${lossLabel(site)} applies log_softmax itself; its input is already log-probabilities. The value is unchanged (log_softmax is idempotent) but the pipeline normalises twice: use nll_loss, or pass the logits.`,
        related: score.origins,
        fix: edits ? { title, edits } : undefined,
      });
    }
  },
};
