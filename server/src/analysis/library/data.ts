import { child, namedChildren, type PyNode } from '../../parse/tree';
import { factsOf, tensor, UNKNOWN, type IterableValue, type TensorFacts, type Value } from '../values';
import type { FunctionModel } from './context';

/**
 * What training loops iterate: datasets and data loaders, and what one iteration binds (`for images, labels in
 * loader`). Classification datasets of torchvision and Keras give class indices as labels, so a `.float()` on those
 * labels is known to be a cast of class indices.
 */

/** torchvision datasets whose samples are `(image, class index)`. */
const TORCHVISION_CLASSIFICATION = new Set([
  'ImageFolder', 'DatasetFolder', 'MNIST', 'FashionMNIST', 'KMNIST', 'EMNIST', 'QMNIST', 'CIFAR10', 'CIFAR100', 'SVHN', 'STL10', 'ImageNet',
  'Food101', 'Flowers102', 'OxfordIIITPet', 'StanfordCars', 'Caltech101', 'Caltech256', 'GTSRB', 'Country211', 'DTD', 'EuroSAT',
  'FGVCAircraft', 'PCAM', 'SUN397', 'USPS', 'SEMEION',
]);

/** Keras datasets whose `load_data()` gives integer class labels; CIFAR's labels are a column `[N, 1]`. */
const KERAS_CLASSIFICATION = /^keras\.datasets\.(mnist|fashion_mnist|cifar10|cifar100)\.load_data$/;

function classIndices(node: PyNode, message: string, shape?: { rank: number; lastDim?: number }): TensorFacts {
  const origins = [{ node, message }];
  const facts: TensorFacts = { encoding: { value: 'class-indices', origins }, dtype: { value: 'int', origins } };
  if (shape) facts.rank = { value: shape.rank, origins };
  if (shape?.lastDim !== undefined) facts.lastDim = { value: shape.lastDim, origins };
  return facts;
}

/** scikit-learn calls that return labels or class weights as NumPy arrays. */
const SKLEARN_CLASS_WEIGHTS = new Set(['sklearn.utils.class_weight.compute_class_weight', 'sklearn.utils.compute_class_weight']);
const SKLEARN_LABEL_ENCODING = /^sklearn\.preprocessing\.LabelEncoder\(\)\.(fit_transform|transform)$/;

/**
 * Values that data libraries are known to return: `datasets.ImageFolder(..)`, `keras.datasets.mnist.load_data()`,
 * `compute_class_weight(..)`, `LabelEncoder().fit_transform(..)`, `pd.get_dummies(df["label"])`; undefined for anything else.
 */
export function datasetOf(path: string, node: PyNode): Value | undefined {
  if (path === 'pandas.get_dummies' && isSingleColumn(node)) {
    return tensor({ encoding: { value: 'one-hot', origins: [{ node, message: 'one-hot columns from pd.get_dummies' }] }, rank: { value: 2, origins: [] } });
  }
  if (SKLEARN_CLASS_WEIGHTS.has(path)) {
    const origins = [{ node, message: 'a NumPy array from compute_class_weight' }];
    return tensor({ library: { value: 'numpy', origins }, dtype: { value: 'float', origins }, rank: { value: 1, origins } });
  }
  if (SKLEARN_LABEL_ENCODING.test(path)) {
    const facts = classIndices(node, 'class indices from LabelEncoder', { rank: 1 });
    return tensor({ ...facts, library: { value: 'numpy', origins: [{ node, message: 'a NumPy array from LabelEncoder' }] } });
  }
  const name = path.startsWith('torchvision.datasets.') ? path.slice('torchvision.datasets.'.length) : undefined;
  if (name && TORCHVISION_CLASSIFICATION.has(name)) {
    return { kind: 'iterable', element: { kind: 'tuple', items: [tensor({}), tensor(classIndices(node, `class indices from ${name}`))] } };
  }
  const keras = KERAS_CLASSIFICATION.exec(path);
  if (keras) {
    const column = keras[1].startsWith('cifar');
    const labels = () => tensor(classIndices(node, `integer class labels from ${keras[1]}.load_data()`, column ? { rank: 2, lastDim: 1 } : { rank: 1 }));
    const split = (): Value => ({ kind: 'tuple', items: [tensor({}), labels()] });
    return { kind: 'tuple', items: [split(), split()] };
  }
  return undefined;
}

