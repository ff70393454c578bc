import { appendTo, methodCall, relatedElsewhere, replaceWith } from './argument-fixes';
import { lossLabel, targetFacts } from './helpers';
import type { Rule } from './rule';

const INTEGER_CASTS = /^(long|int|short|byte)$/;

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
        message: `${lossLabel(site)} needs a floating-point target, but this target is an integer tensor: PyTorch raises a dtype error ("result type Float can't be cast to the desired output type Long"). Convert it with .float().`,
        related: relatedElsewhere(dtype.origins, argument),
        fix: { title: 'Make the target float (.float())', edits: [edit] },
      });
    }
  },
};
