import type { ArgumentFacts, Expectation, LossSpec } from './values';

/** Every loss spelling the engine recognises, by canonical dotted path (after import aliases are normalised). */

const TORCH_CE_OPTIONS = ['weight', 'ignore_index', 'reduction', 'label_smoothing'] as const;
const TORCH_BCE_OPTIONS = ['weight', 'reduction', 'pos_weight'] as const;
const KERAS_OPTIONS = ['from_logits', 'label_smoothing', 'reduction', 'axis'] as const;

const torch = (canonical: string, expects: LossSpec['expects'], normalization: LossSpec['normalization'], target: LossSpec['target'], optionNames: readonly string[]): LossSpec => ({
  canonical,
  framework: 'pytorch',
  normalization,
  expects,
  target,
  inputArg: [0, 'input'],
  targetArg: [1, 'target'],
  optionNames,
});

const CROSS_ENTROPY = torch('cross_entropy', 'logits', 'softmax', 'indices-or-probabilities', TORCH_CE_OPTIONS);
const NLL = torch('nll_loss', 'log-probabilities', 'softmax', 'indices', ['weight', 'ignore_index', 'reduction']);
const BCE = torch('binary_cross_entropy', 'probabilities', 'sigmoid', 'binary', ['weight', 'reduction']);
const BCE_LOGITS = torch('binary_cross_entropy_with_logits', 'logits', 'sigmoid', 'binary', TORCH_BCE_OPTIONS);

const keras = (name: string, normalization: LossSpec['normalization'], target: LossSpec['target']): LossSpec => ({
  canonical: `keras:${name}`,
  framework: 'keras',
  normalization,
  expects: 'from-logits',
  target,
  // Keras losses take (y_true, y_pred).
  inputArg: [1, 'y_pred'],
  targetArg: [0, 'y_true'],
  optionNames: KERAS_OPTIONS,
});

const KERAS_CATEGORICAL = keras('categorical_crossentropy', 'softmax', 'one-hot');
const KERAS_SPARSE = keras('sparse_categorical_crossentropy', 'softmax', 'indices');
const KERAS_BINARY = keras('binary_crossentropy', 'sigmoid', 'binary');
const KERAS_BINARY_FOCAL = keras('binary_focal_crossentropy', 'sigmoid', 'binary');
const KERAS_CATEGORICAL_FOCAL = keras('categorical_focal_crossentropy', 'softmax', 'one-hot');

const tf = (name: string, normalization: LossSpec['normalization'], target: LossSpec['target']): LossSpec => ({
  canonical: `tf:${name}`,
  framework: 'tensorflow',
  normalization,
  expects: 'logits',
  target,
  inputArg: [99, 'logits'],
  targetArg: [99, 'labels'],
  optionNames: ['axis'],
});

/**
 * TensorFlow 1's `tf.losses` (`tf.compat.v1.losses`, normalised to `tensorflow.losses`): labels first, then logits,
 * both also by keyword (`softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, ...)`). In
 * TensorFlow 2 `tf.losses` is Keras's, which has none of these names (its Keras names: `kerasUnderTensorFlow2`).
 */
const tf1 = (name: string, normalization: LossSpec['normalization'], target: LossSpec['target'], labels: string): LossSpec => ({
  canonical: `tf:${name}`,
  framework: 'tensorflow',
  normalization,
  expects: 'logits',
  target,
  inputArg: [1, 'logits'],
  targetArg: [0, labels],
  optionNames: ['weights', 'label_smoothing', 'reduction'],
});

const optax = (name: string, normalization: LossSpec['normalization'], target: LossSpec['target']): LossSpec => ({
  canonical: `optax:${name}`,
  framework: 'jax',
  normalization,
  expects: 'logits',
  target,
  inputArg: [0, 'logits'],
  targetArg: [1, 'labels'],
  optionNames: ['axis', 'where'],
});

