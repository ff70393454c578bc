import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { listProjects, markKey, readProject } from '../projects/project-fixtures';
import { ensureBuilt, makeTree, notebookJson, removeTree, runCli, runJson } from './cli-harness';

before(ensureBuilt);

/** A copy of a fixture project in a temporary folder, for `fix`. */
function copyProject(name: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-project-'));
  fs.cpSync(readProject(name).dir, root, { recursive: true });
  return root;
}

describe('loss-lens check on fixture projects (imports between the project files followed)', () => {
  for (const project of listProjects()) {
    it(`${project.name}: exactly the marked findings, with related locations in the other files`, () => {
      const { report } = runJson(['check', '.'], { cwd: project.dir });
      assert.deepEqual(report.errors, []);
      assert.equal(report.checked, project.files.length);
      const strip = (p: string) => p.replace(/^\.\//, '');
      const found = report.diagnostics.map((d) => markKey({ file: strip(d.path), cell: d.cell, line: d.line - 1, rule: d.rule })).sort();
      assert.deepEqual(found, project.expected.map(markKey).sort());
      for (const mark of project.related) {
        const hasRelated = report.diagnostics.some(
          (d) => d.rule === mark.rule && d.related.some((r) => strip(r.path) === mark.file && r.cell === mark.cell && r.line - 1 === mark.line),
        );
        assert.ok(hasRelated, `a ${mark.rule} finding relates to ${markKey(mark)}`);
      }
    });
  }

  it('a file given alone still sees the modules it imports; the related path is relative to the working directory', () => {
    const project = readProject('softmax-in-model');
    const parent = path.dirname(project.dir);
    const { status, report } = runJson(['check', path.join(project.name, 'train.py')], { cwd: parent });
    assert.equal(status, 1);
    assert.equal(report.checked, 1);
    assert.deepEqual(
      report.diagnostics.map((d) => [d.path, d.line, d.rule, d.related.map((r) => [r.path, r.line, r.message])]),
      [[path.join(project.name, 'train.py'), 12, 'softmax-before-cross-entropy', [[path.join(project.name, 'model.py'), 11, 'softmax applied here']]]],
    );
  });

  it('an absolute path given: places in other checked files keep the path they were found under', () => {
    const project = readProject('sigmoid-head');
    const { report } = runJson(['check', project.dir], { cwd: os.tmpdir() });
    const [finding] = report.diagnostics;
    assert.equal(finding.path, path.join(project.dir, 'trainer.py'));
    assert.equal(finding.related[0].path, path.join(project.dir, 'heads/cls.py'));
  });

  it('a chain of imports deeper than the bound: the analysis ends, says so in a note, and finds nothing it cannot see', () => {
    // m0 calls m1.make() at its top level, which calls m2.make(), ... m11 returns a softmax.
    const depth = 12;
    const files: Record<string, string> = { 'pyproject.toml': '', 'train.py': 'import torch\nimport torch.nn as nn\nfrom m0 import OUT\nloss = nn.CrossEntropyLoss()(OUT, torch.tensor([1]))\n' };
    for (let i = 0; i < depth - 1; i++) files[`m${i}.py`] = `from m${i + 1} import make, OUT as NEXT\nOUT = NEXT\n\n\ndef make():\n    return make()\n`;
    files[`m${depth - 1}.py`] = 'import torch\nimport torch.nn.functional as F\nOUT = F.softmax(torch.randn(1, 3), dim=1)\n\n\ndef make():\n    return OUT\n';
    const root = makeTree(files);
    try {
      const { report } = runJson(['check', 'train.py'], { cwd: root, timeoutMs: 20_000 });
      assert.deepEqual(report.diagnostics, []);
      assert.deepEqual(report.notes.map((note) => [note.path, note.kind, note.message]), [['train.py', 'imports-limited', 'imports nested deeper than 8 modules were not followed']]);
    } finally {
      removeTree(root);
    }
  });

  it('a package that star-imports 70 submodules: names are read without running them all, so the 70th is followed', () => {
    const files: Record<string, string> = { 'pyproject.toml': '' };
    files['pkg/__init__.py'] = Array.from({ length: 70 }, (_, i) => `from .m${i} import *\n`).join('');
    for (let i = 0; i < 70; i++) {
      const output = i === 69 ? 'F.softmax(self.fc(x), dim=1)' : 'self.fc(x)';
      files[`pkg/m${i}.py`] = `import torch.nn as nn\nimport torch.nn.functional as F\n\n__all__ = ["Head${i}"]\n\n\nclass Head${i}(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(8, 3)\n\n    def forward(self, x):\n        return ${output}\n\n\nclass _Private${i}:\n    pass\n`;
    }
    files['train.py'] = 'import torch\nimport torch.nn as nn\nfrom pkg import *\n\nloss = nn.CrossEntropyLoss()(Head69()(torch.randn(2, 8)), torch.tensor([0, 2]))\n';
    const root = makeTree(files);
    try {
      const { report } = runJson(['check', 'train.py'], { cwd: root });
      assert.deepEqual(report.diagnostics.map((d) => [d.rule, d.related[0]?.path, d.related[0]?.line]), [['softmax-before-cross-entropy', 'pkg/m69.py', 13]]);
      assert.deepEqual(report.notes, []);
    } finally {
      removeTree(root);
    }
  });

  it('the same chain within the bound is followed to the end', () => {
    const files: Record<string, string> = { 'pyproject.toml': '', 'train.py': 'import torch\nimport torch.nn as nn\nfrom m0 import OUT\nloss = nn.CrossEntropyLoss()(OUT, torch.tensor([1]))\n' };
    for (let i = 0; i < 5; i++) files[`m${i}.py`] = `from m${i + 1} import OUT as NEXT\nOUT = NEXT\n`;
    files['m5.py'] = 'import torch\nimport torch.nn.functional as F\nOUT = F.softmax(torch.randn(1, 3), dim=1)\n';
    const root = makeTree(files);
    try {
      const { report } = runJson(['check', 'train.py'], { cwd: root });
      assert.deepEqual(report.diagnostics.map((d) => [d.rule, d.related[0]?.path]), [['softmax-before-cross-entropy', 'm5.py']]);
      assert.deepEqual(report.notes, []);
    } finally {
      removeTree(root);
    }
  });

  it('two modules with the same text: the related location names the one the value came from', () => {
    const model = 'import torch.nn as nn\nimport torch.nn.functional as F\n\n\ndef head(x):\n    return F.softmax(x, dim=1)\n';
    const root = makeTree({
      'pyproject.toml': '',
      'copy_a.py': model,
      'copy_b.py': model,
      // copy_a is loaded first, copy_b after it: the finding on copy_a's value must still name copy_a.
      'train.py': 'import torch\nimport torch.nn as nn\nfrom copy_a import head as first\nfrom copy_b import head as second\n\np = first(torch.randn(2, 3))\nq = second(torch.randn(2, 3))\nloss = nn.CrossEntropyLoss()(p, torch.tensor([0, 1]))\n',
    });
    try {
      const { report } = runJson(['check', 'train.py'], { cwd: root });
      assert.deepEqual(report.diagnostics.map((d) => d.related.map((r) => [r.path, r.line])), [[['copy_a.py', 6]]]);
    } finally {
      removeTree(root);
    }
  });

  it('SARIF names the other file in the related location', () => {
    const project = readProject('softmax-in-model');
    const run = runCli(['check', '--format', 'sarif', 'train.py'], { cwd: project.dir });
    const sarif = JSON.parse(run.stdout) as { runs: { results: { relatedLocations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
    const related = sarif.runs[0].results[0].relatedLocations.map((l) => l.physicalLocation.artifactLocation.uri);
    assert.ok(related.some((uri) => uri.endsWith('model.py')), related.join(', '));
  });
});

describe('loss-lens fix across files', () => {
  it('drops the softmax in the imported module when the program is its only importer, and the project is then clean', () => {
    const root = copyProject('softmax-in-model');
    try {
      const trainBefore = fs.readFileSync(path.join(root, 'train.py'), 'utf8');
      const run = runCli(['fix', 'train.py'], { cwd: root });
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /Fixed 1 finding/);
      assert.match(fs.readFileSync(path.join(root, 'model.py'), 'utf8'), /^ {8}return self\.fc\(x\) {2}# related/m);
      assert.equal(fs.readFileSync(path.join(root, 'train.py'), 'utf8'), trainBefore);
      assert.equal(runJson(['check', '.'], { cwd: root }).report.diagnostics.length, 0);
    } finally {
      removeTree(root);
    }
  });

  it('edits the Dataset in data.py (.float() becomes .long())', () => {
    const root = copyProject('float-labels');
    try {
      assert.equal(runCli(['fix', '.'], { cwd: root }).status, 0);
      assert.match(fs.readFileSync(path.join(root, 'data.py'), 'utf8'), /torch\.randint\(0, 10, \(size,\)\)\.long\(\)/);
    } finally {
      removeTree(root);
    }
  });

  it('offers no fix when other files import the module (their code would change too), and fix leaves every file as it was', () => {
    const root = copyProject('package-reexport');
    try {
      const { report } = runJson(['check', 'train_tagger.py'], { cwd: root });
      assert.equal(report.diagnostics.length, 1);
      assert.equal(report.diagnostics[0].fix, undefined);
      const modelsBefore = fs.readFileSync(path.join(root, 'pkg/models.py'), 'utf8');
      assert.equal(runCli(['fix', '.'], { cwd: root }).status, 1);
      assert.equal(fs.readFileSync(path.join(root, 'pkg/models.py'), 'utf8'), modelsBefore);
    } finally {
      removeTree(root);
    }
  });

  it('offers no fix when a notebook of the project imports the module too', () => {
    const root = copyProject('softmax-in-model');
    try {
      fs.writeFileSync(path.join(root, 'explore.ipynb'), notebookJson([{ source: 'from model import Classifier\nnet = Classifier(20, 5)\n' }]));
      const { report } = runJson(['check', 'train.py'], { cwd: root });
      assert.equal(report.diagnostics.length, 1);
      assert.equal(report.diagnostics[0].fix, undefined);
    } finally {
      removeTree(root);
    }
  });

  it('offers no fix when another method of the model reads forward (self(x) in predict)', () => {
    const root = copyProject('softmax-in-model');
    try {
      fs.appendFileSync(path.join(root, 'model.py'), '\n    def predict(self, x):\n        return self(x).argmax(dim=1)\n');
      const { report } = runJson(['check', 'train.py'], { cwd: root });
      assert.equal(report.diagnostics.length, 1);
      assert.equal(report.diagnostics[0].fix, undefined);
    } finally {
      removeTree(root);
    }
  });
});