/** `TensorDataset(x, y)`: each sample is one row of every tensor, so the batch axis is gone from the known shapes. */
export function tensorDataset(tensors: readonly Value[]): IterableValue {
  const items = tensors.map((value) => {
    if (value.kind !== 'tensor') return UNKNOWN;
    const facts = { ...value.facts };
    const rank = facts.rank?.value;
    delete facts.rank;
    // The last axis of a matrix survives in its rows; a vector's only axis was the batch.
    if (rank === undefined || rank === 1) delete facts.lastDim;
    return tensor(facts);
  });
  return { kind: 'iterable', element: { kind: 'tuple', items } };
}

/** `pd.get_dummies(df["label"])`, `pd.get_dummies(df.label)`: one column, so one 1 per row (a whole frame would concatenate several). */
function isSingleColumn(call: PyNode): boolean {
  const argumentList = child(call, 'arguments');
  const first = argumentList ? namedChildren(argumentList)[0] : undefined;
  if (!first) return false;
  if (first.type === 'attribute') return true;
  if (first.type !== 'subscript') return false;
  const index = first.children.filter((c) => c.field === 'subscript');
  return index.length === 1 && index[0].type === 'string';
}

/** A DataLoader over samples: each batch stacks them, so a per-sample class index becomes a `[N]` vector. */
export function loaderOver(samples: IterableValue): IterableValue {
  const element = samples.element;
  if (element.kind !== 'tuple' && element.kind !== 'list') return samples;
  const items = element.items.map((item) => {
    const facts = factsOf(item);
    // Only a scalar sample (no known axis) is known to batch into a vector.
    if (item.kind !== 'tensor' || facts.rank || facts.lastDim || facts.encoding?.value !== 'class-indices') return item;
    return tensor({ ...facts, rank: { value: 1, origins: facts.encoding.origins } });
  });
  return { kind: 'iterable', element: { kind: 'tuple', items } };
}

/** What one iteration of a `for` loop over `value` binds. */
export function iterationElement(value: Value): Value {
  return value.kind === 'iterable' ? value.element : UNKNOWN;
}

/**
 * Builtins over an iterable: `enumerate(loader)` pairs a counter with each element, `iter(loader)` iterates the same
 * elements, `next(iter(loader))` is one element (`images, labels = next(iter(loader))`). Undefined for other names.
 */
export function iterationBuiltin(name: string, value: Value): Value | undefined {
  if (name === 'enumerate') return value.kind === 'iterable' ? { kind: 'iterable', element: { kind: 'tuple', items: [UNKNOWN, value.element] } } : UNKNOWN;
  if (name === 'iter') return value.kind === 'iterable' ? value : UNKNOWN;
  if (name === 'next') return iterationElement(value);
  return undefined;
}

/** scikit-learn's `MultiLabelBinarizer`: an instance (a reference), whose `fit_transform`/`transform` give multi-hot rows. */
const MULTI_HOT_ROWS: FunctionModel = {
  call: (_ctx, _args, node) =>
    tensor({ encoding: { value: 'multi-hot', origins: [{ node, message: 'multi-hot labels from MultiLabelBinarizer' }] }, dtype: { value: 'int', origins: [{ node, message: 'integer labels' }] }, rank: { value: 2, origins: [] } }),
};

export const DATA_FUNCTIONS: ReadonlyMap<string, FunctionModel> = new Map([
  ['sklearn.preprocessing.MultiLabelBinarizer', { call: () => ({ kind: 'ref', path: 'sklearn.preprocessing.MultiLabelBinarizer()' }) }],
  ['sklearn.preprocessing.MultiLabelBinarizer().fit_transform', MULTI_HOT_ROWS],
  ['sklearn.preprocessing.MultiLabelBinarizer().transform', MULTI_HOT_ROWS],
]);
