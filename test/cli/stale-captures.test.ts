// A capture describes the code that produced its tensors. Once that code changes anywhere above the captured call
// (the softmax removed in an earlier cell, by the user or by `loss-lens fix`), the capture is stale: its run-time
// findings must not be reported on the code that is now correct, and the static findings carry no figures from it.
// Comment and whitespace edits keep it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CliDiagnostic } from '../../server/src/cli/report';
import { codeHash } from '../../server/src/captures/fingerprint';
import type { CaptureSource } from '../../server/src/captures/record';
import { captureOutput, classifierBatch, inlineRecord, writeCaptureFolder } from '../captures/captures';
import { ensureBuilt, makeTree, notebookJson, removeTree, runCli, runJson } from './cli-harness';

before(ensureBuilt);

const ROWS = 64;
const CLASSES = 10;
const { probabilities, target, asInput } = classifierBatch(ROWS, CLASSES, 5);
const input = asInput(probabilities);
const RULE = 'softmax-before-cross-entropy';

const SETUP = 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport loss_lens\n\ncriterion = nn.CrossEntropyLoss()\n';
const FORWARD = 'probs = F.softmax(model(x), dim=1)\n';
const STEP = 'loss = criterion(probs, y)\n';
const CAPTURE_CELL = 'loss_lens.capture(input=probs, target=y, loss=criterion)\n';

/** The fingerprint the helper records in IPython: the cells the kernel ran. */
const ran = (...cells: string[]): string[] => cells.map((cell) => codeHash(cell)!);

/** Setup, the softmax, the call, and the helper's capture cell below it (as the user ran them). */
function helperNotebook(setup: string, forward: string, source: Partial<CaptureSource>): string {
  return notebookJson([
    { source: setup },
    { source: forward },
    { source: STEP },
    { source: CAPTURE_CELL, outputs: [captureOutput(inlineRecord({ id: 'helper-capture', input, target, source }))] },
  ]);
}

const helperRecorded = { cellText: CAPTURE_CELL, codeHashes: ran(SETUP, FORWARD, STEP, CAPTURE_CELL) };

/** "Inspect loss" on the call: the extension records the Python cells up to the call's. */
function kernelNotebook(forward: string): string {
  const source: Partial<CaptureSource> = { via: 'kernel', cell: 2, line: 0, call: 'criterion(probs, y)', codeHashes: ran(SETUP, FORWARD, STEP) };
  return notebookJson([{ source: SETUP }, { source: forward }, { source: STEP, outputs: [captureOutput(inlineRecord({ id: 'kernel-capture', input, target, source }))] }]);
}

function cells(file: string): string[] {
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: { source: string[] | string }[] }).cells.map((cell) => (Array.isArray(cell.source) ? cell.source.join('') : cell.source));
}

function fromCapture(diagnostics: CliDiagnostic[]): CliDiagnostic[] {
  return diagnostics.filter((diagnostic) => diagnostic.source === 'capture' || diagnostic.confirmation !== undefined);
}

