import type { NodeEdit, Origin } from '../analysis/values';
import { child, textOf, type PyNode } from '../parse/tree';
import { methodCall, positionalArguments, relatedElsewhere, replaceWith, unparenthesize } from './argument-fixes';
import { inputFacts, lossLabel } from './helpers';
import type { Rule } from './rule';

const LABEL_METHODS = /^(argmax|max|round)$/;

/** The scores a label-making expression written in the argument was applied to (`out.argmax(1)`, `torch.max(out, 1)[1]`, `torch.round(p)`). */
function scoresOf(argument: PyNode, labelMakers: readonly Origin[], isModule: (name: string) => boolean): PyNode | undefined {
  let expression = unparenthesize(argument);
  // `torch.max(out, 1)[1]`: the label maker is the call inside the subscript.
  if (expression.type === 'subscript') expression = unparenthesize(child(expression, 'value') ?? expression);
  if (!labelMakers.some((o) => o.node === expression)) return undefined;
  const method = methodCall(expression);
  if (method && LABEL_METHODS.test(method.method)) {
    // `out.argmax(1)` is a method of the scores; `torch.argmax(out, 1)` is a function of them.
    return isModule(textOf(method.receiver)) ? positionalArguments(expression)[0] : method.receiver;
  }
  return positionalArguments(expression)[0];
}

export const argmaxIntoLoss: Rule = {
  info: {
    id: 'argmax-into-loss',
    severity: 'error',
    category: 'configuration',
    description: 'argmax/max(..)[1]/round/predicted labels reach a loss as its input: no gradient, wrong dtype.',
    example: '_, predicted = torch.max(outputs, 1)\nloss = criterion(predicted, labels)',
    fix: 'Pass the scores the labels were taken from.',
  },
  check({ facts, report }) {
    const isModule = (name: string) => facts.moduleScope.get(name)?.kind === 'ref';
    for (const site of facts.lossCalls) {
      const labels = inputFacts(site).predictedLabels;
      if (!labels) continue;
      const argument = site.inputReportNode;
      const scores = site.input?.node ? scoresOf(site.input.node, labels.origins, isModule) : undefined;
      const edit: NodeEdit | undefined = scores ? replaceWith(site.input!.node!, textOf(scores)) : undefined;
      report({
        node: argument,
        framework: site.spec.framework,
        message: `${lossLabel(site)} gets predicted labels (argmax, max(..)[1] or round) as its input: they carry no gradient (argmax is an integer tensor, round has zero gradient), so the model cannot learn from this loss. Pass the scores and keep the labels for metrics.`,
        related: relatedElsewhere(labels.origins, argument),
        fix: edit ? { title: 'Pass the scores instead of the predicted labels', edits: [edit] } : undefined,
      });
    }
  },
};
