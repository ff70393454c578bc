import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createAnalyzer, type LossLensAnalyzer } from '../../server/src/analysis/index';

/** Flow sensitivity through the hover facts of loss calls: what the engine knows at each call, path by path. */
let analyzer: LossLensAnalyzer;
before(async () => {
  analyzer = await createAnalyzer();
});

function inputFactsAt(text: string): string[][] {
  return analyzer.analyze({ kind: 'file', units: [{ text }] }).lossCalls.map((call) => call.inputFacts);
}

const PRELUDE = 'import torch.nn as nn\nimport torch.nn.functional as F\nhead = nn.Linear(8, 3)\n';

test('a reassignment replaces what was known', () => {
  assert.deepEqual(inputFactsAt(`${PRELUDE}out = F.softmax(head(x), dim=1)\nout = head(x)\nl = F.cross_entropy(out, y)\n`), [['logits', 'last dimension 3']]);
});

test('if/else: only what holds on both paths survives', () => {
  assert.deepEqual(inputFactsAt(`${PRELUDE}if c:\n    out = F.softmax(head(x), dim=1)\nelse:\n    out = head(x)\nl = F.cross_entropy(out, y)\n`), [['last dimension 3']]);
  assert.deepEqual(inputFactsAt(`${PRELUDE}if c:\n    out = F.softmax(head(x), dim=1)\nelif d:\n    out = F.softmax(head(x), dim=-1)\nelse:\n    out = F.softmax(head(z), dim=1)\nl = F.cross_entropy(out, y)\n`), [['probabilities (softmax)', 'last dimension 3']]);
});

test('an if without else merges with the path that skips it; a path that returns does not reach the merge', () => {
  assert.deepEqual(inputFactsAt(`${PRELUDE}out = head(x)\nif c:\n    out = F.softmax(out, dim=1)\nl = F.cross_entropy(out, y)\n`), [['last dimension 3']]);
  const returning = `${PRELUDE}def f(x, c):\n    out = head(x)\n    if c:\n        out = F.softmax(out, dim=1)\n        return None\n    return F.cross_entropy(out, y)\nf(x, True)\n`;
  assert.deepEqual(inputFactsAt(returning), [['logits', 'last dimension 3']]);
});

test('try/except: handlers start from before or after the body', () => {
  const text = `${PRELUDE}out = head(x)\ntry:\n    out = F.softmax(out, dim=1)\nexcept ValueError:\n    pass\nl = F.cross_entropy(out, y)\n`;
  assert.deepEqual(inputFactsAt(text), [['last dimension 3']]);
});

test('loops: not entered, one iteration, or more; break paths join after the loop', () => {
  assert.deepEqual(inputFactsAt(`${PRELUDE}out = head(x)\nfor i in range(3):\n    out = F.softmax(out, dim=1)\nl = F.cross_entropy(out, y)\n`), [['last dimension 3']]);
  assert.deepEqual(inputFactsAt(`${PRELUDE}out = head(x)\nwhile True:\n    if c:\n        out = F.softmax(out, dim=1)\n        break\n    out = head(x)\nl = F.cross_entropy(out, y)\n`), [['last dimension 3']]);
});

test('functions see module names at call time, and parameters get the call-site values', () => {
  const text = `${PRELUDE}def loss_of(scores):\n    return F.cross_entropy(scores, labels)\nhead = nn.Linear(8, 5)\nloss_of(F.softmax(head(x), dim=1))\n`;
  assert.deepEqual(inputFactsAt(text), [['probabilities (softmax)', 'last dimension 5']]);
});
