import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureBuilt, makeTree, notebookJson, removeTree, runCli, runJson, SOFTMAX_BEFORE_CE } from './cli-harness';

before(ensureBuilt);

/** Hostile or broken input: every case must end within the child-process timeout with a report, never a crash. */
describe('loss-lens check on bad input', () => {
  let root: string;
  const validNotebook = notebookJson([{ source: SOFTMAX_BEFORE_CE }]);
  before(() => {
    const bigLine = 'features = torch.cat([features, torch.zeros(4, 8)], dim=1)  # padding the feature matrix\n';
    root = makeTree({
      'syntax.py': `${SOFTMAX_BEFORE_CE}\ndef broken(:\n    return )(\n`,
      'big.py': `import torch\n${bigLine.repeat(Math.ceil((5 * 1024 * 1024) / bigLine.length))}${SOFTMAX_BEFORE_CE}`,
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
    const { report } = runJson(['check', 'big.py'], { cwd: root, timeoutMs: 60_000 });
    assert.equal(report.checked, 1);
    assert.deepEqual(report.errors, []);
    const found = report.diagnostics.some((diagnostic) => diagnostic.rule === 'softmax-before-cross-entropy');
    const truncated = report.notes.some((note) => note.kind === 'truncated');
    assert.ok(found || truncated, 'either the finding at the end or a note that the analysis was cut short');
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
  });
});
