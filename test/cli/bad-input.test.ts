import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readFixture } from '../engine/fixtures';
import { ensureBuilt, makeTree, notebookJson, removeTree, repoRoot, runCli, runJson, SOFTMAX_BEFORE_CE } from './cli-harness';

before(ensureBuilt);

/** Hostile or broken input: every case must end within the child-process timeout with a report, never a crash. */
describe('loss-lens check on bad input', () => {
  let root: string;
  const validNotebook = notebookJson([{ source: SOFTMAX_BEFORE_CE }]);
  before(() => {
    // A generated module embedding a 5 MB vocabulary, with training code after it.
    const vocabularyLine = 'the of and to in is was for on that with as by at from his her they have\n';
    const vocabulary = vocabularyLine.repeat(Math.ceil((5 * 1024 * 1024) / vocabularyLine.length));
    root = makeTree({
      'syntax.py': `${SOFTMAX_BEFORE_CE}\ndef broken(:\n    return )(\n`,
      'big.py': `VOCABULARY = """\n${vocabulary}""".split()\n\n${SOFTMAX_BEFORE_CE}`,
      // tree-sitter-python takes time quadratic in a run of comment lines after code: minutes for this file.
      // About 14 MB of code: its analysis takes seconds, far past the 1.5 s hard timeout the test sets.
      'slow-parse.py': `import torch\n${'scores = torch.softmax(model(batch), dim=1)\n'.repeat(320_000)}`,
      'nested.py': `x = ${'('.repeat(10_000)}1${')'.repeat(10_000)}\n`,
      'binary.py': Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
      'truncated.ipynb': validNotebook.slice(0, Math.floor(validNotebook.length / 2)),
      'not-json.ipynb': 'print("this is Python, not a notebook")\n',
      'no-cells.ipynb': '{"metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n',
      'string-source.ipynb': notebookJson([{ source: SOFTMAX_BEFORE_CE, stringSource: true }]),
      'r-kernel.ipynb': notebookJson([{ source: SOFTMAX_BEFORE_CE }], 'R'),
      'sql-cell.ipynb': notebookJson([{ source: SOFTMAX_BEFORE_CE, language: 'sql' }, { source: 'x = 1\n' }]),
      'bash-cell.ipynb': notebookJson([{ source: `%%bash\n${SOFTMAX_BEFORE_CE}` }]),
      'empty.ipynb': '',
    });
  });
  after(() => removeTree(root));

  it('reports a syntax error as a note and still analyses the rest of the file', () => {
    const { status, report } = runJson(['check', 'syntax.py'], { cwd: root });
    assert.equal(status, 1);
    assert.ok(report.diagnostics.some((diagnostic) => diagnostic.rule === 'softmax-before-cross-entropy'));
    assert.ok(report.notes.some((note) => note.kind === 'syntax-error' && note.path === 'syntax.py'));
  });

  it('checks a 5 MB file', () => {
    const { report } = runJson(['check', 'big.py'], { cwd: root });
    assert.equal(report.checked, 1);
    assert.deepEqual(report.errors, []);
    assert.ok(report.diagnostics.some((diagnostic) => diagnostic.rule === 'softmax-before-cross-entropy'));
  });

  it('stops an analysis that does not return in time, reports it, and checks the other files', () => {
    const started = Date.now();
    const run = runCli(['check', '--format', 'json', 'slow-parse.py', 'syntax.py'], { cwd: root, env: { LOSS_LENS_ANALYSIS_TIMEOUT_MS: '1500' } });
    assert.ok(Date.now() - started < 15_000, 'the hard timeout ended the slow file');
    assert.equal(run.status, 2);
    const report = JSON.parse(run.stdout) as { errors: { path: string; message: string }[]; checked: number };
    assert.deepEqual(report.errors, [{ path: 'slow-parse.py', message: 'the analysis did not finish within 1.5 s and was stopped' }]);
    assert.equal(report.checked, 1);
    // The text summary names the file the deadline stopped, and the file with a syntax error.
    const text = runCli(['check', 'slow-parse.py', 'syntax.py'], { cwd: root, env: { LOSS_LENS_ANALYSIS_TIMEOUT_MS: '1500' } });
    assert.match(text.stdout, /^1 path could not be read or analysed \(listed on stderr\): slow-parse\.py\.$/m);
    assert.match(text.stdout, /^1 file was only partly analysed, findings there may be missing: syntax\.py \(syntax error at line \d+\)\.$/m);
    assert.match(text.stderr, /^slow-parse\.py: error: the analysis did not finish within 1\.5 s and was stopped$/m);
  });

  it('survives 10,000 nested parentheses and binary bytes', () => {
    for (const file of ['nested.py', 'binary.py']) {
      const run = runCli(['check', '--format', 'json', file], { cwd: root });
      assert.ok(run.status === 0 || run.status === 1, `${file}: status ${run.status}\n${run.stderr}`);
      assert.equal(JSON.parse(run.stdout).checked, 1);
      assert.doesNotMatch(run.stderr, /internal error/);
    }
  });

  it('reports unreadable notebooks in errors with a clear message, exit 2, and checks the others', () => {
    const { status, report } = runJson(['check', 'truncated.ipynb', 'not-json.ipynb', 'no-cells.ipynb', 'empty.ipynb', 'string-source.ipynb'], { cwd: root });
    assert.equal(status, 2);
    const messages = Object.fromEntries(report.errors.map((error) => [error.path, error.message]));
    assert.match(messages['truncated.ipynb'], /^not a notebook: .+ at line \d+/);
    assert.match(messages['not-json.ipynb'], /^not a notebook: unexpected character at line 1 column 1$/);
    assert.equal(messages['no-cells.ipynb'], 'not a notebook: no "cells" array');
    assert.match(messages['empty.ipynb'], /^not a notebook: /);
    assert.equal(report.checked, 1);
    assert.ok(report.diagnostics.some((diagnostic) => diagnostic.path === 'string-source.ipynb' && diagnostic.cell === 0));
  });

  it('refuses a named pipe instead of blocking on it', () => {
    const fifo = path.join(root, 'pipe.py');
    spawnSync('mkfifo', [fifo]);
    const { status, report } = runJson(['check', 'pipe.py', 'string-source.ipynb'], { cwd: root });
    assert.equal(status, 2);
    assert.deepEqual(report.errors, [{ path: 'pipe.py', message: 'not a regular file or folder' }]);
    assert.equal(report.checked, 1);
  });

  it('reads a notebook whose cell sources are strings', () => {
    const { status, report } = runJson(['check', 'string-source.ipynb'], { cwd: root });
    assert.equal(status, 1);
    assert.deepEqual(report.errors, []);
  });

  it('skips cells in other languages and %%bash cells', () => {
    const { status, report } = runJson(['check', 'r-kernel.ipynb', 'sql-cell.ipynb', 'bash-cell.ipynb'], { cwd: root });
    assert.equal(status, 0, JSON.stringify(report));
    assert.equal(report.checked, 3);
    assert.deepEqual(report.diagnostics, []);
  });

  it('prints unreadable files on stderr in the text format', () => {
    const run = runCli(['check', 'no-cells.ipynb', 'string-source.ipynb'], { cwd: root });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^no-cells\.ipynb: error: not a notebook: no "cells" array$/m);
    assert.match(run.stdout, /^string-source\.ipynb:cell 0:9:22: error softmax-before-cross-entropy /m);
    assert.match(run.stdout, /^1 path could not be read or analysed \(listed on stderr\): no-cells\.ipynb\.$/m);
    const onlyBroken = runCli(['check', 'no-cells.ipynb', 'r-kernel.ipynb'], { cwd: root });
    assert.match(onlyBroken.stdout, /^No findings in the 1 file checked, but 1 path could not be read or analysed \(listed on stderr\): no-cells\.ipynb\.$/m);
  });
});

