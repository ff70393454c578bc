import { factsOf, type LossCallFacts, type NodeEdit, type Origin, type TensorFacts } from '../analysis/values';
import { child, namedChildren, textOf, type ParsedText, type PyNode } from '../parse/tree';

/** Shared helpers for rules: naming the loss in messages and building common fixes from facts. */

/** The loss as the user spelled it: `nn.CrossEntropyLoss`, `F.cross_entropy`, `"categorical_crossentropy"`. */
export function lossLabel(site: LossCallFacts): string {
  if (site.lossObject) return textOf(site.lossObject.nameNode);
  return textOf(site.callee);
}

export function inputFacts(site: LossCallFacts): TensorFacts {
  return site.input ? factsOf(site.input.value) : {};
}

export function targetFacts(site: LossCallFacts): TensorFacts {
  return site.target ? factsOf(site.target.value) : {};
}

/**
 * The edits that undo every origin (drop each softmax), or undefined when one of them cannot be undone, or when undoing
 * it would change other code: an activation bound to a variable (`probabilities = torch.sigmoid(model(x))`) that is
 * also read elsewhere than in the loss input (a `probabilities > 0.5` accuracy check) must stay where it is.
 */
export function removalEdits(origins: readonly Origin[], lossInput: PyNode, units: readonly ParsedText[]): NodeEdit[] | undefined {
  if (origins.length === 0 || origins.some((o) => !o.removal)) return undefined;
  if (origins.some((o) => boundVariableHasOtherReaders(o.node, lossInput, units))) return undefined;
  return origins.flatMap((o) => o.removal!);
}

/**
 * True when `name = <activation>` binds a name that is read in its scope (the enclosing function, or the whole program
 * at module level) other than in the loss input or by a `return name` that carries it to the loss.
 * Tree nodes, not text: comments and strings that mention the name do not count.
 */
function boundVariableHasOtherReaders(activation: PyNode, lossInput: PyNode, units: readonly ParsedText[]): boolean {
  const assignment = activation.parent;
  if (assignment?.type !== 'assignment' || child(assignment, 'right') !== activation) return false;
  const target = child(assignment, 'left');
  if (target?.type !== 'identifier') return false;
  const name = textOf(target);
  let scope: PyNode | null = assignment;
  while (scope && scope.type !== 'function_definition') scope = scope.parent;
  const pending = scope ? [scope] : units.map((unit) => unit.root);
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (node === lossInput || node === target) continue;
    if (node.type === 'identifier') {
      // Not reads: member and keyword names, plain rebindings (`out = ...` on another branch), `return name`.
      const isMemberOrKeyword = node.field === 'attribute' || node.field === 'name';
      const isRebinding = node.field === 'left' && node.parent?.type === 'assignment';
      if (!isMemberOrKeyword && !isRebinding && node.parent?.type !== 'return_statement' && textOf(node) === name) return true;
      continue;
    }
    pending.push(...node.children);
  }
  return false;
}

/** Replaces the last name of a callee (`nn.BCELoss` → `nn.BCEWithLogitsLoss`, `F.nll_loss` → `F.cross_entropy`). */
export function renameCallee(callee: import('../parse/tree').PyNode, from: RegExp, to: string): NodeEdit | undefined {
  const nameNode = callee.type === 'attribute' ? child(callee, 'attribute') : callee.type === 'identifier' ? callee : undefined;
  if (!nameNode || !from.test(textOf(nameNode))) return undefined;
  // An imported bare name (`from torch.nn import BCELoss`) would need a new import: only dotted spellings are renamed.
  if (callee.type === 'identifier') return undefined;
  return { node: nameNode, start: nameNode.start, end: nameNode.end, newText: textOf(nameNode).replace(from, to) };
}

/** Renames an activation where it was applied: `F.softmax(..)` → `F.log_softmax(..)`, `x.softmax(1)`, `nn.Softmax(..)` → `nn.LogSoftmax(..)`. */
export function renameActivationEdit(origin: Origin): NodeEdit | undefined {
  const node = origin.node;
  if (node.type !== 'call') return undefined;
  const callee = child(node, 'function');
  if (!callee) return undefined;
  const nameNode = callee.type === 'attribute' ? child(callee, 'attribute') : callee;
  if (!nameNode) return undefined;
  const name = textOf(nameNode);
  if (name === 'softmax') return { node: nameNode, start: nameNode.start, end: nameNode.end, newText: 'log_softmax' };
  if (name === 'Softmax' && callee.type === 'attribute') return { node: nameNode, start: nameNode.start, end: nameNode.end, newText: 'LogSoftmax' };
  return undefined;
}

/** True when every application of this loss object receives an input satisfying `test` (a rename would change them all). */
export function everyUseOfLossObject(all: readonly LossCallFacts[], site: LossCallFacts, test: (site: LossCallFacts) => boolean): boolean {
  if (!site.lossObject) return test(site);
  return all.filter((other) => other.lossObject?.node === site.lossObject!.node).every(test);
}

/** Keras: turns a loss into its `from_logits=True` form, spelled with the names the program bound. */
export function kerasFromLogitsEdit(site: LossCallFacts, kerasSpelling: string | undefined): NodeEdit | undefined {
  const loss = site.lossObject;
  const className: Record<string, string> = {
    'keras:categorical_crossentropy': 'CategoricalCrossentropy',
    'keras:sparse_categorical_crossentropy': 'SparseCategoricalCrossentropy',
    'keras:binary_crossentropy': 'BinaryCrossentropy',
    'keras:binary_focal_crossentropy': 'BinaryFocalCrossentropy',
    'keras:categorical_focal_crossentropy': 'CategoricalFocalCrossentropy',
  };
  const flag = site.options.get('from_logits');
  if (flag?.node) return { node: flag.node, start: flag.node.start, end: flag.node.end, newText: 'True' };
  const target = loss && loss.node.type === 'call' ? loss.node : site.style === 'function' ? site.call : undefined;
  if (target) return appendKeywordEdit(target, 'from_logits=True');
  // A string or function name given to compile: replace it with the loss class.
  const name = className[site.spec.canonical];
  if (!loss || !name || !kerasSpelling) return undefined;
  return { node: loss.node, start: loss.node.start, end: loss.node.end, newText: `${kerasSpelling}.losses.${name}(from_logits=True)` };
}

/** Appends `keyword=value` to a call's arguments (read from the text: the tree keeps no punctuation tokens). */
export function appendKeywordEdit(call: import('../parse/tree').PyNode, keyword: string): NodeEdit | undefined {
  const args = child(call, 'arguments');
  if (!args || args.type !== 'argument_list') return undefined;
  const text = args.unit.text;
  const closing = args.end - 1;
  if (text[closing] !== ')') return undefined;
  let before = closing - 1;
  while (before > args.start && /\s/.test(text[before])) before--;
  const hasTrailingComma = text[before] === ',';
  const separator = namedChildren(args).length === 0 ? '' : hasTrailingComma ? ' ' : ', ';
  return { node: args, start: closing, end: closing, newText: `${separator}${keyword}` };
}

/** How to spell Keras with the names bound at module level: `keras`, `tf.keras`. */
export function kerasSpelling(moduleScope: ReadonlyMap<string, import('../analysis/values').Value>): string | undefined {
  for (const [name, value] of moduleScope) if (value.kind === 'ref' && value.path === 'keras') return name;
  for (const [name, value] of moduleScope) if (value.kind === 'ref' && value.path === 'tensorflow') return `${name}.keras`;
  return undefined;
}
