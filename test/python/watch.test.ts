// `loss_lens.watch` under Debian's /usr/bin/python3 + python3-torch: a training script wraps its loss, runs, and
// leaves captures beside itself; the engine reads them back, and `loss-lens check` confirms the script's finding.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCaptureRecord, type CaptureRecord } from '../../server/src/captures/record';
import { decodeCaptureTensors } from '../../server/src/captures/tensors';
import { computeLoss } from '../../server/src/losses/engine';
import { codeHash } from '../../server/src/captures/fingerprint';
import { requestFor } from '../../server/src/captures/recompute';
import { ensureBuilt, runJson } from '../cli/cli-harness';

const root = path.resolve(__dirname, '../..');
const python = '/usr/bin/python3';
const skip = spawnSync(python, ['-c', 'import torch, numpy']).status === 0 ? false : `${python} cannot import torch and numpy (install python3-torch python3-numpy)`;

const SCRIPT = `import json
import warnings
import torch
import torch.nn as nn
import torch.nn.functional as F
import loss_lens

torch.manual_seed(0)
criterion = loss_lens.watch(nn.CrossEntropyLoss(label_smoothing=0.1))
every_third = loss_lens.watch(F.cross_entropy, every=3)
plain = nn.CrossEntropyLoss(label_smoothing=0.1)
model = nn.Linear(6, 4)
values = []
for step in range(7):
    x = torch.randn(16, 6)
    y = torch.randint(0, 4, (16,))
    probs = F.softmax(model(x), dim=1)
    loss = criterion(probs, y)
    values.append([loss.item(), plain(probs, y).item()])
    every_third(model(x), y, reduction="sum")
first = criterion.loss_lens_watcher.captures[0]
# A capture folder that cannot be made (its parent is a file): the call still returns the loss.
open("not-a-folder", "w").close()
broken = loss_lens.watch(nn.CrossEntropyLoss(), folder="not-a-folder/captures")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    unwritten = broken(torch.zeros(2, 3), torch.tensor([0, 1])).item()
print(json.dumps({
    "values": values,
    "firstCapture": first["folder"],
    "firstValue": values[0][0],
    "counts": [criterion.loss_lens_watcher.calls, len(criterion.loss_lens_watcher.captures), len(every_third.loss_lens_watcher.captures)],
    "everyThird": [record["folder"] for record in every_third.loss_lens_watcher.captures],
    "smoothing": criterion.label_smoothing,
    "repr": repr(criterion),
    "unwritten": unwritten,
    "warnings": [str(warning.message) for warning in caught],
}))
`;

interface ScriptOutput {
  values: [number, number][];
  firstCapture: string;
  firstValue: number;
  counts: number[];
  everyThird: string[];
  smoothing: number;
  repr: string;
  unwritten: number;
  warnings: string[];
}

function readFolder(folder: string): CaptureRecord {
  return parseCaptureRecord(JSON.parse(fs.readFileSync(path.join(folder, 'manifest.json'), 'utf8')));
}

