import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureBuilt, makeTree, notebookJson, removeTree, runJson, SOFTMAX_BEFORE_CE } from './cli-harness';

before(ensureBuilt);

describe('loss-lens check on folders', () => {
  let root: string;
  before(() => {
    const notebook = notebookJson([{ source: SOFTMAX_BEFORE_CE }]);
    root = makeTree({
      'project/b.py': SOFTMAX_BEFORE_CE,
      'project/a/z.py': SOFTMAX_BEFORE_CE,
      'project/a/nb.ipynb': notebook,
      'project/B_upper.py': SOFTMAX_BEFORE_CE,
      'project/notes.txt': SOFTMAX_BEFORE_CE,
      // Everything below must be skipped by the walk.
      'project/.git/hooks/x.py': SOFTMAX_BEFORE_CE,
      'project/node_modules/pkg/x.py': SOFTMAX_BEFORE_CE,
      'project/.venv/lib/x.py': SOFTMAX_BEFORE_CE,
      'project/env/pyvenv.cfg': 'home = /usr/bin\n',
      'project/env/lib/python3.11/site-packages/x.py': SOFTMAX_BEFORE_CE,
      'project/conda/conda-meta/history': '',
      'project/conda/lib/x.py': SOFTMAX_BEFORE_CE,
      'project/a/.ipynb_checkpoints/nb-checkpoint.ipynb': notebook,
    });
  });
  after(() => removeTree(root));

  it('finds .py and .ipynb files recursively, sorted, skipping VCS, dependencies, environments and checkpoints', () => {
    const { report } = runJson(['check', 'project'], { cwd: root });
    const paths = [...new Set(report.diagnostics.map((diagnostic) => diagnostic.path))];
    assert.deepEqual(paths, ['project/B_upper.py', 'project/a/nb.ipynb', 'project/a/z.py', 'project/b.py']);
    assert.equal(report.checked, 4);
  });

  it('joins the path as given with each file place under it', () => {
    const { report } = runJson(['check', './project/a/'], { cwd: root });
    assert.deepEqual([...new Set(report.diagnostics.map((diagnostic) => diagnostic.path))], ['./project/a/nb.ipynb', './project/a/z.py']);
  });

  it('checks a file named explicitly even inside a skipped folder, once when named twice', () => {
    const { report } = runJson(['check', 'project/node_modules/pkg/x.py', 'project/b.py', 'project/./b.py'], { cwd: root });
    assert.deepEqual([...new Set(report.diagnostics.map((diagnostic) => diagnostic.path))], ['project/node_modules/pkg/x.py', 'project/b.py']);
    assert.equal(report.checked, 2);
  });

  it('keeps the order of the arguments', () => {
    const { report } = runJson(['check', 'project/b.py', 'project/a'], { cwd: root });
    assert.deepEqual([...new Set(report.diagnostics.map((diagnostic) => diagnostic.path))], ['project/b.py', 'project/a/nb.ipynb', 'project/a/z.py']);
  });
});
