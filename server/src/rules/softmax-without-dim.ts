import { appendKeywordEdit } from './helpers';
import type { Rule } from './rule';

export const softmaxWithoutDim: Rule = {
  info: {
    id: 'softmax-without-dim',
    severity: 'warning',
    category: 'scores',
    description: 'softmax / log_softmax / nn.Softmax() with no dim: the implicit dim is deprecated and picks the wrong axis for some ranks.',
    example: 'probs = F.softmax(logits)',
    fix: 'Add dim=-1 (or the class axis).',
  },
  check({ facts, report }) {
    for (const event of facts.events) {
      if (event.kind !== 'softmax-without-dim') continue;
      const edit = appendKeywordEdit(event.node, 'dim=-1');
      report({
        node: event.node,
        framework: event.framework,
        message: 'softmax without dim: PyTorch picks the axis from the input\'s rank (dim=0 for 0-, 1- and 3-D inputs, dim=1 otherwise; deprecated), so a 3-D [N, T, C] input is normalised over the batch instead of the classes. Name the class axis.',
        fix: edit ? { title: 'Add dim=-1', edits: [edit] } : undefined,
      });
    }
  },
};
