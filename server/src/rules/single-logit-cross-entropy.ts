import type { NodeEdit, Origin } from '../analysis/values';
import { child, textOf } from '../parse/tree';
import { keywordArgument, positionalArguments, relatedElsewhere, replaceWith } from './argument-fixes';
import { inputFacts, lossLabel } from './helpers';
import type { Rule } from './rule';

/** `nn.Linear(in, 1)` → `nn.Linear(in, 2)`, `Dense(1)` → `Dense(2)`: the layer that made the single unit gets two. */
function twoUnitsEdit(layer: Origin): NodeEdit | undefined {
  const call = layer.node;
  if (call.type !== 'call') return undefined;
  const callee = child(call, 'function');
  const name = callee ? textOf(callee).split('.').pop() : undefined;
  const units =
    name === 'Linear' ? keywordArgument(call, 'out_features') ?? positionalArguments(call)[1]
    : name === 'Dense' ? keywordArgument(call, 'units') ?? positionalArguments(call)[0]
    : undefined;
  return units && textOf(units) === '1' ? replaceWith(units, '2') : undefined;
}

export const singleLogitCrossEntropy: Rule = {
  info: {
    id: 'single-logit-cross-entropy',
    severity: 'error',
    category: 'targets',
    description: 'CrossEntropyLoss over a single output unit (nn.Linear(in, 1)): softmax of one value is 1, the loss is always 0.',
    example: 'model = nn.Linear(10, 1)\nloss = nn.CrossEntropyLoss()(model(x), y)',
    fix: 'Two output units, or BCEWithLogitsLoss with float targets.',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      if (site.spec.normalization !== 'softmax') continue;
      const input = inputFacts(site);
      if (!input.score || input.lastDim?.value !== 1) continue;
      const origins = input.lastDim.origins;
      const edits = origins.map(twoUnitsEdit);
      const fix = origins.length > 0 && edits.every((e): e is NodeEdit => e !== undefined) ? { title: 'Give the model two output units', edits } : undefined;
      report({
        node: site.inputReportNode,
        framework: site.spec.framework,
        message: `${lossLabel(site)} normalises over classes, but the model has a single output unit: softmax over one value is always 1, the loss is always 0 and nothing is learnt (a label 1 raises "Target 1 is out of bounds"). Use two output units, or BCEWithLogitsLoss.`,
        related: relatedElsewhere(origins, site.inputReportNode),
        fix,
      });
    }
  },
};
