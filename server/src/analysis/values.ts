import type { Framework } from './types';
import type { PyNode } from '../parse/tree';
import type { ResolvedModule } from './modules';

/**
 * The value lattice. Every expression evaluates to a `Value`; tensors carry independent facts, each with the
 * places that introduced it (`origins`, for related information and fixes). A missing fact means "unknown".
 * Where control-flow paths merge, a fact survives only if every path agrees on it (`mergeValues`).
 */

/** A text replacement inside one parsed unit; turned into a `TextEdit` (with its cell) by the analysis. */
export interface NodeEdit {
  node: PyNode;
  /** Offsets inside `node.unit.text`; default to the node's own span. */
  start: number;
  end: number;
  newText: string;
}

export interface Origin {
  /** Where the fact was introduced: the softmax call, the `nn.Softmax(...)` layer, the `.float()` call, ... */
  node: PyNode;
  message: string;
  /** Edits that undo what this origin did (drop the softmax here), when the engine knows how. */
  removal?: NodeEdit[];
}

export type ScoreKind = 'probabilities' | 'log-probabilities' | 'logits';
/** The last normalisation applied: softmax-like (rows sum to one) or sigmoid-like (independent per unit). */
export type Activation = 'softmax' | 'sigmoid' | 'log_softmax' | 'log_sigmoid' | 'none';
export type TargetEncoding = 'class-indices' | 'one-hot' | 'multi-hot' | 'soft-labels';
export type DType = 'float' | 'int' | 'bool';

export interface Fact<T> {
  value: T;
  origins: Origin[];
}

export interface TensorFacts {
  /** What kind of score the tensor is, and which activation made it so. */
  score?: Fact<ScoreKind> & { activation: Activation };
  /** What kind of target the tensor is. */
  encoding?: Fact<TargetEncoding>;
  dtype?: Fact<DType>;
  /** Number of dimensions, when known. */
  rank?: Fact<number>;
  /** Size of the last dimension (classes or outputs), when known. */
  lastDim?: Fact<number>;
  /** Shape `[N, 1]` made by `unsqueeze(1)`/`view(-1, 1)`/`reshape(-1, 1)`/`[:, None]`. */
  trailingOne?: Fact<true>;
  /** Predicted labels: argmax, `max(..)[1]`, round of probabilities. */
  predictedLabels?: Fact<true>;
  /** Cut from the autograd graph: `.detach()`, `.item()`, `.numpy()`, `.tolist()`. */
  detached?: Fact<true>;
  /** `exp(x)` of something that is not a log-probability: half of a softmax written by hand (`exp(x) / exp(x).sum(..)`). */
  exponential?: Fact<true>;
  /** Kept away from 0 before a log: `p.clamp(min=eps)`, `p + 1e-10`, `torch.clamp(p, eps, 1)`. */
  guarded?: Fact<'clamp' | 'epsilon'>;
  /** `log` of probabilities (the softmax/sigmoid origins) — the ingredient of a hand-written cross-entropy. */
  logOfProbabilities?: Fact<true>;
  /**
   * A log-of-softmax/sigmoid computed where no gradient flows (`torch.no_grad()`, detached, NumPy): not reported, unless
   * an entropy `p * log(p)` turns its -inf into NaN. Not merged across paths.
   */
  logWithoutGradient?: ExpressionEvent;
  /** `target * log(p)`: a cross-entropy term; `reduced` once summed, averaged or negated. */
  crossEntropyTerm?: Fact<true> & { reduced: boolean };
  /** Which array library holds the values: a NumPy array where PyTorch wants a tensor is a bug of its own. */
  library?: Fact<'numpy' | 'torch' | 'tensorflow' | 'jax'>;
  /** The results of these loss calls flow into this tensor (for `.backward()`). */
  lossOf?: LossCallFacts[];
}

export interface TensorValue {
  kind: 'tensor';
  facts: TensorFacts;
}

export interface UnknownValue {
  kind: 'unknown';
}

/** A module, function or class reached through imports, as its canonical dotted path (`torch.nn.functional.softmax`). */
export interface RefValue {
  kind: 'ref';
  path: string;
}

export interface NumberValue {
  kind: 'number';
  value: number;
  /** Written or computed as a float (`1.0`, `a / b`). */
  float: boolean;
  node?: PyNode;
}

export interface StringValue {
  kind: 'string';
  value: string;
  node: PyNode;
}

export interface BoolValue {
  kind: 'bool';
  value: boolean;
}

export interface SequenceValue {
  kind: 'list' | 'tuple';
  items: Value[];
  node?: PyNode;
}