/** Module losses: constructed (options at construction), then called on (input, target). */
export const LOSS_CLASSES: ReadonlyMap<string, LossSpec> = new Map([
  ['torch.nn.CrossEntropyLoss', CROSS_ENTROPY],
  ['torch.nn.NLLLoss', NLL],
  ['torch.nn.BCELoss', BCE],
  ['torch.nn.BCEWithLogitsLoss', BCE_LOGITS],
  ['keras.losses.CategoricalCrossentropy', KERAS_CATEGORICAL],
  ['keras.losses.SparseCategoricalCrossentropy', KERAS_SPARSE],
  ['keras.losses.BinaryCrossentropy', KERAS_BINARY],
  ['keras.losses.BinaryFocalCrossentropy', KERAS_BINARY_FOCAL],
  ['keras.losses.CategoricalFocalCrossentropy', KERAS_CATEGORICAL_FOCAL],
]);

/** Functional losses: called once with (input, target, options). */
export const LOSS_FUNCTIONS: ReadonlyMap<string, LossSpec> = new Map([
  ['torch.nn.functional.cross_entropy', CROSS_ENTROPY],
  ['torch.nn.functional.nll_loss', NLL],
  ['torch.nn.functional.binary_cross_entropy', BCE],
  ['torch.nn.functional.binary_cross_entropy_with_logits', BCE_LOGITS],
  ['keras.losses.categorical_crossentropy', KERAS_CATEGORICAL],
  ['keras.losses.sparse_categorical_crossentropy', KERAS_SPARSE],
  ['keras.losses.binary_crossentropy', KERAS_BINARY],
  ['keras.metrics.categorical_crossentropy', KERAS_CATEGORICAL],
  ['keras.metrics.sparse_categorical_crossentropy', KERAS_SPARSE],
  ['keras.metrics.binary_crossentropy', KERAS_BINARY],
  ['keras.backend.categorical_crossentropy', KERAS_CATEGORICAL],
  ['keras.backend.sparse_categorical_crossentropy', KERAS_SPARSE],
  ['keras.backend.binary_crossentropy', KERAS_BINARY],
  ['tensorflow.nn.softmax_cross_entropy_with_logits', tf('softmax_cross_entropy_with_logits', 'softmax', 'one-hot')],
  ['tensorflow.nn.softmax_cross_entropy_with_logits_v2', tf('softmax_cross_entropy_with_logits', 'softmax', 'one-hot')],
  ['tensorflow.nn.sparse_softmax_cross_entropy_with_logits', tf('sparse_softmax_cross_entropy_with_logits', 'softmax', 'indices')],
  ['tensorflow.nn.sigmoid_cross_entropy_with_logits', tf('sigmoid_cross_entropy_with_logits', 'sigmoid', 'binary')],
  ['tensorflow.losses.softmax_cross_entropy', tf1('softmax_cross_entropy', 'softmax', 'one-hot', 'onehot_labels')],
  ['tensorflow.losses.sparse_softmax_cross_entropy', tf1('sparse_softmax_cross_entropy', 'softmax', 'indices', 'labels')],
  ['tensorflow.losses.sigmoid_cross_entropy', tf1('sigmoid_cross_entropy', 'sigmoid', 'binary', 'multi_class_labels')],
  ['optax.softmax_cross_entropy', optax('softmax_cross_entropy', 'softmax', 'one-hot')],
  ['optax.losses.softmax_cross_entropy', optax('softmax_cross_entropy', 'softmax', 'one-hot')],
  ['optax.softmax_cross_entropy_with_integer_labels', optax('softmax_cross_entropy_with_integer_labels', 'softmax', 'indices')],
  ['optax.losses.softmax_cross_entropy_with_integer_labels', optax('softmax_cross_entropy_with_integer_labels', 'softmax', 'indices')],
  ['optax.sigmoid_binary_cross_entropy', optax('sigmoid_binary_cross_entropy', 'sigmoid', 'binary')],
  ['optax.losses.sigmoid_binary_cross_entropy', optax('sigmoid_binary_cross_entropy', 'sigmoid', 'binary')],
]);

/** Keras string losses (`model.compile(loss="...")`), always `from_logits=False`. */
export const KERAS_STRING_LOSSES: ReadonlyMap<string, LossSpec> = new Map([
  ['categorical_crossentropy', KERAS_CATEGORICAL],
  ['sparse_categorical_crossentropy', KERAS_SPARSE],
  ['binary_crossentropy', KERAS_BINARY],
  ['binary_focal_crossentropy', KERAS_BINARY_FOCAL],
  ['categorical_focal_crossentropy', KERAS_CATEGORICAL_FOCAL],
]);

