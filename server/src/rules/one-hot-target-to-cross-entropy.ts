import type { NodeEdit } from '../analysis/values';
import { textOf, type PyNode } from '../parse/tree';
import { appendTo, methodCall, positionalArguments, relatedElsewhere, replaceWith, unparenthesize } from './argument-fixes';
import { lossLabel, targetFacts } from './helpers';
import type { Rule } from './rule';

/** Casts that may wrap a one-hot encoding at the call (`F.one_hot(y, 10).float()`). */
const CASTS = /^(float|double|half|long|int|to|type)$/;

/** When the argument is the one-hot call itself (possibly cast), the indices it encoded: the argument can become them. */
function encodedIndices(argument: PyNode, encoders: readonly PyNode[]): PyNode | undefined {
  let expression = unparenthesize(argument);
  for (let cast = methodCall(expression); cast && CASTS.test(cast.method); cast = methodCall(expression)) expression = unparenthesize(cast.receiver);
  if (!encoders.includes(expression)) return undefined;
  return positionalArguments(expression)[0];
}

export const oneHotTargetToCrossEntropy: Rule = {
  info: {
    id: 'one-hot-target-to-cross-entropy',
    severity: 'warning',
    category: 'targets',
    description: 'A one-hot target (F.one_hot, to_categorical, np.eye(C)[y]) reaches a class-index loss: long one-hot raises, float one-hot silently becomes soft labels.',
    example: 'loss = nn.CrossEntropyLoss()(logits, F.one_hot(y, 10))',
    fix: 'Pass the class indices (argmax(dim=1), or drop the one-hot encoding).',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      if (site.spec.canonical !== 'cross_entropy' && site.spec.canonical !== 'nll_loss') continue;
      const encoding = targetFacts(site).encoding;
      if (!site.target?.node || encoding?.value !== 'one-hot') continue;
      const argument = site.target.node;
      const indices = encodedIndices(argument, encoding.origins.map((o) => o.node));
      const edit: NodeEdit = indices ? replaceWith(argument, textOf(indices)) : appendTo(argument, '.argmax(dim=1)');
      const consequence =
        site.spec.canonical === 'nll_loss'
          ? 'nll_loss never takes one-hot rows and raises "multi-target not supported"'
          : 'an int64 one-hot raises at run time, a float one-hot is silently taken as probability targets (ignore_index no longer applies, class weights and the mean change meaning)';
      report({
        node: argument,
        framework: site.spec.framework,
        message: `${lossLabel(site)} expects class indices, but this target is one-hot encoded: ${consequence}. Pass the class indices.`,
        related: relatedElsewhere(encoding.origins, argument),
        fix: { title: indices ? 'Pass the class indices instead of their one-hot encoding' : 'Convert the one-hot target back to class indices (argmax(dim=1))', edits: [edit] },
      });
    }
  },
};
