import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLEAN_TRAINING, ensureBuilt, makeTree, notebookJson, removeTree, runCli, runJson, SOFTMAX_BEFORE_CE } from './cli-harness';

before(ensureBuilt);

describe('loss-lens check: exit status', () => {
  let root: string;
  before(() => {
    root = makeTree({ 'clean.py': CLEAN_TRAINING, 'bad.py': SOFTMAX_BEFORE_CE });
  });
  after(() => removeTree(root));

  it('exits 0 and says so when nothing is found', () => {
    const run = runCli(['check', 'clean.py'], { cwd: root });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'All checks passed.\n');
  });

  it('exits 1 when there are findings', () => {
    assert.equal(runCli(['check', 'bad.py'], { cwd: root }).status, 1);
  });

  it('exits 2 for a missing path but still checks and reports the others', () => {
    const { status, report } = runJson(['check', 'missing.py', 'bad.py'], { cwd: root });
    assert.equal(status, 2);
    assert.deepEqual(report.errors, [{ path: 'missing.py', message: 'no such file or directory' }]);
    assert.equal(report.checked, 1);
    assert.ok(report.diagnostics.some((diagnostic) => diagnostic.path === 'bad.py'));
  });

  it('exits 2 naming an unknown rule ID, an unknown option or format, and a missing PATH', () => {
    const unknownRule = runCli(['check', '--select', 'softmax-before-cross-entropy,no-such-rule', 'bad.py'], { cwd: root });
    assert.equal(unknownRule.status, 2);
    assert.match(unknownRule.stderr, /unknown rule ID 'no-such-rule' in --select/);
    const unknownIgnored = runCli(['check', '--ignore=nope', 'bad.py'], { cwd: root });
    assert.equal(unknownIgnored.status, 2);
    assert.match(unknownIgnored.stderr, /unknown rule ID 'nope' in --ignore/);
    const badOption = runCli(['check', '--colour', 'bad.py'], { cwd: root });
    assert.equal(badOption.status, 2);
    assert.match(badOption.stderr, /unknown option '--colour'/);
    const badFormat = runCli(['check', '--format', 'xml', 'bad.py'], { cwd: root });
    assert.equal(badFormat.status, 2);
    assert.match(badFormat.stderr, /unknown format 'xml'/);
    const noPath = runCli(['check'], { cwd: root });
    assert.equal(noPath.status, 2);
    assert.match(noPath.stderr, /no PATH given/);
  });

  it('prints its help with exit 0', () => {
    const run = runCli(['check', '--help']);
    assert.equal(run.status, 0);
    assert.match(run.stdout, /Usage: loss-lens check \[options\] PATH/);
    assert.match(run.stdout, /--select ID/);
  });
});

