import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { ensureBuilt, repoRoot, runCli, runJson } from './cli-harness';

before(ensureBuilt);

describe('the clean corpus and the examples', () => {
  it('finds nothing in the clean corpus of correct training code', () => {
    const corpus = path.join('test', 'corpus', 'clean');
    const files = fs.readdirSync(path.join(repoRoot, corpus)).filter((name) => /\.(py|ipynb)$/.test(name));
    assert.ok(files.length >= 15, `${files.length} files`);
    const { status, report } = runJson(['check', corpus]);
    assert.deepEqual(report.diagnostics, [], JSON.stringify(report.diagnostics, null, 1));
    assert.deepEqual(report.errors, []);
    assert.equal(report.checked, files.length);
    assert.equal(status, 0);
  });

  it('finds the showcased misuses in examples/ (what `npm run examples` prints)', () => {
    const run = runCli(['check', 'examples']);
    assert.equal(run.status, 1, run.stderr);
    const { report } = runJson(['check', 'examples']);
    const found = (file: string) => new Set(report.diagnostics.filter((diagnostic) => diagnostic.path === `examples/${file}`).map((diagnostic) => diagnostic.rule));
    const notebook = found('train_classifier.ipynb');
    assert.ok(notebook.has('softmax-before-cross-entropy'), [...notebook].join());
    assert.ok(notebook.has('float-class-index-target'), [...notebook].join());
    const multilabel = found('train_multilabel.py');
    assert.ok(multilabel.has('multi-hot-target-to-cross-entropy'), [...multilabel].join());
    assert.ok(multilabel.has('sigmoid-then-bce'), [...multilabel].join());
    assert.ok(multilabel.has('log-of-softmax'), [...multilabel].join());
    const keras = found('keras_sentiment.py');
    assert.ok(keras.has('softmax-before-cross-entropy'), [...keras].join());
    assert.ok(keras.has('logits-to-probability-loss'), [...keras].join());
    assert.ok(found('jax_mlp.py').has('softmax-before-cross-entropy'));
  });
});
