// `loss-lens fix` reads the captures `check` reads: the fix of a finding they refute is not applied (it would edit
// working code), and what remains shows the verdicts as `check` does.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import type { CaptureSource } from '../../server/src/captures/record';
import { captureOutput, classifierBatch, inlineRecord, writeCaptureFolder } from '../captures/captures';
import { ensureBuilt, makeTree, notebookJson, removeTree, runCli, runJson } from './cli-harness';

before(ensureBuilt);

const ROWS = 64;
const CLASSES = 10;
const { rawLogits, probabilities, target, asInput } = classifierBatch(ROWS, CLASSES, 3);
const RULE = 'softmax-before-cross-entropy';

const SETUP = 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport loss_lens\n\ncriterion = nn.CrossEntropyLoss()\n';
const STEP_A = 'probs_a = F.softmax(model_a(x), dim=1)\nloss_a = criterion(probs_a, y)\n';
const STEP_B = 'probs_b = F.softmax(model_b(x), dim=1)\nloss_b = criterion(probs_b, y)\n';
const kernel = (cell: number, call: string): Partial<CaptureSource> => ({ via: 'kernel', cell, line: 1, call });

/** Every cell's source, joined. */
function sources(text: string): string[] {
  return (JSON.parse(text) as { cells: { source: string[] | string }[] }).cells.map((cell) => (Array.isArray(cell.source) ? cell.source.join('') : cell.source));
}

/** The notebook text with every cell's `source` value cut out: what `fix` must leave byte-identical. */
function skeleton(text: string): string {
  const cells = findNodeAtLocation(parseTree(text)!, ['cells'])!.children!;
  let result = text;
  for (let index = cells.length - 1; index >= 0; index--) {
    const source = findNodeAtLocation(cells[index], ['source'])!;
    result = `${result.slice(0, source.offset)}<source ${index}>${result.slice(source.offset + source.length)}`;
  }
  return result;
}

