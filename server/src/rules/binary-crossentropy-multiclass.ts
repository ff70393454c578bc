import { child, textOf } from '../parse/tree';
import { inputFacts, lossLabel } from './helpers';
import type { NodeEdit, Rule } from './rule';

export const binaryCrossentropyMulticlass: Rule = {
  info: {
    id: 'binary-crossentropy-multiclass',
    severity: 'warning',
    category: 'scores',
    description: 'A binary loss on a softmax output over more than two mutually exclusive classes (accuracy looks inflated).',
    example: 'model.add(Dense(10, activation="softmax"))\nmodel.compile(loss="binary_crossentropy", metrics=["accuracy"])',
    fix: 'The categorical loss (categorical_crossentropy / CrossEntropyLoss).',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      if (site.spec.normalization !== 'sigmoid') continue;
      const input = inputFacts(site);
      const classes = input.lastDim?.value;
      if (input.score?.activation !== 'softmax' || classes === undefined || classes <= 2) continue;
      let edit: NodeEdit | undefined;
      const loss = site.lossObject;
      if (site.spec.canonical === 'keras:binary_crossentropy' && loss) {
        if (loss.node.type === 'string') {
          const text = textOf(loss.node);
          edit = { node: loss.node, start: loss.node.start, end: loss.node.end, newText: text.replace('binary_crossentropy', 'categorical_crossentropy') };
        } else if (loss.node.type === 'call') {
          const callee = child(loss.node, 'function');
          const nameNode = callee?.type === 'attribute' ? child(callee, 'attribute') : undefined;
          if (nameNode && textOf(nameNode) === 'BinaryCrossentropy') edit = { node: nameNode, start: nameNode.start, end: nameNode.end, newText: 'CategoricalCrossentropy' };
        }
      }
      report({
        node: site.inputReportNode,
        framework: site.spec.framework,
        message: `${lossLabel(site)} treats each of the ${classes} softmax outputs as an independent yes/no question: the loss does not match mutually exclusive classes and "accuracy" is measured per unit, so it looks inflated. Use the categorical loss.`,
        related: [...(input.lastDim?.origins ?? []), ...input.score.origins],
        fix: edit ? { title: 'Use the categorical loss', edits: [edit] } : undefined,
      });
    }
  },
};
