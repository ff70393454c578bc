import { child } from '../parse/tree';
import { everyUseOfLossObject, inputFacts, lossLabel, removalEdits, renameCallee } from './helpers';
import type { NodeEdit, Rule } from './rule';

export const sigmoidThenBce: Rule = {
  info: {
    id: 'sigmoid-then-bce',
    severity: 'warning',
    category: 'scores',
    description: 'sigmoid then BCELoss: legal, but loses precision for large logits (log(0) clamped to -100).',
    example: 'loss = nn.BCELoss()(torch.sigmoid(model(x)), y)',
    fix: 'BCEWithLogitsLoss on the logits, carrying weight/reduction over.',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      if (site.spec.canonical !== 'binary_cross_entropy') continue;
      const score = inputFacts(site).score;
      if (score?.value !== 'probabilities' || score.activation !== 'sigmoid') continue;
      const removal = removalEdits(score.origins, site.inputReportNode, facts.units);
      const isSigmoid = (other: typeof site) => inputFacts(other).score?.activation === 'sigmoid';
      const rename = site.lossObject
        ? everyUseOfLossObject(facts.lossCalls, site, isSigmoid) && child(site.lossObject.node, 'function')
          ? renameCallee(child(site.lossObject.node, 'function')!, /^BCELoss$/, 'BCEWithLogitsLoss')
          : undefined
        : renameCallee(site.callee, /^binary_cross_entropy$/, 'binary_cross_entropy_with_logits');
      const edits: NodeEdit[] | undefined = removal && rename ? [rename, ...removal] : undefined;
      report({
        node: site.inputReportNode,
        framework: site.spec.framework,
        message: `sigmoid followed by ${lossLabel(site)} loses precision: for large logits sigmoid rounds to 0 or 1 and the log is clamped. BCEWithLogitsLoss computes the same loss stably from the logits.`,
        related: score.origins,
        fix: edits ? { title: 'Use BCEWithLogitsLoss on the logits', edits } : undefined,
      });
    }
  },
};