/** What a layer does to its input: computes the output value (a closure keeps the layer's own facts). */
export interface LayerValue {
  kind: 'layer';
  /** Canonical class path (`torch.nn.Linear`, `keras.layers.Dense`, `torch.nn.Sequential`). */
  path: string;
  node: PyNode;
  apply(input: Value, call: PyNode | undefined): Value;
  /** Keras models: the compiled loss and the fit targets attach here. */
  keras?: KerasModelState;
  /** `nn.Sequential`/Keras `Sequential`: the layers, in order (mutable for `model.add`). */
  layers?: LayerValue[];
  /** `nn.ModuleDict`: its layers by key, while every key is known (dropped by an `update` or a key not written out). */
  named?: Map<string, LayerValue>;
}

export interface KerasModelState {
  /** The symbolic output of a functional model, when built from `Model(inputs, outputs)`. */
  output?: Value;
  compiled?: LossCallFacts;
}

export interface LossValue {
  kind: 'loss';
  spec: LossSpec;
  /** The constructor call (`nn.CrossEntropyLoss(weight=w)`), or the string literal (`"categorical_crossentropy"`). */
  node: PyNode;
  /** The node naming the loss (callee of the constructor, or the string literal), for fixes that rename it. */
  nameNode: PyNode;
  options: Map<string, ArgumentFacts>;
}

export interface FunctionValue {
  kind: 'function';
  node: PyNode;
  name: string;
  closure: Scope | null;
  /** The class a method belongs to. */
  owner?: ClassValue;
  /** Set once the body was evaluated at least once (unevaluated functions are evaluated at the end). */
  evaluations: number;
  /** Decorated with `@torch.no_grad()` / `@torch.inference_mode()`, or a Lightning `validation_step`: its body records no gradient. */
  gradientOff?: boolean;
  returnSummary?: Value;
}

/**
 * A scope as layers: a branch forks a new empty layer over its parent, so forking costs nothing; merging writes the
 * merged values of the names the branches wrote back into the parent (`Evaluator.merge`).
 */
export interface Scope {
  vars: Map<string, Value>;
  parent: Scope | null;
  /** The scope of the enclosing function, for nested functions and class bodies. */
  closure: Scope | null;
}

export interface ClassValue {
  kind: 'class';
  node: PyNode;
  name: string;
  bases: Value[];
  methods: Map<string, FunctionValue>;
  classAttrs: Map<string, Value>;
  isModule: boolean;
  instantiated: boolean;
}

export interface InstanceValue {
  kind: 'instance';
  cls: ClassValue;
  attrs: Map<string, Value>;
}

export interface BoundMethodValue {
  kind: 'bound-method';
  self: Value;
  fn: FunctionValue;
}

/** What a `for` loop over a dataset or DataLoader binds at each iteration (`datasets.ts`). */
export interface IterableValue {
  kind: 'iterable';
  element: Value;
}

/**
 * One of several models, by path: `net = NetA() if c else NetB()`, or an `if`/`else` that binds a different model on
 * each branch. Calling it (or one of its methods) evaluates every option and keeps what their results agree on.
 */
export interface AlternativesValue {
  kind: 'alternatives';
  options: (InstanceValue | LayerValue)[];
}

/** A dict literal with string keys (`{"logits": z, "probs": p}`), as models and steps often return. */
export interface DictValue {
  kind: 'dict';
  entries: Map<string, Value>;
}

/**
 * A module of the project reached through an import (`modules.ts` resolved it). Its top level is evaluated once per
 * analysis, on the first read of one of its names; `globals` holds its module scope from then on.
 */
export interface ProjectModule {
  resolved: ResolvedModule;
  /** `evaluating` while its top level runs (an import cycle then sees the names bound so far); `failed`: unreadable, a syntax error or a bound hit. */
  state: 'pending' | 'evaluating' | 'done' | 'failed';
  globals?: Scope;
}

/** `import model` / `import pkg.sub as m`: attribute reads look into the module's top level, then its submodules. */
export interface ModuleValue {
  kind: 'module';
  module: ProjectModule;
}

/**
 * `from model import Net` as bound by the import, before `Net` is read: the name lookup replaces it by the module's
 * value of `Net` (evaluating the module's top level on first use), so an imported module nobody reads costs nothing.
 */
export interface ImportedNameValue {
  kind: 'imported-name';
  module: ProjectModule;
  name: string;
}

export type Value =
  | UnknownValue
  | ModuleValue
  | ImportedNameValue
  | DictValue
  | IterableValue
  | TensorValue
  | RefValue
  | NumberValue
  | StringValue
  | BoolValue
  | SequenceValue
  | LayerValue
  | LossValue
  | FunctionValue
  | ClassValue
  | InstanceValue
  | BoundMethodValue
  | AlternativesValue;

export const UNKNOWN: UnknownValue = { kind: 'unknown' };

/** What the analysis knows about one argument of a call: the expression (absent for implicit ones) and its value. */
export interface ArgumentFacts {
  node?: PyNode;
  value: Value;
}

