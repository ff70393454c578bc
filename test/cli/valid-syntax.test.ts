import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBuilt, makeTree, removeTree, repoRoot, runJson } from './cli-harness';

before(ensureBuilt);

/** Valid Python that tree-sitter-python mis-read before `server/src/parse/prepare.ts` adjusted the parsed text. */
describe('loss-lens check: valid files with comment-like string lines and starred bracket operands', () => {
  let root: string;
  const fixtures = path.join(repoRoot, 'test', 'fixtures', 'rules', 'softmax-before-cross-entropy');
  before(() => {
    root = makeTree({
      'strings.py': fs.readFileSync(path.join(fixtures, 'comment-like-string-lines.py'), 'utf8'),
      'starred.py': fs.readFileSync(path.join(fixtures, 'starred-bracket-operands.py'), 'utf8'),
      'starred-string.py': 'import torch\n\n\ndef chars():\n    return 1, *"ab"\n',
    });
  });
  after(() => removeTree(root));

  it('a docstring line starting with # that closes the string is no syntax error, and the bug after it is found', () => {
    const { status, report } = runJson(['check', 'strings.py'], { cwd: root });
    assert.equal(status, 1);
    assert.deepEqual(report.notes, []);
    assert.deepEqual(report.diagnostics.map((d) => [d.rule, d.line]), [['softmax-before-cross-entropy', 43]]);
  });

  it('starred bracket operands in tuples and subscripts are no syntax error, and the bug after them is found', () => {
    const { status, report } = runJson(['check', 'starred.py'], { cwd: root });
    assert.equal(status, 1);
    assert.deepEqual(report.notes, []);
    assert.deepEqual(report.diagnostics.map((d) => [d.rule, d.line]), [['softmax-before-cross-entropy', 35]]);
  });

  it('a starred operand the workaround does not cover (a string) is noted on its own line', () => {
    const { report } = runJson(['check', 'starred-string.py'], { cwd: root });
    assert.deepEqual(report.notes.map((note) => [note.kind, note.line]), [['syntax-error', 5]]);
  });
});