/** What the input must be at a call, `from_logits` resolved; undefined when the flag's value is unknown. */
export function expectationOf(spec: LossSpec, options: Map<string, ArgumentFacts>): Expectation | undefined {
  if (spec.expects !== 'from-logits') return spec.expects;
  const flag = options.get('from_logits');
  if (!flag) return 'probabilities';
  if (flag.value.kind === 'bool') return flag.value.value ? 'logits' : 'probabilities';
  return undefined;
}

/** Import paths that name the same thing: normalised so the tables above need one spelling. */
const PATH_ALIASES: [string, string][] = [
  ['tensorflow.keras', 'keras'],
  ['tensorflow.python.keras', 'keras'],
  ['tf_keras', 'keras'],
  ['keras.src', 'keras'],
  ['keras.api', 'keras'],
  ['torch.nn.modules.loss', 'torch.nn'],
  ['torch.nn.modules.activation', 'torch.nn'],
  ['torch.nn.modules.linear', 'torch.nn'],
  ['torch.nn.modules.container', 'torch.nn'],
  ['torch.nn.modules', 'torch.nn'],
  ['keras.layers.core', 'keras.layers'],
  ['keras.engine.sequential', 'keras.models'],
  ['keras.engine.training', 'keras.models'],
  ['tensorflow.compat.v1', 'tensorflow'],
  ['tensorflow.compat.v2', 'tensorflow'],
  ['keras.utils.np_utils', 'keras.utils'],
];

const ALIAS_ROOTS = new Set(PATH_ALIASES.map(([prefix]) => prefix.split('.')[0]));

/**
 * TensorFlow 2's `tf.losses` and `tf.metrics` are `tf.keras.losses` and `tf.keras.metrics`, while TensorFlow 1's
 * (`tf.compat.v1.losses`, normalised to `tensorflow.losses` above) hold other functions (`softmax_cross_entropy`,
 * `sparse_softmax_cross_entropy`, ...). No Keras loss name (`CategoricalCrossentropy`, `categorical_crossentropy`, ...)
 * is one of TF1's, so exactly the Keras names the tables know are read as Keras's under these two modules.
 */
const TF2_KERAS_MODULES: ReadonlyMap<string, { keras: string; names: ReadonlySet<string> }> = new Map(
  ['losses', 'metrics'].map((module) => {
    const keras = `keras.${module}.`;
    const names = [...LOSS_CLASSES.keys(), ...LOSS_FUNCTIONS.keys()].filter((path) => path.startsWith(keras)).map((path) => path.slice(keras.length));
    return [`tensorflow.${module}.`, { keras, names: new Set(names) }];
  }),
);

/** `tensorflow.losses.CategoricalCrossentropy` → `keras.losses.CategoricalCrossentropy`; TF1's names unchanged. */
function kerasUnderTensorFlow2(path: string): string {
  const second = path.indexOf('.', 'tensorflow.'.length);
  const module = second < 0 ? undefined : TF2_KERAS_MODULES.get(path.slice(0, second + 1));
  return module?.names.has(path.slice(second + 1)) ? module.keras + path.slice(second + 1) : path;
}

const normalized = new Map<string, string>();

export function normalizePath(path: string): string {
  const dot = path.indexOf('.');
  if (!ALIAS_ROOTS.has(dot < 0 ? path : path.slice(0, dot))) return path;
  let result = normalized.get(path);
  if (result !== undefined) return result;
  result = path;
  for (const [prefix, replacement] of PATH_ALIASES) {
    if (path === prefix || path.startsWith(prefix + '.')) {
      result = replacement + path.slice(prefix.length);
      break;
    }
  }
  if (result.startsWith('tensorflow.')) result = kerasUnderTensorFlow2(result);
  // Paths come from source text: bound the cache so a huge generated file cannot grow it without limit.
  if (normalized.size < 10_000) normalized.set(path, result);
  return result;
}