/** IPython syntax is masked in notebook cells only, and only where IPython reads it (`server/src/parse/ipython.ts`). */
describe('loss-lens check: % and ! lines in files and notebooks', () => {
  let root: string;
  const fixtures = path.join(repoRoot, 'test', 'fixtures', 'rules', 'softmax-before-cross-entropy');
  before(() => {
    const cells = readFixture(path.join(fixtures, 'ipython-lines.cells.py')).cells;
    root = makeTree({
      'continuation.py': fs.readFileSync(path.join(fixtures, 'continuation-lines.py'), 'utf8'),
      'ipython.ipynb': notebookJson(cells.map((cell) => ({ source: cell.text }))),
      'shell-in-file.py': `!pip install torch\n${SOFTMAX_BEFORE_CE}`,
    });
  });
  after(() => removeTree(root));

  it('a valid file whose continuation lines start with % or != has no syntax-error note and its bug is found', () => {
    const { status, report } = runJson(['check', 'continuation.py'], { cwd: root });
    assert.equal(status, 1);
    assert.deepEqual(report.notes, []);
    assert.deepEqual(report.diagnostics.map((d) => [d.rule, d.line]), [['softmax-before-cross-entropy', 28]]);
  });

  it('a notebook with continued shell commands, help suffixes and a pasted session has no syntax-error note', () => {
    const { report } = runJson(['check', 'ipython.ipynb'], { cwd: root });
    assert.deepEqual(report.notes, []);
    assert.deepEqual(report.diagnostics.map((d) => [d.rule, d.cell, d.line]), [['softmax-before-cross-entropy', 4, 4]]);
  });

  it('a shell command in a .py file is the syntax error Python would report', () => {
    const { report } = runJson(['check', 'shell-in-file.py'], { cwd: root });
    assert.deepEqual(report.notes.map((note) => [note.kind, note.line]), [['syntax-error', 1]]);
  });
});