/** The arguments of one call, evaluated: positional in order, keywords by name (with the `name=value` node). */
export interface CallArguments {
  positional: ArgumentFacts[];
  keywords: Map<string, ArgumentFacts & { keywordNode: PyNode }>;
}

/** An expression-level observation the expression rules consume. */
export interface ExpressionEvent {
  kind: 'softmax-without-dim' | 'log-of-softmax' | 'log-of-sigmoid' | 'manual-cross-entropy';
  /** The expression the finding is reported on. */
  node: PyNode;
  framework: Framework;
  origins: Origin[];
  /** A ready-made fix, when the engine knows one (`log(softmax(x))` → `log_softmax(x)`). */
  fix?: NodeEdit[];
  /** For log-of-sigmoid: `log(1 - sigmoid(x))`. */
  complement?: boolean;
  /** For log-of-softmax / log-of-sigmoid: the probabilities were clamped or offset by an epsilon first (no -inf). */
  guarded?: 'clamp' | 'epsilon';
  /** For log-of-softmax / log-of-sigmoid computed where no gradient flows: reported because `p * log(p)` makes it NaN. */
  entropy?: boolean;
  /** For softmax-without-dim: the input's rank when known (PyTorch's implicit dim depends on it). */
  inputRank?: number;
}

export type Expectation = 'logits' | 'probabilities' | 'log-probabilities';
/** What the target must be: class indices (or probabilities, for PyTorch's cross_entropy), one-hot rows, or binary per unit. */
export type TargetForm = 'indices-or-probabilities' | 'indices' | 'one-hot' | 'binary';

export interface LossSpec {
  /** Canonical name, as in `LossCallSite.loss`. */
  canonical: string;
  framework: Framework;
  /** How the loss normalises scores: softmax over classes or sigmoid per unit. */
  normalization: 'softmax' | 'sigmoid';
  /** What the input must be; `from-logits` when a Keras `from_logits` flag decides (default False). */
  expects: Expectation | 'from-logits';
  target: TargetForm;
  /** Where input and target sit at the loss call: positional index and keyword. */
  inputArg: [number, string];
  targetArg: [number, string];
  /** Keyword arguments that are options of the loss (recorded in `options`). */
  optionNames: readonly string[];
}

/** One recognised loss application, with the facts of its arguments: what the rules consume. */
export interface LossCallFacts {
  spec: LossSpec;
  /** `module` (constructed then called), `function`, `keras-compile` (input is the model's output, target from `fit`). */
  style: 'module' | 'function' | 'keras-compile';
  /** The call expression (`criterion(out, y)`, `F.cross_entropy(...)`, `model.compile(...)`). */
  call: PyNode;
  /** For module losses: the loss object (constructor, its options). For `function` style: the callee node. */
  lossObject?: LossValue;
  callee: PyNode;
  input?: ArgumentFacts;
  target?: ArgumentFacts;
  /** Options from the constructor and the call (call wins): weight, pos_weight, reduction, from_logits, ... */
  options: Map<string, ArgumentFacts>;
  /** What the input must be at this site (`from_logits` resolved); undefined when a flag's value is unknown. */
  expects?: Expectation;
  /** Where an input-side finding is reported: the input argument, or Keras's `loss=` keyword argument. */
  inputReportNode: PyNode;
  /** The Keras model, for `fit` targets and its classes. */
  model?: LayerValue;
  /** Set when the loss result reaches `.backward()`, `fit`, a gradient tape or `jax.grad`. */
  backpropagated: boolean;
}

function sameOrigins(a: Origin[], b: Origin[]): Origin[] {
  if (a === b) return a;
  const merged = [...a];
  for (const origin of b) if (!merged.some((o) => o.node === origin.node)) merged.push(origin);
  return merged;
}

function mergeFact<T, F extends Fact<T>>(a: F | undefined, b: F | undefined, extraEqual?: (x: F, y: F) => boolean): F | undefined {
  if (!a || !b) return undefined;
  if (a === b) return a;
  if (a.value !== b.value) return undefined;
  if (extraEqual && !extraEqual(a, b)) return undefined;
  return { ...a, origins: sameOrigins(a.origins, b.origins) };
}