describe('loss-lens check --format json', () => {
  let root: string;
  before(() => {
    // A notebook whose softmax (cell 2) and loss call (cell 4) sit in different cells, with a markdown cell between
    // them so that `cell` must count markdown cells; the loss line starts with non-ASCII text so that columns must
    // be UTF-16 code units (each of '损失' is one unit, the emoji two).
    const notebook = notebookJson([
      { type: 'markdown', source: '# Training\n' },
      { source: 'import torch.nn as nn\nimport torch.nn.functional as F\ncriterion = nn.CrossEntropyLoss()\n' },
      { source: 'def forward(logits):\n    return F.softmax(logits, dim=1)\n' },
      { type: 'markdown', source: 'Now the loss.\n' },
      { source: 'def step(logits, labels):\n    note = "损失🙂"; loss = criterion(forward(logits), labels)\n    return loss\n' },
    ]);
    root = makeTree({ 'nb/train.ipynb': notebook, 'script.py': SOFTMAX_BEFORE_CE });
  });
  after(() => removeTree(root));

  it('prints the spec object with 1-based, end-exclusive, UTF-16 positions', () => {
    const { status, report } = runJson(['check', 'script.py', 'nb'], { cwd: root });
    assert.equal(status, 1);
    assert.deepEqual(Object.keys(report).slice(0, 4), ['version', 'checked', 'errors', 'diagnostics']);
    assert.equal(report.version, 1);
    assert.equal(report.checked, 2);
    assert.deepEqual(report.errors, []);

    const inScript = report.diagnostics.find((diagnostic) => diagnostic.path === 'script.py' && diagnostic.rule === 'softmax-before-cross-entropy');
    assert.ok(inScript, JSON.stringify(report.diagnostics));
    assert.equal('cell' in inScript, false);
    // `    return criterion(probs, labels)`: `probs` spans columns 22..27 (end exclusive) on line 9.
    assert.deepEqual([inScript.line, inScript.column, inScript.endLine, inScript.endColumn], [9, 22, 9, 27]);
    assert.equal(inScript.severity, 'error');
    assert.ok(inScript.message.length > 0);
    assert.ok(inScript.related.some((related) => related.path === 'script.py' && related.line === 8));

    const inNotebook = report.diagnostics.find((diagnostic) => diagnostic.path === 'nb/train.ipynb' && diagnostic.rule === 'softmax-before-cross-entropy');
    assert.ok(inNotebook, JSON.stringify(report.diagnostics));
    assert.equal(inNotebook.cell, 4);
    // `    note = "损失🙂"; loss = criterion(` is 36 UTF-16 units (35 code points, 42 UTF-8
    // bytes), so `forward(logits)` spans columns 37..52.
    assert.deepEqual([inNotebook.line, inNotebook.column, inNotebook.endLine, inNotebook.endColumn], [2, 37, 2, 52]);
    assert.ok(inNotebook.related.some((related) => related.cell === 2 && related.line === 2), JSON.stringify(inNotebook.related));
  });

  it('gives fixes as edits with the same position convention', () => {
    const { report } = runJson(['check', 'script.py'], { cwd: root });
    const fixable = report.diagnostics.find((diagnostic) => diagnostic.fix);
    assert.ok(fixable, 'the softmax finding offers a fix');
    for (const edit of fixable.fix!.edits) {
      assert.equal(edit.path, 'script.py');
      assert.ok(edit.line >= 1 && edit.column >= 1 && typeof edit.newText === 'string');
      assert.ok(edit.endLine > edit.line || (edit.endLine === edit.line && edit.endColumn >= edit.column));
    }
  });

  it('filters rules with --select and --ignore', () => {
    const all = runJson(['check', 'script.py', 'nb'], { cwd: root }).report.diagnostics;
    const rules = new Set(all.map((diagnostic) => diagnostic.rule));
    assert.ok(rules.has('softmax-before-cross-entropy'));

    const selected = runJson(['check', '--select', 'softmax-before-cross-entropy', 'script.py', 'nb'], { cwd: root });
    assert.ok(selected.report.diagnostics.length > 0);
    assert.ok(selected.report.diagnostics.every((diagnostic) => diagnostic.rule === 'softmax-before-cross-entropy'));

    const ignored = runJson(['check', '--ignore', 'softmax-before-cross-entropy', 'script.py', 'nb'], { cwd: root });
    assert.ok(ignored.report.diagnostics.every((diagnostic) => diagnostic.rule !== 'softmax-before-cross-entropy'));
    assert.equal(ignored.status, ignored.report.diagnostics.length > 0 ? 1 : 0);

    const other = runJson(['check', '--select=float-class-index-target', 'script.py'], { cwd: root });
    assert.equal(other.status, 0);
    assert.deepEqual(other.report.diagnostics, []);
  });
});

describe('loss-lens check: text output', () => {
  let root: string;
  before(() => {
    root = makeTree({
      'a.py': SOFTMAX_BEFORE_CE,
      'train.ipynb': notebookJson([{ type: 'markdown', source: '# t\n' }, { source: SOFTMAX_BEFORE_CE }]),
    });
  });
  after(() => removeTree(root));

  it('prints path:line:col: severity rule message, related places indented, and a summary', () => {
    const run = runCli(['check', 'a.py', 'train.ipynb'], { cwd: root });
    assert.equal(run.status, 1);
    const lines = run.stdout.split('\n');
    assert.ok(lines.includes('a.py:9:22: error softmax-before-cross-entropy ' + lines.find((line) => line.startsWith('a.py:9:22: '))!.split(' softmax-before-cross-entropy ')[1]));
    assert.match(run.stdout, /^a\.py:9:22: error softmax-before-cross-entropy \S.*$/m);
    assert.match(run.stdout, /^train\.ipynb:cell 1:9:22: error softmax-before-cross-entropy \S.*$/m);
    assert.match(run.stdout, /^ {4}a\.py:8:\d+: \S.*$/m);
    assert.match(run.stdout, /^Found \d+ findings? \(\d+ errors?, \d+ warnings?\) in 2 files\.$/m);
    assert.doesNotMatch(run.stdout, /\x1b\[/, 'no color when stdout is not a terminal');
  });

  it('uses color when asked with FORCE_COLOR', () => {
    const run = runCli(['check', 'a.py'], { cwd: root, env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    assert.match(run.stdout, /\x1b\[31merror\x1b\[0m/);
  });
});
