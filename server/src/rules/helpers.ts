import { factsOf, type LossCallFacts, type NodeEdit, type Origin, type TensorFacts } from '../analysis/values';
import { child, textOf } from '../parse/tree';

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

/** The edits that undo every origin (drop each softmax), or undefined when one of them cannot be undone. */
export function removalEdits(origins: readonly Origin[]): NodeEdit[] | undefined {
  if (origins.length === 0 || origins.some((o) => !o.removal)) return undefined;
  return origins.flatMap((o) => o.removal!);
}

/** Replaces the last name of a callee (`nn.BCELoss` → `nn.BCEWithLogitsLoss`, `F.nll_loss` → `F.cross_entropy`). */
export function renameCallee(callee: import('../parse/tree').PyNode, from: RegExp, to: string): NodeEdit | undefined {
  const nameNode = callee.type === 'attribute' ? child(callee, 'attribute') : callee.type === 'identifier' ? callee : undefined;
  if (!nameNode || !from.test(textOf(nameNode))) return undefined;
  // An imported bare name (`from torch.nn import BCELoss`) would need a new import: only dotted spellings are renamed.
  if (callee.type === 'identifier') return undefined;
  return { node: nameNode, start: nameNode.start, end: nameNode.end, newText: textOf(nameNode).replace(from, to) };
}