export function mergeFacts(a: TensorFacts, b: TensorFacts): TensorFacts {
  if (a === b) return a;
  const facts: TensorFacts = {};
  // Assign only the facts both paths agree on: objects that never get undefined-valued keys stay fast.
  const score = mergeFact(a.score, b.score, (x, y) => x.activation === y.activation);
  if (score) facts.score = score;
  const encoding = mergeFact(a.encoding, b.encoding);
  if (encoding) facts.encoding = encoding;
  const dtype = mergeFact(a.dtype, b.dtype);
  if (dtype) facts.dtype = dtype;
  const rank = mergeFact(a.rank, b.rank);
  if (rank) facts.rank = rank;
  const lastDim = mergeFact(a.lastDim, b.lastDim);
  if (lastDim) facts.lastDim = lastDim;
  const trailingOne = mergeFact(a.trailingOne, b.trailingOne);
  if (trailingOne) facts.trailingOne = trailingOne;
  const predicted = mergeFact(a.predictedLabels, b.predictedLabels);
  if (predicted) facts.predictedLabels = predicted;
  const detached = mergeFact(a.detached, b.detached);
  if (detached) facts.detached = detached;
  const exponential = mergeFact(a.exponential, b.exponential);
  if (exponential) facts.exponential = exponential;
  const guarded = mergeFact(a.guarded, b.guarded);
  if (guarded) facts.guarded = guarded;
  const logOf = mergeFact(a.logOfProbabilities, b.logOfProbabilities);
  if (logOf) facts.logOfProbabilities = logOf;
  const term = mergeFact(a.crossEntropyTerm, b.crossEntropyTerm, (x, y) => x.reduced === y.reduced);
  if (term) facts.crossEntropyTerm = term;
  const library = mergeFact(a.library, b.library);
  if (library) facts.library = library;
  if (a.lossOf || b.lossOf) facts.lossOf = a.lossOf && b.lossOf && a.lossOf === b.lossOf ? a.lossOf : [...new Set([...(a.lossOf ?? []), ...(b.lossOf ?? [])])];
  return facts;
}

/** The value that holds on both paths: equal values stay, tensors keep the facts both agree on, the rest is unknown. */
export function mergeValues(a: Value, b: Value): Value {
  if (a === b) return a;
  if (a.kind === 'tensor' && b.kind === 'tensor') return { kind: 'tensor', facts: mergeFacts(a.facts, b.facts) };
  if (a.kind === 'ref' && b.kind === 'ref' && a.path === b.path) return a;
  if (a.kind === 'number' && b.kind === 'number' && a.value === b.value) return a;
  if (a.kind === 'string' && b.kind === 'string' && a.value === b.value) return a;
  if (a.kind === 'loss' && b.kind === 'loss' && a.node === b.node) return a;
  if ((a.kind === 'function' || a.kind === 'class' || a.kind === 'layer') && (b.kind === a.kind) && a.node === (b as typeof a).node) return a;
  if (a.kind === 'instance' && b.kind === 'instance' && a.cls === b.cls) return a;
  if (a.kind === 'module' && b.kind === 'module' && a.module === b.module) return a;
  const models = modelOptions(a, b);
  if (models) return models;
  // A tensor whose facts are all unknown still says "tensor"; unknown otherwise.
  return UNKNOWN;
}

/** Alternatives are kept small: a merge of more distinct models than this is unknown. */
const MAX_MODEL_OPTIONS = 4;

function optionsOf(value: Value): (InstanceValue | LayerValue)[] | undefined {
  if (value.kind === 'instance' || value.kind === 'layer') return [value];
  return value.kind === 'alternatives' ? value.options : undefined;
}

/** Two distinct models (program module instances, layers, or alternatives of them) merge into their alternatives. */
function modelOptions(a: Value, b: Value): AlternativesValue | undefined {
  const left = optionsOf(a);
  const right = optionsOf(b);
  if (!left || !right) return undefined;
  const options = [...left];
  for (const option of right) {
    if (!options.some((o) => o === option || (o.kind === 'instance' && option.kind === 'instance' && o.cls === option.cls) || (o.kind === 'layer' && option.kind === 'layer' && o.node === option.node))) options.push(option);
  }
  if (options.length > MAX_MODEL_OPTIONS) return undefined;
  // Nothing new: the same value, so that a loop whose body keeps the alternatives reaches a fixed point.
  if (a.kind === 'alternatives' && options.length === left.length) return a;
  return { kind: 'alternatives', options };
}

export function tensor(facts: TensorFacts = {}): TensorValue {
  return { kind: 'tensor', facts };
}

export function factsOf(value: Value): TensorFacts {
  return value.kind === 'tensor' ? value.facts : {};
}

/** Words for the hover and the panel: what is known about a value. */
export function describeFacts(value: Value): string[] {
  const facts = factsOf(value);
  const words: string[] = [];
  if (facts.score) words.push(facts.score.activation === 'none' ? facts.score.value : `${facts.score.value} (${facts.score.activation})`);
  if (facts.encoding) words.push(facts.encoding.value);
  if (facts.dtype) words.push(`dtype ${facts.dtype.value}`);
  if (facts.trailingOne) words.push('shape [N, 1]');
  else if (facts.lastDim) words.push(`last dimension ${facts.lastDim.value}`);
  if (facts.predictedLabels) words.push('predicted labels (no gradient)');
  if (facts.detached) words.push('detached from the graph');
  return words;
}
