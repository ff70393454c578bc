import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { applyTextEdits, createAnalyzer, type LossLensAnalyzer } from '../../server/src/analysis/index';
import type { ProgramSource } from '../../server/src/analysis/types';
import { RULES } from '../../server/src/rules/index';

let analyzer: LossLensAnalyzer;
before(async () => {
  analyzer = await createAnalyzer();
});

const file = (text: string): ProgramSource => ({ kind: 'file', units: [{ text }] });

const MIXED = [
  'import torch.nn as nn',
  'import torch.nn.functional as F',
  'from tensorflow import keras',
  'probs = F.softmax(z)',
  'loss = F.cross_entropy(probs, y)',
  'model = keras.Sequential([keras.layers.Dense(10)])',
  'model.compile(loss="sparse_categorical_crossentropy")',
  '',
].join('\n');

const rulesOf = (text: string, options = {}) => analyzer.analyze(file(text), options).findings.map((f) => `${f.rule}:${f.severity}`);

test('without options every rule reports with its catalogue severity', () => {
  assert.deepEqual(rulesOf(MIXED), ['softmax-without-dim:warning', 'softmax-before-cross-entropy:error', 'logits-to-probability-loss:error']);
});

test('select, ignore, severities and frameworks narrow and adjust the findings', () => {
  assert.deepEqual(rulesOf(MIXED, { select: ['softmax-without-dim'] }), ['softmax-without-dim:warning']);
  assert.deepEqual(rulesOf(MIXED, { ignore: ['softmax-without-dim', 'logits-to-probability-loss'] }), ['softmax-before-cross-entropy:error']);
  assert.deepEqual(rulesOf(MIXED, { severities: { 'softmax-before-cross-entropy': 'hint', 'softmax-without-dim': 'off' } }), ['softmax-before-cross-entropy:hint', 'logits-to-probability-loss:error']);
  assert.deepEqual(rulesOf(MIXED, { frameworks: ['keras'] }), ['logits-to-probability-loss:error']);
  assert.deepEqual(rulesOf(MIXED, { frameworks: ['pytorch'] }), ['softmax-without-dim:warning', 'softmax-before-cross-entropy:error']);
});

test('a file whose first line is the ignore-file comment is skipped', () => {
  assert.deepEqual(rulesOf(`# loss-lens: ignore-file\n${MIXED}`), []);
});

test('every recognised loss call is recorded with its facts', () => {
  const text = [
    'import torch.nn as nn',
    'import torch.nn.functional as F',
    'head = nn.Linear(16, 4)',
    'criterion = nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)',
    'loss = criterion(head(x), y.float())',
    'bce = F.binary_cross_entropy_with_logits(head(x), t, pos_weight=pw)',
    '',
  ].join('\n');
  const { lossCalls } = analyzer.analyze(file(text));
  assert.equal(lossCalls.length, 2);
  const [ce, bce] = lossCalls;
  assert.equal(ce.loss, 'cross_entropy');
  assert.equal(ce.framework, 'pytorch');
  assert.deepEqual(ce.location.range, { start: { line: 4, character: 7 }, end: { line: 4, character: 36 } });
  assert.deepEqual(ce.constructorLocation?.range.start, { line: 3, character: 12 });
  assert.equal(ce.inputExpression, 'head(x)');
  assert.equal(ce.targetExpression, 'y.float()');
  assert.deepEqual(ce.options, { weight: 'w', label_smoothing: '0.1' });
  assert.deepEqual(ce.inputFacts, ['logits', 'last dimension 4']);
  assert.deepEqual(ce.targetFacts, ['dtype float']);
  assert.equal(bce.loss, 'binary_cross_entropy_with_logits');
  assert.equal(bce.constructorLocation, undefined);
  assert.deepEqual(bce.options, { pos_weight: 'pw' });
});

test('Keras compile, optax and tf.nn losses are recorded under their canonical names', () => {
  const text = [
    'import optax, tensorflow as tf',
    'from tensorflow import keras',
    'model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])',
    'model.compile(loss=keras.losses.CategoricalCrossentropy(from_logits=False))',
    'a = optax.softmax_cross_entropy_with_integer_labels(logits, labels)',
    'b = tf.nn.sigmoid_cross_entropy_with_logits(labels=l, logits=z)',
    '',
  ].join('\n');
  const { lossCalls, findings } = analyzer.analyze(file(text));
  assert.deepEqual(lossCalls.map((c) => [c.loss, c.framework]), [
    ['keras:categorical_crossentropy', 'keras'],
    ['optax:softmax_cross_entropy_with_integer_labels', 'jax'],
    ['tf:sigmoid_cross_entropy_with_logits', 'tensorflow'],
  ]);
  assert.deepEqual(lossCalls[0].options, { from_logits: 'False' });
  assert.deepEqual(lossCalls[0].inputFacts, ['probabilities (softmax)', 'last dimension 3']);
  assert.deepEqual(findings, []);
});

test('the registry lists every catalogue rule once, static and run-time', () => {
  const ids = RULES.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ['softmax-before-cross-entropy', 'sigmoid-before-bce-with-logits', 'logits-to-probability-loss', 'nll-without-log-softmax', 'log-softmax-before-cross-entropy', 'sigmoid-then-bce', 'log-of-softmax', 'log-of-sigmoid', 'manual-cross-entropy', 'softmax-without-dim', 'binary-crossentropy-multiclass', 'input-rows-sum-to-one', 'class-imbalance']) {
    assert.ok(ids.includes(id), id);
  }
  for (const rule of RULES) {
    assert.match(rule.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
    assert.ok(rule.description && rule.example, rule.id);
  }
});

test('applyTextEdits applies non-overlapping edits from the end, across lines', () => {
  const text = 'a = F.softmax(x, dim=1)\nb = 2\n';
  const edited = applyTextEdits(text, [
    { range: { start: { line: 0, character: 4 }, end: { line: 0, character: 23 } }, newText: 'x' },
    { range: { start: { line: 1, character: 4 }, end: { line: 1, character: 5 } }, newText: '3' },
    { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: '# fixed\n' },
  ]);
  assert.equal(edited, '# fixed\na = x\nb = 3\n');
  assert.throws(() =>
    applyTextEdits(text, [
      { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 5 } }, newText: '' },
      { range: { start: { line: 0, character: 3 }, end: { line: 0, character: 8 } }, newText: '' },
    ]),
  );
});
