import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createAnalyzer, type LossLensAnalyzer } from '../../server/src/analysis/index';

/** A fix that drops an activation must not change other code that reads the activation's result. */
let analyzer: LossLensAnalyzer;
before(async () => {
  analyzer = await createAnalyzer();
});

function findingsOf(text: string) {
  return analyzer.analyze({ kind: 'file', units: [{ text }] }).findings;
}

const EVALUATE = (accuracyLine: string) => `import torch
import torch.nn as nn

def evaluate(model, images, targets):
    bce = nn.BCELoss()
    probabilities = torch.sigmoid(model(images))
    loss = bce(probabilities, targets)
${accuracyLine}    return loss
`;

test('sigmoid kept when its result is also thresholded for accuracy: finding, no fix', () => {
  const findings = findingsOf(EVALUATE('    hits = ((probabilities > 0.5) == targets.bool()).sum()\n'));
  assert.deepEqual(findings.map((f) => f.rule), ['sigmoid-then-bce']);
  assert.equal(findings[0].fix, undefined);
});

test('sigmoid read only by the loss: the fix drops it and renames the loss', () => {
  const findings = findingsOf(EVALUATE(''));
  assert.deepEqual(findings.map((f) => f.rule), ['sigmoid-then-bce']);
  assert.deepEqual(findings[0].fix?.edits.map((edit) => edit.newText).sort(), ['BCEWithLogitsLoss', 'model(images)']);
});

test('softmax kept when its result is also read at module level in a later cell; returned values still fix', () => {
  const cells = [
    'import torch\nimport torch.nn.functional as F\nprobs = F.softmax(logits, dim=1)\nloss = F.cross_entropy(probs, y)\n',
    'confidence = probs.max(dim=1).values.mean()\n',
  ];
  const result = analyzer.analyze({ kind: 'notebook', units: cells.map((text, cell) => ({ cell, text })) });
  assert.deepEqual(result.findings.map((f) => f.rule), ['softmax-before-cross-entropy']);
  assert.equal(result.findings[0].fix, undefined);

  const returned = findingsOf('import torch.nn.functional as F\ndef head(x):\n    p = F.softmax(x, dim=1)\n    return p\nloss = F.cross_entropy(head(z), y)\n');
  assert.deepEqual(returned.map((f) => f.rule), ['softmax-before-cross-entropy']);
  assert.ok(returned[0].fix, 'a softmax carried to the loss only by `return p` is still dropped');
});