describe('python/loss_lens watch', { skip }, () => {
  let workDir = '';
  let output: ScriptOutput;
  before(() => {
    ensureBuilt();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-watch-'));
    fs.writeFileSync(path.join(workDir, 'train.py'), SCRIPT);
    const run = spawnSync(python, ['train.py'], { cwd: workDir, encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.join(root, 'python'), LOSS_LENS_CAPTURE_DIR: '' } });
    assert.equal(run.status, 0, `train.py failed:\n${run.stderr}`);
    output = JSON.parse(run.stdout.split('\n').filter(Boolean).pop()!) as ScriptOutput;
  });
  after(() => fs.rmSync(workDir, { recursive: true, force: true }));

  it('returns what the loss returns and passes attributes through', () => {
    for (const [watched, plain] of output.values) assert.equal(watched, plain);
    assert.equal(output.smoothing, 0.1);
    assert.match(output.repr, /^loss_lens\.watch\(CrossEntropyLoss\(\)\)$/);
  });

  it('captures the first call by default and every Nth with every=N', () => {
    assert.deepEqual(output.counts, [7, 1, 3]); // calls 1, 4 and 7 of every_third
    assert.ok(output.firstCapture.startsWith(path.join(fs.realpathSync(workDir), '.loss-lens', 'captures')), output.firstCapture);
  });

  it('records the caller\'s file, line and line text, and the options of the object and of the call', async () => {
    const record = readFolder(output.firstCapture);
    assert.equal(fs.realpathSync(record.source.file!), fs.realpathSync(path.join(workDir, 'train.py')));
    assert.equal(record.source.line, 17); // 0-based: `loss = criterion(probs, y)`
    assert.equal(record.source.lineText, 'loss = criterion(probs, y)');
    assert.equal(record.options.labelSmoothing, 0.1);
    assert.equal(readFolder(output.everyThird[0]).options.reduction, 'sum');
    assert.equal(readFolder(output.everyThird[0]).source.lineText, 'every_third(model(x), y, reduction="sum")');
    // The captured tensors are those of the first call: the engine recomputes PyTorch's value from them.
    const tensors = decodeCaptureTensors(record, (file) => new Uint8Array(fs.readFileSync(path.join(output.firstCapture, file))));
    const result = await computeLoss(requestFor(record, tensors), { backend: 'js' });
    assert.ok(Math.abs(result.value! - output.firstValue) < 1e-5, `${result.value} vs PyTorch ${output.firstValue}`);
  });

  it('warns instead of failing when a call cannot be captured', () => {
    assert.ok(Math.abs(output.unwritten - Math.log(3)) < 1e-6, String(output.unwritten));
    assert.equal(output.warnings.length, 1);
    assert.match(output.warnings[0], /^loss_lens\.watch: the call at .*train\.py:\d+ was not captured: .*not-a-folder/);
  });

  it('lets loss-lens check confirm the script\'s finding from the captures beside it', () => {
    const { report } = runJson(['check', 'train.py'], { cwd: workDir });
    const finding = report.diagnostics.find((diagnostic) => diagnostic.rule === 'softmax-before-cross-entropy' && diagnostic.line === 18);
    assert.equal(finding?.confirmation?.verdict, 'confirmed', JSON.stringify(report.diagnostics, null, 1));
    assert.ok(Math.abs(finding!.confirmation!.configured! - output.firstValue) < 1e-5);
  });

  it('records the fingerprint of the script: a comment keeps the capture, the softmax removed on another line makes it stale', () => {
    assert.deepEqual(readFolder(output.firstCapture).source.codeHashes, [codeHash(SCRIPT)]);
    const script = path.join(workDir, 'train.py');
    const check = (text: string) => {
      fs.writeFileSync(script, text);
      return runJson(['check', 'train.py'], { cwd: workDir }).report.diagnostics;
    };
    try {
      const commented = check(SCRIPT.replace('model = nn.Linear(6, 4)\n', '# a small model\nmodel = nn.Linear(6, 4)  # 6 features\n'));
      assert.equal(commented.find((diagnostic) => diagnostic.rule === 'softmax-before-cross-entropy')?.confirmation?.verdict, 'confirmed');
      // The captured input still sums to one per row, but the code no longer makes it so: nothing of the capture shows.
      const fixed = check(SCRIPT.replace('probs = F.softmax(model(x), dim=1)', 'probs = model(x)'));
      assert.deepEqual(fixed.filter((diagnostic) => diagnostic.source === 'capture' || diagnostic.rule === 'softmax-before-cross-entropy'), []);
    } finally {
      fs.writeFileSync(script, SCRIPT);
    }
  });
});

/** A Python with IPython and NumPy (Debian's python3 may have no IPython; the one on PATH may). */
const ipython = ['/usr/bin/python3', 'python3'].find((candidate) => spawnSync(candidate, ['-c', 'import IPython, numpy']).status === 0);

