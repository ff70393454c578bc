import type { ProgramFacts } from '../analysis/evaluate';
import type { ArgumentFacts, Fact, NodeEdit, Origin } from '../analysis/values';
import { child, namedChildren, textOf, type PyNode } from '../parse/tree';

/**
 * Helpers for the target and configuration rules: where a finding about one argument goes, which origins are worth a
 * related location, and the small edits their fixes make at an argument (append `.float()`, rename a cast, wrap in
 * `torch.tensor(..)`).
 */

/** Node types that can take a method call or attribute directly (`y.float()`); anything else needs parentheses. */
const PRIMARY_EXPRESSIONS = new Set(['identifier', 'attribute', 'call', 'subscript', 'parenthesized_expression', 'list', 'tuple']);

export function unparenthesize(node: PyNode): PyNode {
  while (node.type === 'parenthesized_expression' && namedChildren(node).length === 1) node = namedChildren(node)[0];
  return node;
}

/** Appends `suffix` (`.float()`) to an expression, parenthesising it when the suffix would bind to a part of it. */
export function appendTo(node: PyNode, suffix: string): NodeEdit {
  if (PRIMARY_EXPRESSIONS.has(node.type)) return { node, start: node.end, end: node.end, newText: suffix };
  return { node, start: node.start, end: node.end, newText: `(${textOf(node)})${suffix}` };
}

export function replaceWith(node: PyNode, newText: string): NodeEdit {
  return { node, start: node.start, end: node.end, newText };
}

/** The `name=value` node around an argument given by keyword, else the argument itself: where a configuration finding goes. */
export function keywordOrArgument(argument: ArgumentFacts): PyNode | undefined {
  const node = argument.node;
  if (!node) return undefined;
  return node.parent?.type === 'keyword_argument' ? node.parent : node;
}

function contains(outer: PyNode, inner: PyNode): boolean {
  return outer.unit === inner.unit && outer.start <= inner.start && inner.end <= outer.end;
}

/** Origins that point somewhere else than the reported expression: an origin inside it would only repeat the finding's own range. */
export function relatedElsewhere(origins: readonly Origin[], reported: PyNode): Origin[] {
  return origins.filter((o) => !contains(reported, o.node));
}

/** `receiver.method(args)` → the receiver and method name; undefined for other expressions. */
export function methodCall(node: PyNode): { receiver: PyNode; method: string; nameNode: PyNode; args: PyNode[] } | undefined {
  const inner = unparenthesize(node);
  if (inner.type !== 'call') return undefined;
  const callee = child(inner, 'function');
  if (!callee || callee.type !== 'attribute') return undefined;
  const receiver = child(callee, 'object');
  const nameNode = child(callee, 'attribute');
  const argumentList = child(inner, 'arguments');
  if (!receiver || !nameNode) return undefined;
  return { receiver, method: textOf(nameNode), nameNode, args: argumentList ? namedChildren(argumentList) : [] };
}

/** The positional arguments of a call, in order (keyword arguments left out). */
export function positionalArguments(call: PyNode): PyNode[] {
  const argumentList = child(call, 'arguments');
  return argumentList ? namedChildren(argumentList).filter((a) => a.type !== 'keyword_argument') : [];
}

/** The value node of keyword `name=` of a call. */
export function keywordArgument(call: PyNode, name: string): PyNode | undefined {
  const argumentList = child(call, 'arguments');
  for (const argument of argumentList ? namedChildren(argumentList) : []) {
    if (argument.type !== 'keyword_argument') continue;
    const nameNode = child(argument, 'name');
    if (nameNode && textOf(nameNode) === name) return child(argument, 'value');
  }
  return undefined;
}

/** The name this program binds to a module at module level (`torch`, or `T` after `import torch as T`). */
export function moduleName(facts: ProgramFacts, path: string): string | undefined {
  for (const [name, value] of facts.moduleScope) if (value.kind === 'ref' && value.path === path) return name;
  return undefined;
}

/** The last name of a dotted callee or of a bare name (`nn.CrossEntropyLoss` → `CrossEntropyLoss`). */
export function calleeName(callee: PyNode): PyNode | undefined {
  if (callee.type === 'attribute') return child(callee, 'attribute');
  return callee.type === 'identifier' ? callee : undefined;
}

/** Constructors of uniform vectors whose length is their (last) size argument: `torch.ones(8)`, `torch.full((8,), 2.0)`. */
const UNIFORM_CONSTRUCTORS = /(^|\.)(ones|full)$/;

/**
 * Resizes a uniform weight vector to `length` where its size is written as an integer literal (`torch.ones(8)` →
 * `torch.ones(10)`): every value is the same, so the resized vector means what the original meant. Undefined for
 * weights with distinct values, whose missing entries cannot be guessed.
 */
export function resizeUniformVector(size: Fact<number>, length: number): NodeEdit | undefined {
  if (size.origins.length !== 1) return undefined;
  const call = size.origins[0].node;
  const callee = call.type === 'call' ? child(call, 'function') : undefined;
  if (!callee || !UNIFORM_CONSTRUCTORS.test(textOf(callee))) return undefined;
  const first = positionalArguments(call)[0];
  if (!first) return undefined;
  const sizeNode = first.type === 'tuple' ? namedChildren(first).at(-1) : first;
  if (!sizeNode || sizeNode.type !== 'integer' || (first.type === 'tuple' && namedChildren(first).length !== 1)) return undefined;
  return replaceWith(sizeNode, String(length));
}
