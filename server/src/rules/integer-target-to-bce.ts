import { appendTo, methodCall, relatedElsewhere, replaceWith } from './argument-fixes';
import type { Origin } from '../analysis/values';
import { textOf } from '../parse/tree';
import { lossLabel, targetFacts } from './helpers';
import type { Rule } from './rule';

const INTEGER_CASTS = /^(long|int|short|byte)$/;

/** PyTorch's name of an integer dtype, as its errors print it, from the text that made the tensor integer. */
const TORCH_INTEGER_NAMES: [RegExp, string][] = [
  [/(\.int\(\)|\b(int32|torch\.int|IntTensor))\W*$/, 'Int'],
  [/(\.short\(\)|\b(int16|short|ShortTensor))\W*$/, 'Short'],
  [/(\.char\(\)|\b(int8|CharTensor))\W*$/, 'Char'],
  [/(\.byte\(\)|\b(uint8|ByteTensor))\W*$/, 'Byte'],
];

/**
 * `Long` unless every place that made the target integer names a narrower type: int64 is what `torch.randint`,
 * `torch.tensor([0, 1])`, `.long()` and comparisons cast with `.long()` produce.
 */
function torchIntegerName(origins: readonly Origin[]): string {
  const names = new Set(origins.map((o) => TORCH_INTEGER_NAMES.find(([pattern]) => pattern.test(textOf(o.node)))?.[1] ?? 'Long'));
  return names.size === 1 ? [...names][0] : 'Long';
}

/** The error each binary loss raises on an integer target (PyTorch 1.13 to 2.x; the two losses fail in different kernels). */
function dtypeError(canonical: string, integerName: string): string {
  return canonical === 'binary_cross_entropy'
    ? `RuntimeError: Found dtype ${integerName} but expected Float`
    : `RuntimeError: result type Float can't be cast to the desired output type ${integerName}`;
}

export const integerTargetToBce: Rule = {
  info: {
    id: 'integer-target-to-bce',
    severity: 'error',
    category: 'targets',
    description: 'Integer targets reach BCELoss/BCEWithLogitsLoss (run-time dtype error).',
    example: 'y = torch.randint(0, 2, (64, 1))\nloss = nn.BCEWithLogitsLoss()(logits, y)',
    fix: 'Make the target float: .float().',
  },
  check({ facts, report }) {
    for (const site of facts.lossCalls) {
      // Keras casts integer labels itself; PyTorch's binary losses refuse them.
      if (site.spec.framework !== 'pytorch' || site.spec.normalization !== 'sigmoid') continue;
      const dtype = targetFacts(site).dtype;
      if (!site.target?.node || dtype?.value !== 'int') continue;
      const argument = site.target.node;
      // An integer cast written in the argument itself becomes the float cast; otherwise `.float()` is appended.
      const cast = methodCall(argument);
      const edit = cast && INTEGER_CASTS.test(cast.method) && cast.args.length === 0 ? replaceWith(cast.nameNode, 'float') : appendTo(argument, '.float()');
      report({
        node: argument,
        framework: site.spec.framework,
        message: `${lossLabel(site)} needs a floating-point target, but this target is an integer tensor: PyTorch raises "${dtypeError(site.spec.canonical, torchIntegerName(dtype.origins))}" at the first step. Convert it with .float().`,
        related: relatedElsewhere(dtype.origins, argument),
        fix: { title: 'Make the target float (.float())', edits: [edit] },
      });
    }
  },
};
