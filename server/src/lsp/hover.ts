import { Hover, MarkupKind, Position as LspPosition } from 'vscode-languageserver/node';
import type { LossCallSite, Position, Range } from '../analysis/types';
import type { AnalysedProgram } from './codeActions';
import { uriOfLocation } from './diagnostics';

/** What a loss expects of its arguments, in words. */
interface LossContract {
  title: string;
  input: string;
  target: string;
  classAxis: string;
}

const CROSS_ENTROPY: LossContract = {
  title: 'cross-entropy (`F.cross_entropy` / `nn.CrossEntropyLoss`)',
  input: 'logits (raw scores, before any softmax), shape `[N, C]` or `[N, C, d1, ...]`; it applies `log_softmax` itself',
  target:
    'class indices: integer (`torch.long`) of shape `[N]` / `[N, d1, ...]` with values in `[0, C)` or `ignore_index`; ' +
    'or class probabilities: float, the same shape as the input',
  classAxis: 'dim 1 (dim 0 for a 1-D input)',
};

const CONTRACTS: Record<string, LossContract> = {
  cross_entropy: CROSS_ENTROPY,
  nll_loss: {
    title: 'negative log-likelihood (`F.nll_loss` / `nn.NLLLoss`)',
    input: 'log-probabilities (the output of `log_softmax`), shape `[N, C]` or `[N, C, d1, ...]`; it applies no normalisation',
    target: 'class indices: integer (`torch.long`) of shape `[N]` / `[N, d1, ...]` with values in `[0, C)` or `ignore_index`',
    classAxis: 'dim 1 (dim 0 for a 1-D input)',
  },
  binary_cross_entropy: {
    title: 'binary cross-entropy on probabilities (`F.binary_cross_entropy` / `nn.BCELoss`)',
    input: 'probabilities in `[0, 1]` (after `sigmoid`), any shape; values outside `[0, 1]` raise',
    target: 'float `0./1.` (or soft values in `[0, 1]`), the same shape as the input',
    classAxis: 'none: every element is an independent yes/no',
  },
  binary_cross_entropy_with_logits: {
    title: 'binary cross-entropy on logits (`F.binary_cross_entropy_with_logits` / `nn.BCEWithLogitsLoss`)',
    input: 'logits (raw scores, before any sigmoid), any shape; it applies `sigmoid` itself, exactly for large scores',
    target: 'float `0./1.` (or soft values in `[0, 1]`), the same shape as the input; integer targets raise',
    classAxis: 'the last dim when there are several labels (`[N, C]`); each element is an independent yes/no',
  },
};

/** Keras, TensorFlow and optax losses: keyed by the name after the `framework:` prefix. */
const FRAMEWORK_CONTRACTS: Record<string, LossContract> = {
  categorical_crossentropy: {
    title: 'Keras `categorical_crossentropy`',
    input: '`y_pred`: probabilities (softmax output) by default; logits with `from_logits=True`',
    target: '`y_true`: one-hot (or soft) float labels, shape `[N, C]`; note Keras takes `(y_true, y_pred)`',
    classAxis: 'the last axis (`axis=-1`)',
  },
  sparse_categorical_crossentropy: {
    title: 'Keras `sparse_categorical_crossentropy`',
    input: '`y_pred`: probabilities (softmax output) by default; logits with `from_logits=True`',
    target: '`y_true`: integer class indices, shape `[N]` (or `[N, 1]`)',
    classAxis: 'the last axis',
  },
  binary_crossentropy: {
    title: 'Keras `binary_crossentropy`',
    input: '`y_pred`: probabilities (sigmoid output) by default; logits with `from_logits=True`',
    target: '`y_true`: float `0./1.` labels, the same shape as `y_pred`',
    classAxis: 'none: every element is an independent yes/no (averaged over the last axis)',
  },
  softmax_cross_entropy: {
    title: '`optax.softmax_cross_entropy`',
    input: '`logits`: raw scores `[..., C]`',
    target: '`labels`: one-hot or probability vectors `[..., C]` (integer labels need `softmax_cross_entropy_with_integer_labels`)',
    classAxis: 'the last axis',
  },
  softmax_cross_entropy_with_integer_labels: {
    title: '`optax.softmax_cross_entropy_with_integer_labels`',
    input: '`logits`: raw scores `[..., C]`',
    target: '`labels`: integer class indices `[...]`',
    classAxis: 'the last axis',
  },
  sigmoid_binary_cross_entropy: {
    title: '`optax.sigmoid_binary_cross_entropy`',
    input: '`logits`: raw scores, any shape',
    target: '`labels`: float `0./1.` labels, the same shape',
    classAxis: 'none: every element is an independent yes/no',
  },
  softmax_cross_entropy_with_logits: {
    title: '`tf.nn.softmax_cross_entropy_with_logits`',
    input: '`logits`: raw scores `[..., C]`',
    target: '`labels`: one-hot or probability vectors `[..., C]`',
    classAxis: 'the last axis (`axis=-1`)',
  },
  sparse_softmax_cross_entropy_with_logits: {
    title: '`tf.nn.sparse_softmax_cross_entropy_with_logits`',
    input: '`logits`: raw scores `[..., C]`',
    target: '`labels`: integer class indices `[...]`',
    classAxis: 'the last axis',
  },
  sigmoid_cross_entropy_with_logits: {
    title: '`tf.nn.sigmoid_cross_entropy_with_logits`',
    input: '`logits`: raw scores, any shape',
    target: '`labels`: float `0./1.` labels, the same shape',
    classAxis: 'none: every element is an independent yes/no',
  },
};

