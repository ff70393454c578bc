import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { ensureBuilt, makeTree, removeTree, repoRoot, runCli, runJson, SOFTMAX_BEFORE_CE } from './cli-harness';

before(ensureBuilt);

/** The notebook text with every cell's `source` value cut out: what `fix` must leave byte-identical. */
function skeleton(text: string): string {
  const root = parseTree(text)!;
  const cells = findNodeAtLocation(root, ['cells'])!.children!;
  let result = text;
  for (let index = cells.length - 1; index >= 0; index--) {
    const source = findNodeAtLocation(cells[index], ['source'])!;
    result = `${result.slice(0, source.offset)}<source ${index}>${result.slice(source.offset + source.length)}`;
  }
  return result;
}

const JUPYTER_WRITES_SAME = `
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
print("same" if text == json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\\n" else "different")
`;

describe('loss-lens fix', () => {
  let root: string;
  const exampleNotebook = fs.readFileSync(path.join(repoRoot, 'examples', 'train_classifier.ipynb'), 'utf8');
  before(() => {
    root = makeTree({ 'train_classifier.ipynb': exampleNotebook, 'step.py': SOFTMAX_BEFORE_CE });
  });
  after(() => removeTree(root));

  it('fixes the example notebook in place, changing only the sources of the edited cells', () => {
    const before = runJson(['check', 'train_classifier.ipynb'], { cwd: root }).report;
    const fixable = before.diagnostics.filter((diagnostic) => diagnostic.fix);
    assert.ok(fixable.length > 0, 'the example notebook has fixable findings');
    const editedCells = new Set(fixable.flatMap((diagnostic) => diagnostic.fix!.edits.map((edit) => edit.cell)));

    const { status, report } = runJson(['fix', 'train_classifier.ipynb'], { cwd: root });
    const fixedText = fs.readFileSync(path.join(root, 'train_classifier.ipynb'), 'utf8');
    assert.notEqual(fixedText, exampleNotebook);
    assert.ok(report.fixed! >= fixable.length, `fixed ${report.fixed} of ${fixable.length}`);
    assert.equal(status, report.diagnostics.length > 0 ? 1 : 0);
    assert.ok(report.diagnostics.every((diagnostic) => !diagnostic.fix), 'nothing fixable remains');

    // Outputs, metadata, ids, key order, indentation and the final newline: byte-identical.
    assert.equal(skeleton(fixedText), skeleton(exampleNotebook));
    const original = JSON.parse(exampleNotebook);
    const fixed = JSON.parse(fixedText);
    for (let index = 0; index < original.cells.length; index++) {
      if (editedCells.has(index)) {
        assert.ok(Array.isArray(fixed.cells[index].source), 'a list of lines stays a list of lines');
        assert.ok(fixed.cells[index].source.slice(0, -1).every((line: string) => line.endsWith('\n')));
      } else {
        assert.deepEqual(fixed.cells[index].source, original.cells[index].source, `cell ${index} untouched`);
      }
    }

    // Exactly what Jupyter itself would write for the fixed notebook (nbformat: indent 1, sorted keys, raw UTF-8).
    const jupyterLayout = spawnSync('python3', ['-c', JUPYTER_WRITES_SAME, path.join(root, 'train_classifier.ipynb')], { encoding: 'utf8' });
    if (!jupyterLayout.error) assert.equal(jupyterLayout.stdout.trim(), 'same', jupyterLayout.stderr);

    // A second run has nothing left to fix and leaves the file alone.
    const again = runJson(['fix', 'train_classifier.ipynb'], { cwd: root });
    assert.equal(again.report.fixed, 0);
    assert.equal(fs.readFileSync(path.join(root, 'train_classifier.ipynb'), 'utf8'), fixedText);
  });

  it('fixes a .py file and prints what remains as check does', () => {
    const run = runCli(['fix', 'step.py'], { cwd: root });
    const text = fs.readFileSync(path.join(root, 'step.py'), 'utf8');
    assert.notEqual(text, SOFTMAX_BEFORE_CE);
    assert.match(run.stdout, /^Fixed \d+ findings?\.$/m);
    const check = runJson(['check', 'step.py'], { cwd: root });
    assert.ok(check.report.diagnostics.every((diagnostic) => diagnostic.rule !== 'softmax-before-cross-entropy'));
    assert.equal(run.status, check.status);
  });

  it('keeps a UTF-8 byte order mark and CRLF line endings, and leaves no temporary file behind', () => {
    const crlf = makeTree({ 'win.py': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(SOFTMAX_BEFORE_CE.replace(/\n/g, '\r\n'))]) });
    try {
      runCli(['fix', 'win.py'], { cwd: crlf });
      const bytes = fs.readFileSync(path.join(crlf, 'win.py'));
      assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
      const text = bytes.toString('utf8', 3);
      assert.notEqual(text, SOFTMAX_BEFORE_CE.replace(/\n/g, '\r\n'), 'the fix applied');
      assert.doesNotMatch(text, /[^\r]\n/, 'every line still ends in CRLF');
      assert.deepEqual(fs.readdirSync(crlf), ['win.py']);
    } finally {
      removeTree(crlf);
    }
  });

  it('does not rewrite a file that is not valid UTF-8', () => {
    const latin1 = Buffer.concat([Buffer.from('# caf\xe9\n', 'latin1'), Buffer.from(SOFTMAX_BEFORE_CE)]);
    const tree = makeTree({ 'latin1.py': latin1 });
    try {
      const { report } = runJson(['fix', 'latin1.py'], { cwd: tree });
      assert.ok(report.notes.some((note) => note.kind === 'not-fixed'));
      assert.deepEqual(fs.readFileSync(path.join(tree, 'latin1.py')), latin1);
    } finally {
      removeTree(tree);
    }
  });
});