describe('loss-lens fix: captured tensors decide', () => {
  let root: string;
  const twoCalls = notebookJson([
    { source: SETUP },
    // "Inspect loss" on each call: the first saw raw logits (the static softmax finding is wrong), the second probabilities.
    { source: STEP_A, outputs: [captureOutput(inlineRecord({ id: 'raw-logits', input: asInput(rawLogits), target, source: kernel(1, 'criterion(probs_a, y)') }))] },
    { source: STEP_B, outputs: [captureOutput(inlineRecord({ id: 'softmaxed', input: asInput(probabilities), target, source: kernel(2, 'criterion(probs_b, y)') }))] },
  ]);
  // One cell with the capture under the call and other fixable findings above it: fixing them changes the cell, which
  // makes the capture stale for the next round (a helper capture records its cell's source), and moves the softmax
  // further than its own length.
  const SIGMOIDS = 'bce_a = F.binary_cross_entropy_with_logits(torch.sigmoid(z_a), t_a)\nbce_b = F.binary_cross_entropy_with_logits(torch.sigmoid(z_b), t_b)\n';
  const sameCell = `${SIGMOIDS}loss = criterion(F.softmax(model(x), dim=1), y)\nloss_lens.capture(input=model(x), target=y, loss=criterion)\n`;
  const oneCell = notebookJson([
    { source: SETUP },
    { source: sameCell, outputs: [captureOutput(inlineRecord({ id: 'same-cell', input: asInput(rawLogits), target, source: { cellText: sameCell } }))] },
  ]);
  const staleCapture = notebookJson([
    { source: SETUP },
    { source: STEP_A, outputs: [captureOutput(inlineRecord({ id: 'old-code', input: asInput(rawLogits), target, source: { ...kernel(1, 'criterion(logits_a, y)') } }))] },
  ]);
  before(() => {
    root = makeTree({ 'two-calls.ipynb': twoCalls, 'same-cell.ipynb': oneCell, 'stale.ipynb': staleCapture });
  });
  after(() => removeTree(root));

  it('leaves the refuted call as it is, fixes the confirmed one, and keeps the notebook\'s JSON', () => {
    const before = runJson(['check', 'two-calls.ipynb'], { cwd: root }).report;
    assert.deepEqual(before.diagnostics.filter((d) => d.rule === RULE).map((d) => [d.cell, d.confirmation?.verdict, Boolean(d.fix)]), [[1, 'refuted', true], [2, 'confirmed', true]]);

    const { status, report } = runJson(['fix', 'two-calls.ipynb'], { cwd: root });
    const fixedText = fs.readFileSync(path.join(root, 'two-calls.ipynb'), 'utf8');
    assert.deepEqual(sources(fixedText), [SETUP, STEP_A, 'probs_b = model_b(x)\nloss_b = criterion(probs_b, y)\n']);
    assert.equal(report.fixed, 1);
    // Outputs (the captures themselves), metadata, key order, indentation: byte-identical.
    assert.equal(skeleton(fixedText), skeleton(twoCalls));
    // What remains shows the refuted finding with its verdict, as `check` does.
    const remaining = report.diagnostics.filter((d) => d.rule === RULE);
    assert.deepEqual(remaining.map((d) => [d.cell, d.severity, d.confirmation?.verdict, d.confirmation?.capture]), [[1, 'information', 'refuted', 'raw-logits']]);
    assert.equal(status, 1, 'an information finding still counts, as for check');
    // Run again: nothing more to fix, the refuted call still untouched.
    const again = runCli(['fix', 'two-calls.ipynb'], { cwd: root });
    assert.match(again.stdout, /information softmax-before-cross-entropy .*\n(?: {4}.*\n)* {4}capture raw-logits: refuted by captured tensors/);
    assert.doesNotMatch(again.stdout, /Fixed/, 'nothing applied');
    assert.equal(fs.readFileSync(path.join(root, 'two-calls.ipynb'), 'utf8'), fixedText);
  });

  it('keeps a refuted fix out in later rounds, when fixing another finding made its capture stale', () => {
    const { report } = runJson(['fix', 'same-cell.ipynb'], { cwd: root });
    const [, cell] = sources(fs.readFileSync(path.join(root, 'same-cell.ipynb'), 'utf8'));
    // The sigmoids went; the softmax the capture refuted stayed.
    assert.equal(cell, sameCell.replace(/torch\.sigmoid\((z_[ab])\)/g, '$1'));
    assert.match(cell, /criterion\(F\.softmax\(model\(x\), dim=1\), y\)/);
    assert.equal(report.fixed, 2);
    // The cell changed since the capture: what remains says so (capture again before fixing it).
    assert.equal(report.diagnostics.find((d) => d.rule === RULE)?.confirmation?.verdict, 'stale');
  });

  it('fixes a finding whose capture is stale as if there were no capture', () => {
    const { report } = runJson(['fix', 'stale.ipynb'], { cwd: root });
    assert.equal(report.fixed, 1);
    assert.deepEqual(sources(fs.readFileSync(path.join(root, 'stale.ipynb'), 'utf8')), [SETUP, 'probs_a = model_a(x)\nloss_a = criterion(probs_a, y)\n']);
  });
});

describe('loss-lens fix: a script\'s captures in .loss-lens/captures', () => {
  const script = 'import torch.nn as nn\nimport torch.nn.functional as F\n\ncriterion = nn.CrossEntropyLoss()\n\n\ndef step(model, x, y):\n    probs = F.softmax(model(x), dim=1)\n    loss = criterion(probs, y)\n    return loss\n';
  let root: string;
  before(() => {
    root = makeTree({ 'refuted/train.py': script, 'confirmed/train.py': script });
    for (const [folder, input] of [['refuted', rawLogits], ['confirmed', probabilities]] as const) {
      const file = path.join(root, folder, 'train.py');
      writeCaptureFolder(path.join(root, folder, '.loss-lens', 'captures'), { id: `watch-${folder}`, input: asInput(input), target, source: { file, line: 8, lineText: 'loss = criterion(probs, y)' } });
    }
  });
  after(() => removeTree(root));

  it('leaves a refuted script as it is and fixes a confirmed one', () => {
    const { report } = runJson(['fix', 'refuted/train.py', 'confirmed/train.py'], { cwd: root });
    assert.equal(fs.readFileSync(path.join(root, 'refuted', 'train.py'), 'utf8'), script);
    assert.equal(fs.readFileSync(path.join(root, 'confirmed', 'train.py'), 'utf8'), script.replace('F.softmax(model(x), dim=1)', 'model(x)'));
    assert.equal(report.fixed, 1);
    assert.equal(report.diagnostics.find((d) => d.rule === RULE)?.confirmation?.verdict, 'refuted');
  });
});