function contractOf(loss: string): LossContract | undefined {
  const colon = loss.indexOf(':');
  return colon < 0 ? CONTRACTS[loss] : FRAMEWORK_CONTRACTS[loss.slice(colon + 1)];
}

const DECISION =
  '**Which loss?** Mutually exclusive classes (one label per example): cross-entropy on logits with `long` class indices. ' +
  'Independent labels (any number per example): BCE-with-logits on float multi-hot targets.';

function optionNotes(call: LossCallSite): string[] {
  const notes: string[] = [];
  const { weight, pos_weight: posWeight, reduction, ignore_index: ignoreIndex, label_smoothing: labelSmoothing } = call.options;
  const binary = call.loss.includes('binary') || call.loss.includes('sigmoid');
  if (weight !== undefined) {
    notes.push(
      binary
        ? `\`weight=${weight}\`: rescales each element's loss (broadcast against the input); \`mean\` still divides by the element count.`
        : `\`weight=${weight}\`: one value per class (length C). With \`mean\`, the loss is divided by the sum of the weights of the targets in the batch, not by N.`,
    );
  }
  if (posWeight !== undefined) {
    notes.push(
      `\`pos_weight=${posWeight}\`: multiplies the positive term of each label (one value per output, broadcast on the last dim); ` +
        'about negatives/positives of that label balances it.',
    );
  }
  if (ignoreIndex !== undefined) notes.push(`\`ignore_index=${ignoreIndex}\`: targets with this value add nothing and are not counted by \`mean\`.`);
  if (labelSmoothing !== undefined) notes.push(`\`label_smoothing=${labelSmoothing}\`: mixes the target with the uniform distribution over the C classes.`);
  const reductionNote = describeReduction(call, reduction, weight !== undefined);
  if (reductionNote) notes.push(reductionNote);
  return notes;
}

/** What the reduction does to the gradient here; data parallel training averages gradients over processes, which is where `sum` and `mean` part ways. */
function describeReduction(call: LossCallSite, written: string | undefined, weighted: boolean): string | undefined {
  if (written === undefined && call.framework !== 'pytorch') return undefined;
  const mode = written === undefined ? 'mean' : written.replace(/^['"]|['"]$/g, '');
  const shown = written === undefined ? "`reduction='mean'` (default)" : `\`reduction=${written}\``;
  if (mode === 'sum') {
    return (
      `${shown}: adds the losses of the local batch, so the gradient grows with the per-process batch size. Under distributed data parallel ` +
      'training (gradients averaged over processes) a step is batch-size times larger than with `mean`: scale the learning rate down, or use `mean`.'
    );
  }
  if (mode === 'none') {
    return `${shown}: returns one loss per element; how you reduce them sets the gradient scale (under distributed data parallel training, gradients are then averaged over processes).`;
  }
  return (
    `${shown}: averages over the local batch; under distributed data parallel training (gradients averaged over processes) the step is that of ` +
    'the global mean when every process has the same batch size, while `sum` would scale it by the per-process batch size.' +
    (weighted ? ' With `weight`, each process divides by its own sum of target weights, so the average over processes is not the global weighted mean when class mixes differ.' : '')
  );
}

function facts(label: string, expression: string | undefined, list: readonly string[]): string {
  const subject = expression ? `${label} \`${expression}\`` : label;
  return list.length > 0 ? `- ${subject}: ${list.join('; ')}` : `- ${subject}: nothing known`;
}

export function hoverMarkdown(call: LossCallSite): string {
  const contract = contractOf(call.loss);
  const lines: string[] = [];
  lines.push(`**${contract?.title ?? `\`${call.loss}\``}** (${call.framework})`, '');
  if (contract) {
    lines.push('Expects:', `- input: ${contract.input}`, `- target: ${contract.target}`, `- class axis: ${contract.classAxis}`, '');
  }
  lines.push('Here:', facts('input', call.inputExpression, call.inputFacts), facts('target', call.targetExpression, call.targetFacts), '');
  lines.push(DECISION);
  const notes = optionNotes(call);
  if (notes.length > 0) lines.push('', ...notes.map((note) => `- ${note}`));
  return lines.join('\n');
}

function contains(range: Range, position: Position): boolean {
  const afterStart = position.line > range.start.line || (position.line === range.start.line && position.character >= range.start.character);
  const beforeEnd = position.line < range.end.line || (position.line === range.end.line && position.character <= range.end.character);
  return afterStart && beforeEnd;
}

function size(range: Range): number {
  return (range.end.line - range.start.line) * 1e6 + (range.end.character - range.start.character);
}

/** The hover of the innermost loss call or constructor under the cursor. */
export function lossHover(program: AnalysedProgram, uri: string, position: LspPosition): Hover | null {
  let best: { call: LossCallSite; range: Range } | undefined;
  for (const call of program.result.lossCalls) {
    for (const location of [call.location, call.constructorLocation]) {
      if (!location || uriOfLocation(program.snapshot, location) !== uri || !contains(location.range, position)) continue;
      if (!best || size(location.range) < size(best.range)) best = { call, range: location.range };
    }
  }
  if (!best) return null;
  return { contents: { kind: MarkupKind.Markdown, value: hoverMarkdown(best.call) }, range: best.range };
}
