import type { LossCallFacts, NodeEdit } from '../analysis/values';
import { textOf } from '../parse/tree';
import { appendTo, calleeName, keywordArgument, positionalArguments, relatedElsewhere, replaceWith } from './argument-fixes';
import { inputFacts, lossLabel, renameCallee, targetFacts } from './helpers';
import type { Rule } from './rule';

/** Single-label losses that have a per-class binary counterpart (NLL takes log-probabilities and has none). */
const REPLACEABLE = new Set(['cross_entropy', 'keras:categorical_crossentropy', 'optax:softmax_cross_entropy', 'tf:softmax_cross_entropy_with_logits']);
/** The binary loss for each spelling of a single-label loss. */
const BINARY_NAMES: Record<string, string> = {
  CrossEntropyLoss: 'BCEWithLogitsLoss',
  cross_entropy: 'binary_cross_entropy_with_logits',
  CategoricalCrossentropy: 'BinaryCrossentropy',
  categorical_crossentropy: 'binary_crossentropy',
  softmax_cross_entropy: 'sigmoid_binary_cross_entropy',
  softmax_cross_entropy_with_logits: 'sigmoid_cross_entropy_with_logits',
  softmax_cross_entropy_with_logits_v2: 'sigmoid_cross_entropy_with_logits',
};
/** Options the binary losses also take: any other (ignore_index, label_smoothing) has no meaning there, so no fix then. */
const PORTABLE_OPTIONS = new Set(['weight', 'reduction', 'from_logits', 'axis']);

function isMultiHot(site: LossCallFacts): boolean {
  return targetFacts(site).encoding?.value === 'multi-hot';
}

function binaryLossEdit(site: LossCallFacts, others: readonly LossCallFacts[]): NodeEdit | undefined {
  if (!REPLACEABLE.has(site.spec.canonical)) return undefined;
  if ([...site.options.keys()].some((name) => !PORTABLE_OPTIONS.has(name))) return undefined;
  // A loss object shared with calls whose targets are single-label must stay as it is.
  if (site.lossObject && others.some((other) => other.lossObject?.node === site.lossObject!.node && !isMultiHot(other))) return undefined;
  const nameNode = site.lossObject?.nameNode ?? site.callee;
  if (nameNode.type === 'string') {
    const text = textOf(nameNode);
    return /^.categorical_crossentropy.$/.test(text) ? replaceWith(nameNode, text.replace('categorical_crossentropy', 'binary_crossentropy')) : undefined;
  }
  const name = calleeName(nameNode);
  const binary = name ? BINARY_NAMES[textOf(name)] : undefined;
  return binary ? renameCallee(nameNode, /^\w+$/, binary) : undefined;
}

/**
 * A Keras model that ends in softmax and feeds a probability loss must end in sigmoid once the loss is binary (a binary
 * loss over a softmax is its own bug). Empty when nothing needs to change; undefined when the activation cannot be edited.
 */
function activationEdits(site: LossCallFacts): NodeEdit[] | undefined {
  const score = inputFacts(site).score;
  if (score?.activation !== 'softmax' || site.expects !== 'probabilities') return [];
  if (site.spec.framework !== 'keras' || score.origins.length !== 1 || score.origins[0].node.type !== 'call') return undefined;
  const layer = score.origins[0].node;
  const activation = keywordArgument(layer, 'activation') ?? positionalArguments(layer)[1];
  if (!activation || activation.type !== 'string' || !/^.softmax.$/.test(textOf(activation))) return undefined;
  return [replaceWith(activation, textOf(activation).replace('softmax', 'sigmoid'))];
}

export const multiHotTargetToCrossEntropy: Rule = {
  info: {
    id: 'multi-hot-target-to-cross-entropy',
    severity: 'error',
    category: 'targets',
    description: 'Multi-label targets (several ones per row, MultiLabelBinarizer, attribute vectors) reach a single-label loss (CrossEntropyLoss, categorical Keras losses, optax.softmax_cross_entropy).',
    example: 'tags = torch.tensor([[1., 0., 1.], [0., 1., 1.]])\nloss = nn.CrossEntropyLoss()(logits, tags)',
    fix: 'Use a per-class binary loss: BCEWithLogitsLoss, binary_crossentropy, optax.sigmoid_binary_cross_entropy.',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      if (site.spec.normalization !== 'softmax' || !isMultiHot(site) || !site.target?.node) continue;
      const encoding = targetFacts(site).encoding!;
      const edit = binaryLossEdit(site, facts.lossCalls);
      const activation = edit ? activationEdits(site) : undefined;
      // PyTorch's binary losses refuse integer targets (MultiLabelBinarizer gives integers).
      const floatTarget = site.spec.framework === 'pytorch' && targetFacts(site).dtype?.value === 'int' ? [appendTo(site.target.node, '.float()')] : [];
      report({
        node: site.target.node,
        framework: site.spec.framework,
        message: `${lossLabel(site)} is a single-label loss (softmax over classes), but this target has several positive labels per row: the labels are forced to compete, the model cannot predict all of them and the loss never reaches 0. Use a per-class binary loss.`,
        related: relatedElsewhere(encoding.origins, site.target.node),
        fix: edit && activation ? { title: activation.length > 0 ? 'Use a per-class binary loss and a sigmoid output' : 'Use a per-class binary loss', edits: [edit, ...activation, ...floatTarget] } : undefined,
      });
    }
  },
};
