import { child, namedChildren, textOf, type PyNode } from '../../parse/tree';
import type { Framework } from '../types';
import { factsOf, tensor, UNKNOWN, type Activation, type CallArguments, type DType, type NodeEdit, type Origin, type ScoreKind, type TensorFacts, type Value } from '../values';

/** Building blocks shared by the library models: origins, the edits that undo them, and common fact shapes. */

export function origin(node: PyNode, message: string, removal?: NodeEdit[]): Origin {
  return removal ? { node, message, removal } : { node, message };
}

export function replaceNode(node: PyNode, newText: string): NodeEdit {
  return { node, start: node.start, end: node.end, newText };
}

/** Deletes one element of an argument list or list literal together with the comma that separates it. */
export function deleteListElement(element: PyNode): NodeEdit {
  const container = element.parent!;
  const elements = namedChildren(container);
  const index = elements.indexOf(element);
  if (elements.length === 1) return { node: element, start: element.start, end: element.end, newText: '' };
  if (index > 0) return { node: element, start: elements[index - 1].end, end: element.end, newText: '' };
  return { node: element, start: element.start, end: elements[1].start, newText: '' };
}

/** Deletes a whole statement line (`model.add(Softmax())`). */
export function deleteStatementLine(statement: PyNode): NodeEdit {
  const text = statement.unit.text;
  const lineStart = text.lastIndexOf('\n', statement.start - 1) + 1;
  const newline = text.indexOf('\n', statement.end);
  return { node: statement, start: lineStart, end: newline < 0 ? text.length : newline + 1, newText: '' };
}

/** The loss calls that flow into any of `values` flow into the result too. */
export function withLossOf(facts: TensorFacts, ...values: Value[]): TensorFacts {
  const losses = values.flatMap((v) => factsOf(v).lossOf ?? []);
  if (losses.length > 0) facts.lossOf = [...new Set(losses)];
  return facts;
}

/** An activation's output: the score, with the shape of its input kept. */
export function scoreFacts(kind: ScoreKind, activation: Activation, origins: Origin[], base: TensorFacts = {}): TensorFacts {
  const facts: TensorFacts = { score: { value: kind, activation, origins } };
  if (base.lastDim) facts.lastDim = base.lastDim;
  if (base.rank) facts.rank = base.rank;
  if (base.lossOf) facts.lossOf = base.lossOf;
  return facts;
}

export function frameworkOfPath(path: string): Framework {
  if (path.startsWith('torch')) return 'pytorch';
  if (path.startsWith('keras')) return 'keras';
  if (path.startsWith('jax') || path.startsWith('optax')) return 'jax';
  return 'tensorflow';
}

/** The first component of a dotted path (`torch` of `torch.nn.functional.softmax`). */
export function rootOf(path: string): string {
  const dot = path.indexOf('.');
  return dot < 0 ? path : path.slice(0, dot);
}

export function unparenthesize(node: PyNode): PyNode {
  while (node.type === 'parenthesized_expression' && namedChildren(node).length === 1) node = namedChildren(node)[0];
  return node;
}

/** `1 - p`. */
export function isComplement(node: PyNode): boolean {
  const inner = unparenthesize(node);
  if (inner.type !== 'binary_operator') return false;
  const left = child(inner, 'left');
  const operator = child(inner, 'operator');
  return !!left && !!operator && textOf(operator) === '-' && /^1(\.0*)?$/.test(textOf(left));
}

const FLOAT_DTYPES = /(^|\.)(float|float16|float32|float64|half|double|bfloat16|FloatTensor|DoubleTensor|HalfTensor)$|^['"]float(16|32|64)?['"]$/;
const INT_DTYPES = /(^|\.)(long|int|int8|int16|int32|int64|uint8|LongTensor|IntTensor)$|^['"]u?int(8|16|32|64)?['"]$/;

/** The dtype a spelling names: `torch.float32`, `np.int64`, `"float32"`, `torch.LongTensor`, `bool`. */
export function dtypeOfText(text: string): DType | undefined {
  const compact = text.replace(/\s+/g, '');
  if (FLOAT_DTYPES.test(compact)) return 'float';
  if (INT_DTYPES.test(compact)) return 'int';
  if (/(^|\.)bool$/.test(compact)) return 'bool';
  return undefined;
}

/** `dtype=torch.float32` given to a constructor. */
export function explicitDtypeFact(args: CallArguments): TensorFacts['dtype'] {
  const argument = args.keywords.get('dtype');
  const dtype = argument?.node ? dtypeOfText(textOf(argument.node)) : undefined;
  return dtype ? { value: dtype, origins: [origin(argument!.keywordNode, `dtype=${textOf(argument!.node!)}`)] } : undefined;
}

export function predictedLabels(node: PyNode, message: string, dtype: DType): Value {
  return tensor({
    predictedLabels: { value: true, origins: [origin(node, message)] },
    encoding: dtype === 'int' ? { value: 'class-indices', origins: [origin(node, message)] } : undefined,
    dtype: { value: dtype, origins: [origin(node, message)] },
  });
}

/** A sum or mean: a cross-entropy term becomes a reduced one; anything else keeps only its library and losses. */
export function reduce(value: Value): Value {
  const facts = factsOf(value);
  if (facts.crossEntropyTerm) return tensor({ crossEntropyTerm: { ...facts.crossEntropyTerm, reduced: true }, lossOf: facts.lossOf });
  // A reduction of a NumPy array (`counts.sum()`) is still NumPy.
  return value.kind === 'tensor' ? tensor(withLossOf(facts.library ? { library: facts.library } : {}, value)) : UNKNOWN;
}
