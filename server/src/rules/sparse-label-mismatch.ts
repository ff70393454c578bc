import type { LossCallFacts, NodeEdit } from '../analysis/values';
import { textOf } from '../parse/tree';
import { calleeName, relatedElsewhere, replaceWith } from './argument-fixes';
import { lossLabel, renameCallee, targetFacts } from './helpers';
import type { Rule } from './rule';

/** Each spelling of a label-encoding-specific loss and the spelling of its counterpart for the other encoding. */
const COUNTERPARTS: Record<string, string> = {
  sparse_categorical_crossentropy: 'categorical_crossentropy',
  categorical_crossentropy: 'sparse_categorical_crossentropy',
  SparseCategoricalCrossentropy: 'CategoricalCrossentropy',
  CategoricalCrossentropy: 'SparseCategoricalCrossentropy',
  softmax_cross_entropy: 'softmax_cross_entropy_with_integer_labels',
  softmax_cross_entropy_with_integer_labels: 'softmax_cross_entropy',
  softmax_cross_entropy_with_logits: 'sparse_softmax_cross_entropy_with_logits',
  softmax_cross_entropy_with_logits_v2: 'sparse_softmax_cross_entropy_with_logits',
  sparse_softmax_cross_entropy_with_logits: 'softmax_cross_entropy_with_logits',
};

function counterpartEdit(site: LossCallFacts): NodeEdit | undefined {
  const nameNode = site.lossObject?.nameNode ?? site.callee;
  if (nameNode.type === 'string') {
    const text = textOf(nameNode);
    const name = text.slice(1, -1);
    const counterpart = COUNTERPARTS[name];
    return counterpart && /^["']$/.test(text[0]) ? replaceWith(nameNode, `${text[0]}${counterpart}${text[0]}`) : undefined;
  }
  const name = calleeName(nameNode);
  const counterpart = name ? COUNTERPARTS[textOf(name)] : undefined;
  return counterpart ? renameCallee(nameNode, /^\w+$/, counterpart) : undefined;
}

export const sparseLabelMismatch: Rule = {
  info: {
    id: 'sparse-label-mismatch',
    severity: 'error',
    category: 'targets',
    description: 'Integer labels with a one-hot loss, or one-hot labels with a sparse loss (Keras sparse_categorical_crossentropy vs categorical_crossentropy; optax softmax_cross_entropy vs softmax_cross_entropy_with_integer_labels).',
    example: 'y = to_categorical(labels)\nmodel.compile(loss="sparse_categorical_crossentropy")\nmodel.fit(x, y)',
    fix: 'Use the loss that matches the labels.',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      // PyTorch's cross_entropy accepts both encodings (one-hot has its own rule).
      if (site.spec.framework === 'pytorch' || !site.target?.node) continue;
      const target = targetFacts(site);
      const encoding = target.encoding;
      const wantsIndices = site.spec.target === 'indices';
      // Integers in a matrix (`randint(0, 2, (N, C))`) may be per-class labels, not class indices.
      const indexVector = target.rank === undefined || target.rank.value <= 1 || target.lastDim?.value === 1;
      const mismatch = (wantsIndices && encoding?.value === 'one-hot') || (site.spec.target === 'one-hot' && encoding?.value === 'class-indices' && indexVector);
      if (!mismatch || !encoding) continue;
      const argument = site.target.node;
      const lossPlace = site.lossObject && site.style !== 'function' ? [{ node: site.lossObject.node, message: `${lossLabel(site)} chosen here` }] : [];
      const edit = counterpartEdit(site);
      const labels = wantsIndices ? 'one-hot labels' : 'integer class labels';
      const expected = wantsIndices ? 'integer class labels' : 'one-hot labels';
      report({
        node: argument,
        framework: site.spec.framework,
        message: `${lossLabel(site)} expects ${expected}, but these are ${labels}: the shapes disagree ([N] against [N, C]), which fails at the first batch or, where it broadcasts, gives a meaningless loss. Use the loss that matches the labels.`,
        related: relatedElsewhere([...encoding.origins, ...lossPlace], argument),
        fix: edit ? { title: 'Use the loss that matches the labels', edits: [edit] } : undefined,
      });
    }
  },
};
