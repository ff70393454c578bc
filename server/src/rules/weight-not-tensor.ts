import { factsOf, type ArgumentFacts, type LossSpec, type Value } from '../analysis/values';
import { textOf } from '../parse/tree';
import { keywordOrArgument, moduleName, relatedElsewhere, replaceWith } from './argument-fixes';
import type { Rule } from './rule';

const WEIGHT_OPTIONS = ['weight', 'pos_weight'] as const;

/** A value PyTorch refuses where its losses need a tensor: a Python list, tuple or number. */
function isPlainPythonValue(value: Value): value is Extract<Value, { kind: 'list' | 'tuple' | 'number' }> {
  return value.kind === 'list' || value.kind === 'tuple' || value.kind === 'number';
}

/** Float literals become float32 tensors by themselves; integers would become int64, which the losses refuse as weights. */
function isFloatLiteral(value: Value): boolean {
  if (value.kind === 'number') return value.float;
  if (value.kind === 'list' || value.kind === 'tuple') return value.items.length > 0 && value.items.every((item) => item.kind === 'number') && value.items.some((item) => item.kind === 'number' && item.float);
  return false;
}

export const weightNotTensor: Rule = {
  info: {
    id: 'weight-not-tensor',
    severity: 'error',
    category: 'configuration',
    description: 'weight=/pos_weight= given as a list or number where a tensor is required.',
    example: 'criterion = nn.CrossEntropyLoss(weight=[1.0, 2.0, 0.5])',
    fix: 'Wrap the value in torch.tensor(..).',
  },
  check({ facts, report }) {
    const configured: { spec: LossSpec; options: Map<string, ArgumentFacts> }[] = [
      // Module losses refuse the value at construction, called or not.
      ...facts.lossObjects,
      ...facts.lossCalls.filter((site) => site.style === 'function'),
    ];
    const torchName = moduleName(facts, 'torch');
    for (const { spec, options } of configured) {
      if (spec.framework !== 'pytorch') continue;
      for (const name of WEIGHT_OPTIONS) {
        const argument = options.get(name);
        if (!argument?.node) continue;
        const library = factsOf(argument.value).library;
        if (library?.value === 'numpy') {
          const reported = keywordOrArgument(argument)!;
          report({
            node: reported,
            framework: spec.framework,
            message: `${name} must be a tensor, but it is a NumPy array: PyTorch raises a TypeError ("cannot assign 'ndarray' object to buffer '${name}'" or "must be Tensor, not numpy.ndarray"). Convert it with torch.tensor(.., dtype=torch.float32).`,
            related: relatedElsewhere(library.origins, reported),
            fix: torchName ? { title: `Convert ${name} to a float32 tensor`, edits: [replaceWith(argument.node, `${torchName}.tensor(${textOf(argument.node)}, dtype=${torchName}.float32)`)] } : undefined,
          });
          continue;
        }
        if (!isPlainPythonValue(argument.value)) continue;
        const value = argument.value;
        const kind = value.kind === 'number' ? 'a number' : `a Python ${value.kind}`;
        const reported = keywordOrArgument(argument)!;
        const definedAt = value.node ? relatedElsewhere([{ node: value.node, message: `${name} defined here as ${kind}` }], reported) : [];
        const wrapped = torchName && (isFloatLiteral(value) ? `${torchName}.tensor(${textOf(argument.node)})` : `${torchName}.tensor(${textOf(argument.node)}, dtype=${torchName}.float32)`);
        report({
          node: reported,
          framework: spec.framework,
          message: `${name} must be a tensor, but it is ${kind}: PyTorch raises a TypeError ("cannot assign '${value.kind === 'number' ? (value.float ? 'float' : 'int') : value.kind}' object to buffer '${name}'"). Wrap it in torch.tensor(..).`,
          related: definedAt,
          fix: wrapped ? { title: `Wrap ${name} in torch.tensor(..)`, edits: [replaceWith(argument.node, wrapped)] } : undefined,
        });
      }
    }
  },
};