describe('python/loss_lens capture in IPython records its cell and the code the kernel ran', { skip: ipython ? false : 'no Python with IPython and NumPy' }, () => {
  const MODEL_CELL = 'import torch.nn as nn\nimport torch.nn.functional as F\ncriterion = nn.CrossEntropyLoss()\nprobs = F.softmax(model(x), dim=1)\nloss = criterion(probs, y)\n';
  const CAPTURE_CELL = [
    'import numpy as np, loss_lens',
    'z = np.random.default_rng(0).standard_normal((16, 5)).astype(np.float32)',
    'p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)',
    'y = np.arange(16) % 5',
    'loss_lens.capture(input=p, target=y, loss="cross_entropy", save=False)',
  ].join('\n');
  let workDir = '';
  let record: CaptureRecord;
  before(() => {
    ensureBuilt();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-ipython-'));
    // The kernel runs both cells (this Python has no torch: the first fails at its first line, but it ran, and
    // IPython's history holds it as Jupyter's kernel would), then the helper displays its record (tensors inline),
    // as the notebook output would hold it.
    const script = `import json, loss_lens\nshown = []\nloss_lens._display = shown.append\nfrom IPython.core.interactiveshell import InteractiveShell\nshell = InteractiveShell.instance()\nshell.run_cell(${JSON.stringify(MODEL_CELL)}, store_history=True)\nshell.run_cell(${JSON.stringify(CAPTURE_CELL)}, store_history=True)\nprint(json.dumps(shown[0]))`;
    const run = spawnSync(ipython!, ['-c', script], { cwd: workDir, encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.join(root, 'python') } });
    assert.equal(run.status, 0, run.stderr);
    record = parseCaptureRecord(JSON.parse(run.stdout.trim().split('\n').pop()!));
  });
  after(() => fs.rmSync(workDir, { recursive: true, force: true }));

  it('records the source of the cell that ran it and the fingerprint of the cells run, so that check tells a fresh capture from a stale one', () => {
    assert.equal(record.source.cellText?.trimEnd(), CAPTURE_CELL);
    assert.deepEqual(record.source.codeHashes, [codeHash(MODEL_CELL), codeHash(CAPTURE_CELL)]);
    const notebook = (modelCell: string, captureCell: string, extra: string[] = []) => JSON.stringify({
      cells: [
        ...extra.map((source) => ({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source })),
        { cell_type: 'code', execution_count: 1, metadata: {}, outputs: [], source: modelCell },
        { cell_type: 'code', execution_count: 2, metadata: {}, source: captureCell, outputs: [{ output_type: 'display_data', metadata: {}, data: { 'application/vnd.loss-lens.capture+json': record } }] },
      ],
      metadata: { language_info: { name: 'python' } }, nbformat: 4, nbformat_minor: 5,
    });
    const cases: [string, string][] = [
      ['fresh', notebook(MODEL_CELL, CAPTURE_CELL)],
      ['capture-cell-edited', notebook(MODEL_CELL, CAPTURE_CELL.replace('np.exp(z) / ', 'z / '))],
      ['model-cell-commented', notebook(MODEL_CELL.replace('criterion = nn.CrossEntropyLoss()', '# the loss\ncriterion = nn.CrossEntropyLoss()  # plain'), CAPTURE_CELL)],
      ['model-cell-edited', notebook(MODEL_CELL.replace('nn.CrossEntropyLoss()', 'nn.CrossEntropyLoss(label_smoothing=0.1)'), CAPTURE_CELL)],
      ['cell-never-run', notebook(MODEL_CELL, CAPTURE_CELL, ['x = x[:8]\n'])],
    ];
    for (const [name, text] of cases) fs.writeFileSync(path.join(workDir, `${name}.ipynb`), text);
    const verdict = (name: string) => runJson(['check', `${name}.ipynb`], { cwd: workDir }).report.diagnostics.find((diagnostic) => diagnostic.rule === 'softmax-before-cross-entropy')?.confirmation?.verdict;
    assert.deepEqual(cases.map(([name]) => [name, verdict(name)]), [
      ['fresh', 'confirmed'],
      ['capture-cell-edited', 'stale'],
      ['model-cell-commented', 'confirmed'],
      ['model-cell-edited', 'stale'],
      ['cell-never-run', 'stale'],
    ]);
  });
});

describe('python/loss_lens watch records the project modules the script imported', { skip }, () => {
  const MODEL = 'import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(6, 4)\n\n    def forward(self, x):\n        return F.softmax(self.fc(x), dim=1)\n';
  const TRAIN = 'import torch\nimport torch.nn as nn\nimport loss_lens\nfrom model import Net\n\ntorch.manual_seed(0)\nmodel = Net()\ncriterion = loss_lens.watch(nn.CrossEntropyLoss())\nx = torch.randn(16, 6)\ny = torch.randint(0, 4, (16,))\nloss = criterion(model(x), y)\n';
  let workDir = '';
  before(() => {
    ensureBuilt();
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-modules-'));
    fs.writeFileSync(path.join(workDir, 'model.py'), MODEL);
    fs.writeFileSync(path.join(workDir, 'train.py'), TRAIN);
    const run = spawnSync(python, ['train.py'], { cwd: workDir, encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.join(root, 'python'), LOSS_LENS_CAPTURE_DIR: '' } });
    assert.equal(run.status, 0, `train.py failed:\n${run.stderr}`);
  });
  after(() => fs.rmSync(workDir, { recursive: true, force: true }));

  it('keeps the capture while model.py is as it ran, and reports nothing from it once fix removed the softmax there', () => {
    const [folder] = fs.readdirSync(path.join(workDir, '.loss-lens', 'captures'));
    const record = readFolder(path.join(workDir, '.loss-lens', 'captures', folder));
    assert.deepEqual(record.source.codeHashes, [codeHash(TRAIN), codeHash(MODEL)]);

    const before = runJson(['check', 'train.py'], { cwd: workDir }).report.diagnostics;
    assert.deepEqual(before.filter((d) => d.confirmation || d.source === 'capture').map((d) => [d.rule, d.confirmation?.verdict]), [['softmax-before-cross-entropy', 'confirmed']]);

    const { report } = runJson(['fix', 'train.py'], { cwd: workDir });
    assert.equal(report.fixed, 1);
    assert.doesNotMatch(fs.readFileSync(path.join(workDir, 'model.py'), 'utf8'), /softmax/);
    assert.equal(fs.readFileSync(path.join(workDir, 'train.py'), 'utf8'), TRAIN, 'the script itself is unchanged: only model.py tells the capture is stale');
    // The captured rows still sum to one; the code no longer makes them so.
    assert.deepEqual(report.diagnostics, []);
    assert.deepEqual(runJson(['check', 'train.py'], { cwd: workDir }).report.diagnostics, []);
  });
});
