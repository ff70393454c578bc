import { appendKeywordEdit } from './helpers';
import type { Rule } from './rule';

/** PyTorch's `_get_softmax_dim`: the axis an implicit-dim softmax normalises over, by the input's rank. */
function implicitDim(rank: number): number {
  return rank === 0 || rank === 1 || rank === 3 ? 0 : 1;
}

/** What the implicit axis is for the usual layout of an input of this rank. */
function implicitAxisMeaning(rank: number): { classAxis: boolean; layout: string } {
  if (rank <= 1) return { classAxis: true, layout: 'its only axis' };
  if (rank === 2) return { classAxis: true, layout: 'the class axis of [N, C]' };
  if (rank === 3) return { classAxis: false, layout: 'the batch axis of [N, T, C] or [N, C, L]' };
  return { classAxis: true, layout: 'the class (channel) axis of [N, C, H, W, ...]' };
}

function messageFor(rank: number | undefined): string {
  if (rank === undefined) {
    return "softmax without dim: PyTorch picks the axis from the input's rank (dim=0 for 0-, 1- and 3-D inputs, dim=1 otherwise; deprecated), so a 3-D [N, T, C] input is normalised over the batch instead of the classes. Name the class axis.";
  }
  const dim = implicitDim(rank);
  const { classAxis, layout } = implicitAxisMeaning(rank);
  return classAxis
    ? `softmax without dim: on this ${rank}-D input PyTorch picks dim=${dim}, ${layout}: the result is right, but the implicit choice is deprecated (PyTorch warns) and changes with the rank. Write dim=${dim}.`
    : `softmax without dim: on this ${rank}-D input PyTorch picks dim=${dim}, ${layout}: each position is normalised across the batch, not over the classes. Name the class axis (dim=-1 for [N, T, C], dim=1 for [N, C, L]).`;
}

export const softmaxWithoutDim: Rule = {
  info: {
    id: 'softmax-without-dim',
    severity: 'warning',
    category: 'scores',
    description: 'softmax / log_softmax / nn.Softmax() with no dim: the implicit dim is deprecated and picks the wrong axis for some ranks.',
    example: 'probs = F.softmax(logits)',
    fix: 'Add dim=-1 (or the class axis).',
  },
  check({ facts, report }) {
    for (const event of facts.events) {
      if (event.kind !== 'softmax-without-dim') continue;
      const rank = event.inputRank;
      // Where the implicit axis is the class axis, the fix writes that axis: the result stays what it was (dim=-1 would
      // move a 4-D [N, C, H, W] softmax onto the width). Otherwise (3-D, or rank unknown) the conventional last axis.
      const dim = rank !== undefined && implicitAxisMeaning(rank).classAxis ? implicitDim(rank) : -1;
      const edit = appendKeywordEdit(event.node, `dim=${dim}`);
      report({
        node: event.node,
        framework: event.framework,
        message: messageFor(rank),
        fix: edit ? { title: `Add dim=${dim}`, edits: [edit] } : undefined,
      });
    }
  },
};
