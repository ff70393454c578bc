import type { NodeEdit, Origin } from '../analysis/values';
import { child, textOf } from '../parse/tree';
import { keywordArgument, methodCall, relatedElsewhere, replaceWith } from './argument-fixes';
import { lossLabel, targetFacts } from './helpers';
import type { Rule } from './rule';

const FLOAT_CAST_METHODS = /^(float|double|half|bfloat16)$/;
const FLOAT_DTYPE = /^(torch\.)?(float|float16|float32|float64|half|double|bfloat16)$/;
const FLOAT_TENSOR_TYPE = /^((?:\w+\.)*)(FloatTensor|DoubleTensor|HalfTensor)$/;

/** The edit that turns one float cast back into an integer one, at the place the cast was written. */
function integerCastEdit(cast: Origin): NodeEdit | undefined {
  const node = cast.node;
  // `dtype=torch.float32` (the origin is the keyword argument).
  if (node.type === 'keyword_argument') {
    const value = child(node, 'value');
    if (!value || !FLOAT_DTYPE.test(textOf(value))) return undefined;
    return replaceWith(value, textOf(value).includes('.') ? `${textOf(value).split('.')[0]}.long` : 'long');
  }
  if (node.type !== 'call') return undefined;
  const callee = child(node, 'function');
  const method = methodCall(node);
  // `y.float()`
  if (method && FLOAT_CAST_METHODS.test(method.method) && method.args.length === 0) return replaceWith(method.nameNode, 'long');
  // `y.to(torch.float32)`, `y.type(torch.float32)`, `y.type(torch.FloatTensor)`
  if (method && (method.method === 'to' || method.method === 'type')) {
    const tensorType = method.args.find((a) => FLOAT_TENSOR_TYPE.test(textOf(a)));
    if (tensorType) return replaceWith(tensorType, textOf(tensorType).replace(FLOAT_TENSOR_TYPE, '$1LongTensor'));
    const dtype = keywordArgument(node, 'dtype') ?? method.args.find((a) => FLOAT_DTYPE.test(textOf(a)));
    if (!dtype || !FLOAT_DTYPE.test(textOf(dtype))) return undefined;
    return replaceWith(dtype, textOf(dtype).includes('.') ? `${textOf(dtype).split('.')[0]}.long` : 'long');
  }
  // `torch.FloatTensor([..])`
  if (callee?.type === 'attribute') {
    const name = child(callee, 'attribute');
    if (name && textOf(name) === 'FloatTensor') return replaceWith(name, 'LongTensor');
  }
  return undefined;
}

export const floatClassIndexTarget: Rule = {
  info: {
    id: 'float-class-index-target',
    severity: 'error',
    category: 'targets',
    description: 'Class indices cast to float (.float(), dtype=torch.float32, torch.FloatTensor) reach CrossEntropyLoss/NLLLoss.',
    example: 'y = torch.randint(0, 5, (32,)).float()\nloss = nn.CrossEntropyLoss()(logits, y)',
    fix: 'Keep class indices as int64: .long() where the cast is applied.',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      if (site.spec.canonical !== 'cross_entropy' && site.spec.canonical !== 'nll_loss') continue;
      const target = targetFacts(site);
      if (!site.target?.node || target.encoding?.value !== 'class-indices' || target.dtype?.value !== 'float') continue;
      const casts = target.dtype.origins;
      const edits = casts.map(integerCastEdit);
      const fix = casts.length > 0 && edits.every((e): e is NodeEdit => e !== undefined) ? { title: 'Keep the class indices as int64 (.long())', edits } : undefined;
      report({
        node: site.target.node,
        framework: site.spec.framework,
        message: `${lossLabel(site)} takes class indices as int64, but this target holds class indices cast to float: PyTorch raises "expected scalar type Long but found Float". Keep the indices as .long().`,
        // The cast, and where the values were known to be class indices (a dataset, randint, argmax).
        related: relatedElsewhere([...casts, ...target.encoding.origins], site.target.node),
        fix,
      });
    }
  },
};