describe('loss-lens check/fix: a capture is stale once the code it came from changed', () => {
  let root: string;
  before(() => {
    root = makeTree({
      'helper.ipynb': helperNotebook(SETUP, FORWARD, helperRecorded),
      'kernel.ipynb': kernelNotebook(FORWARD),
      'commented.ipynb': helperNotebook(SETUP, `# the model's scores, as probabilities\n${FORWARD.replace('\n', '   # per class\n')}\n`, helperRecorded),
      'setup-edited.ipynb': helperNotebook(SETUP.replace('nn.CrossEntropyLoss()', 'nn.CrossEntropyLoss(label_smoothing=0.1)'), FORWARD, helperRecorded),
    });
  });
  after(() => removeTree(root));

  it('reports nothing from an "Inspect loss" capture after fix removed the softmax in an earlier cell', () => {
    const before = runJson(['check', 'kernel.ipynb'], { cwd: root }).report;
    assert.deepEqual(fromCapture(before.diagnostics).map((d) => [d.rule, d.cell, d.confirmation?.verdict, d.confirmation?.capture]), [[RULE, 2, 'confirmed', 'kernel-capture']]);

    const fixed = runCli(['fix', 'kernel.ipynb'], { cwd: root });
    assert.match(fixed.stdout, /Fixed 1 finding/);
    assert.deepEqual(cells(path.join(root, 'kernel.ipynb')), [SETUP, 'probs = model(x)\n', STEP]);
    // The captured rows still sum to one, but the code no longer makes them so: not "rows sum to one (on the tensors of capture ...)".
    assert.doesNotMatch(fixed.stdout, /capture/);
    assert.equal(fixed.status, 0, fixed.stdout);

    const after = runJson(['check', 'kernel.ipynb'], { cwd: root });
    assert.deepEqual(after.report.diagnostics, []);
    assert.equal(after.status, 0);
  });

  it('reports nothing from a helper capture once the user removed the softmax in an earlier cell', () => {
    const before = runJson(['check', 'helper.ipynb'], { cwd: root }).report;
    assert.deepEqual(fromCapture(before.diagnostics).map((d) => [d.rule, d.cell, d.confirmation?.verdict, d.confirmation?.capture]), [[RULE, 2, 'confirmed', 'helper-capture']]);

    fs.writeFileSync(path.join(root, 'helper.ipynb'), helperNotebook(SETUP, 'probs = model(x)\n', helperRecorded));
    const after = runJson(['check', 'helper.ipynb'], { cwd: root });
    assert.deepEqual(after.report.diagnostics, []);
    assert.equal(after.status, 0);
  });

  it('keeps the capture through a comment and whitespace edit of an earlier cell', () => {
    const { report } = runJson(['check', 'commented.ipynb'], { cwd: root });
    assert.deepEqual(fromCapture(report.diagnostics).map((d) => [d.rule, d.confirmation?.verdict]), [[RULE, 'confirmed']]);
  });

  it('marks the static finding stale, with no figures, when another cell above changed', () => {
    const { report } = runJson(['check', 'setup-edited.ipynb'], { cwd: root });
    const found = fromCapture(report.diagnostics);
    assert.deepEqual(found.map((d) => [d.rule, d.source, d.severity, d.confirmation?.verdict, d.confirmation?.configured]), [[RULE, 'static', 'error', 'stale', null]]);
    assert.match(found[0].confirmation!.message!, /helper-capture is stale/);
  });
});

describe('loss-lens check: a script\'s capture in .loss-lens/captures is stale once the script changed', () => {
  const SCRIPT = 'import torch.nn as nn\nimport torch.nn.functional as F\n\ncriterion = nn.CrossEntropyLoss()\n\n\ndef forward(model, x):\n    return F.softmax(model(x), dim=1)\n\n\ndef step(model, x, y):\n    probs = forward(model, x)\n    loss = criterion(probs, y)\n    return loss\n';
  let root: string;
  let script: string;
  before(() => {
    root = makeTree({ 'train.py': SCRIPT });
    script = path.join(root, 'train.py');
    // What loss_lens.watch records: the call's file, line and text, and the fingerprint of the script.
    writeCaptureFolder(path.join(root, '.loss-lens', 'captures'), { id: 'watched', input, target, source: { file: script, line: 12, lineText: 'loss = criterion(probs, y)', codeHashes: [codeHash(SCRIPT)!] } });
  });
  after(() => removeTree(root));

  const check = (text: string) => {
    fs.writeFileSync(script, text);
    return runJson(['check', 'train.py'], { cwd: root }).report.diagnostics;
  };

  it('confirms while the script is the one that ran, comments and blank lines aside', () => {
    assert.deepEqual(fromCapture(check(SCRIPT)).map((d) => [d.rule, d.confirmation?.verdict]), [[RULE, 'confirmed']]);
    const commented = SCRIPT.replace('def forward(model, x):\n', '# the model, as probabilities\n\ndef forward(model, x):  # scores\n');
    assert.deepEqual(fromCapture(check(commented)).map((d) => [d.rule, d.confirmation?.verdict]), [[RULE, 'confirmed']]);
  });

  it('reports nothing from the capture once the softmax in another function is gone', () => {
    assert.deepEqual(check(SCRIPT.replace('return F.softmax(model(x), dim=1)', 'return model(x)')), []);
  });
});
