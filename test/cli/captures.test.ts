import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CliDiagnostic } from '../../server/src/cli/report';
import { captureOutput, classifierBatch, crossEntropy, inlineRecord, writeCaptureFolder } from '../captures/captures';
import { ensureBuilt, makeTree, notebookJson, removeTree, repoRoot, runCli, runJson } from './cli-harness';

before(ensureBuilt);

const ROWS = 64;
const CLASSES = 10;
const { rawLogits, probabilities, truth, target, asInput } = classifierBatch(ROWS, CLASSES);
const outOfRange = { dtype: 'int64' as const, shape: [ROWS], data: BigInt64Array.from(truth, (label, row) => BigInt(row === 5 ? CLASSES + 2 : label)) };

const SETUP = 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport loss_lens\n\ncriterion = nn.CrossEntropyLoss()\n';
const SOFTMAX_STEP = 'probs = F.softmax(model(x), dim=1)\nloss = criterion(probs, y)\n';
const CAPTURE_CELL = 'loss_lens.capture(input=probs, target=y, loss=criterion)\n';

/** A notebook whose third cell holds the capture output. */
function notebook(step: string, capture: ReturnType<typeof inlineRecord>, captureCell = CAPTURE_CELL): string {
  return notebookJson([{ source: SETUP }, { source: step }, { source: captureCell, outputs: [captureOutput(capture)] }]);
}

function only(diagnostics: CliDiagnostic[], rule: string): CliDiagnostic {
  const found = diagnostics.filter((diagnostic) => diagnostic.rule === rule);
  assert.equal(found.length, 1, `one ${rule} in ${JSON.stringify(diagnostics.map((d) => d.rule))}`);
  return found[0];
}

describe('loss-lens check: captures saved in a notebook', () => {
  let root: string;
  before(() => {
    root = makeTree({
      'confirmed.ipynb': notebook(SOFTMAX_STEP, inlineRecord({ id: 'probs-capture', input: asInput(probabilities), target })),
      'refuted.ipynb': notebook(SOFTMAX_STEP, inlineRecord({ id: 'logits-capture', input: asInput(rawLogits), target })),
      'hidden.ipynb': notebook(
        'from mylib import predict_proba\nout = predict_proba(x)\nloss = criterion(out, y)\n',
        inlineRecord({ id: 'hidden-capture', input: asInput(probabilities), target }),
        'loss_lens.capture(input=out, target=y, loss=criterion)\n',
      ),
      'stale.ipynb': notebook(SOFTMAX_STEP, inlineRecord({ id: 'old-capture', input: asInput(probabilities), target, source: { cellText: 'loss_lens.capture(input=old_probs, target=y, loss=criterion)\n' } })),
      'fresh.ipynb': notebook(SOFTMAX_STEP, inlineRecord({ id: 'fresh-capture', input: asInput(probabilities), target, source: { cellText: CAPTURE_CELL } })),
      // Two cross-entropy calls above the capture: it may be of the plain one.
      'ambiguous.ipynb': notebookJson([
        { source: SETUP },
        { source: 'loss_a = criterion(model_a(x), y)\n' },
        { source: SOFTMAX_STEP },
        { source: CAPTURE_CELL, outputs: [captureOutput(inlineRecord({ id: 'which-call', input: asInput(rawLogits), target }))] },
      ]),
      'ambiguous-hidden.ipynb': notebookJson([
        { source: SETUP },
        { source: 'loss_a = criterion(model_a(x), y)\n' },
        { source: 'loss_b = criterion(model_b(x), y)\n' },
        { source: CAPTURE_CELL, outputs: [captureOutput(inlineRecord({ id: 'out-of-range', input: asInput(rawLogits), target: outOfRange }))] },
      ]),
      'certain-hidden.ipynb': notebookJson([
        { source: SETUP },
        { source: 'loss_b = criterion(model_b(x), y)\n' },
        { source: CAPTURE_CELL, outputs: [captureOutput(inlineRecord({ id: 'out-of-range', input: asInput(rawLogits), target: outOfRange }))] },
      ]),
    });
  });
  after(() => removeTree(root));

  it('confirms a finding with the loss as configured, as corrected and the gradient ratio', () => {
    const { status, report } = runJson(['check', 'confirmed.ipynb'], { cwd: root });
    assert.equal(status, 1);
    const finding = only(report.diagnostics, 'softmax-before-cross-entropy');
    assert.equal(finding.source, 'static');
    assert.equal(finding.severity, 'error');
    const confirmation = finding.confirmation!;
    assert.equal(confirmation.verdict, 'confirmed');
    assert.equal(confirmation.capture, 'probs-capture');
    assert.deepEqual(confirmation.checks, ['input-rows-sum-to-one']);
    // As configured: cross-entropy on the probabilities; corrected: on their log, i.e. on the logits (softmax(log p) = p).
    assert.ok(Math.abs(confirmation.configured! - crossEntropy(probabilities, CLASSES, truth)) < 1e-5);
    assert.ok(Math.abs(confirmation.corrected! - crossEntropy(rawLogits, CLASSES, truth)) < 1e-4);
    // The double softmax flattens the scores: its gradient reaching the logits is much smaller.
    assert.ok(confirmation.gradientNormRatio! > 0 && confirmation.gradientNormRatio! < 0.5, String(confirmation.gradientNormRatio));
    // The input rows are probabilities, so the run-time check counts as the static finding's and is not reported twice.
    assert.equal(report.diagnostics.filter((diagnostic) => diagnostic.rule === 'input-rows-sum-to-one').length, 0);
    // Nor is the loss near ln(C), which is what the double softmax does.
    assert.equal(report.diagnostics.filter((diagnostic) => diagnostic.rule === 'loss-near-uniform').length, 0);
  });

  it('adds one line under a confirmed finding in the text output', () => {
    const run = runCli(['check', '--ignore', 'class-imbalance', 'confirmed.ipynb'], { cwd: root });
    const lines = run.stdout.split('\n');
    const at = lines.findIndex((line) => line.includes('softmax-before-cross-entropy'));
    const under = lines.slice(at + 1).find((line) => line.includes('capture probs-capture'));
    assert.match(under ?? '', /^ {4}capture probs-capture: confirmed on captured tensors: loss \d\.\d+, on the logits \d\.\d+; gradients \d+\.\dx smaller/);
  });

  it('refutes a finding when the captured input is raw logits, lowering it to information', () => {
    const { report } = runJson(['check', 'refuted.ipynb'], { cwd: root });
    const finding = only(report.diagnostics, 'softmax-before-cross-entropy');
    assert.equal(finding.severity, 'information');
    assert.equal(finding.confirmation!.verdict, 'refuted');
    assert.ok(Math.abs(finding.confirmation!.configured! - crossEntropy(rawLogits, CLASSES, truth)) < 1e-5);
    assert.equal(finding.confirmation!.corrected, null);
    assert.equal(finding.confirmation!.gradientNormRatio, null);
    const text = runCli(['check', 'refuted.ipynb'], { cwd: root }).stdout;
    assert.match(text, /information softmax-before-cross-entropy .*\n(?: {4}.*\n)* {4}capture logits-capture: refuted by captured tensors: the rows of the captured input do not sum to 1/);
  });

  it('does not lower a finding on a capture that may be of another call of the same loss', () => {
    const finding = only(runJson(['check', 'ambiguous.ipynb'], { cwd: root }).report.diagnostics, 'softmax-before-cross-entropy');
    assert.equal(finding.severity, 'error');
    assert.equal(finding.confirmation?.verdict, 'inconclusive');
    assert.match(finding.confirmation!.message, /may be of another call of this loss/);
    // Nor does it put a run-time finding on a call it may not be of; when it is the only call, it does.
    assert.deepEqual(runJson(['check', 'ambiguous-hidden.ipynb'], { cwd: root }).report.diagnostics, []);
    assert.equal(only(runJson(['check', 'certain-hidden.ipynb'], { cwd: root }).report.diagnostics, 'target-out-of-range').source, 'capture');
  });

  it('reports a run-time check the static analysis could not see, at the loss call\'s input argument', () => {
    const { status, report } = runJson(['check', 'hidden.ipynb'], { cwd: root });
    assert.equal(status, 1);
    assert.ok(!report.diagnostics.some((diagnostic) => diagnostic.source === 'static'), 'the softmax is hidden in mylib');
    const finding = only(report.diagnostics, 'input-rows-sum-to-one');
    assert.equal(finding.source, 'capture');
    assert.equal(finding.severity, 'warning');
    assert.deepEqual([finding.cell, finding.line, finding.column, finding.endColumn], [1, 3, 18, 21]); // `out` in criterion(out, y)
    assert.match(finding.message, /already softmaxed.*capture hidden-capture/);
    assert.deepEqual(finding.related.map((related) => related.cell), [2]);
    // --ignore and --select apply to them like to any rule.
    assert.equal(runJson(['check', '--ignore', 'input-rows-sum-to-one,class-imbalance,loss-near-uniform', 'hidden.ipynb'], { cwd: root }).status, 0);
  });

  it('marks the findings of a capture taken before its cell changed as stale, and uses a fresh one', () => {
    const stale = only(runJson(['check', 'stale.ipynb'], { cwd: root }).report.diagnostics, 'softmax-before-cross-entropy');
    assert.equal(stale.confirmation!.verdict, 'stale');
    assert.equal(stale.severity, 'error');
    assert.equal(stale.confirmation!.configured, null);
    assert.match(runCli(['check', 'stale.ipynb'], { cwd: root }).stdout, /^(?!.*capture old-capture)[\s\S]*$/, 'no verdict line for a stale capture');
    const fresh = only(runJson(['check', 'fresh.ipynb'], { cwd: root }).report.diagnostics, 'softmax-before-cross-entropy');
    assert.equal(fresh.confirmation!.verdict, 'confirmed');
  });

  it('carries the confirmation and the source in SARIF result properties', () => {
    const sarif = JSON.parse(runCli(['check', '--format', 'sarif', 'confirmed.ipynb', 'hidden.ipynb'], { cwd: root }).stdout);
    const results = sarif.runs[0].results as { ruleId: string; properties: { source: string; confirmation?: { verdict: string; capture: string } } }[];
    const confirmed = results.find((result) => result.ruleId === 'softmax-before-cross-entropy')!;
    assert.equal(confirmed.properties.source, 'static');
    assert.equal(confirmed.properties.confirmation?.verdict, 'confirmed');
    assert.equal(confirmed.properties.confirmation?.capture, 'probs-capture');
    assert.equal(results.find((result) => result.ruleId === 'input-rows-sum-to-one')?.properties.source, 'capture');
  });
});

describe('loss-lens check: captures of a script in .loss-lens/captures', () => {
  const script = 'import torch.nn as nn\nimport torch.nn.functional as F\n\ncriterion = nn.CrossEntropyLoss()\n\n\ndef step(model, x, y):\n    probs = F.softmax(model(x), dim=1)\n    loss = criterion(probs, y)\n    return loss\n';
  let root: string;
  before(() => {
    root = makeTree({ 'project/train.py': script, 'project/other.py': script });
    const captures = path.join(root, 'project', '.loss-lens', 'captures');
    const source = (file: string, lineText = 'loss = criterion(probs, y)') => ({ file: path.join(root, 'project', file), line: 8, lineText });
    writeCaptureFolder(captures, { id: 'watch-train', input: asInput(probabilities), target, source: source('train.py') });
    // Older captures of the same call give way to the latest.
    writeCaptureFolder(captures, { id: 'watch-train-older', input: asInput(rawLogits), target, source: source('train.py'), createdAt: '2025-01-01T00:00:00+00:00' });
    writeCaptureFolder(captures, { id: 'watch-other', input: asInput(probabilities), target, source: source('other.py', 'loss = criterion(old_probs, y)') });
  });
  after(() => removeTree(root));

  it('confirms with the capture that names the script, matched by file and line', () => {
    const finding = only(runJson(['check', 'project/train.py'], { cwd: root }).report.diagnostics, 'softmax-before-cross-entropy');
    assert.equal(finding.confirmation?.verdict, 'confirmed');
    assert.equal(finding.confirmation?.capture, 'watch-train');
  });

  it('finds the captures from a folder above too, and calls a capture of a changed line stale', () => {
    const { report } = runJson(['check', '.'], { cwd: path.join(root, 'project') });
    const other = report.diagnostics.find((diagnostic) => diagnostic.path.endsWith('other.py') && diagnostic.rule === 'softmax-before-cross-entropy');
    assert.equal(other?.confirmation?.verdict, 'stale');
    assert.equal(other?.confirmation?.capture, 'watch-other');
  });

  it('notes a capture folder it cannot read and still checks the file', () => {
    const broken = path.join(root, 'project', '.loss-lens', 'captures', 'broken');
    fs.mkdirSync(broken, { recursive: true });
    fs.writeFileSync(path.join(broken, 'manifest.json'), '{"format": "something-else"}');
    try {
      const run = runCli(['check', 'project/train.py'], { cwd: root });
      assert.equal(run.status, 1);
      assert.match(run.stderr, /capture folder .*broken cannot be read: not a Loss Lens capture/);
      assert.match(run.stdout, /capture watch-train: confirmed/);
    } finally {
      fs.rmSync(broken, { recursive: true });
    }
  });
});

describe('loss-lens check: verdicts on targets and binary losses', () => {
  const SETUP_TARGETS = 'import torch\nimport torch.nn as nn\nimport loss_lens\n\ncriterion = nn.CrossEntropyLoss()\n';
  const floatTarget = { dtype: 'float32' as const, shape: [ROWS], data: Float32Array.from(truth) };
  const multiHot = { dtype: 'float32' as const, shape: [ROWS, CLASSES], data: new Float32Array(ROWS * CLASSES).map((_, i) => (i % CLASSES === 0 || i % CLASSES === 3 ? 1 : 0)) };
  let root: string;
  before(() => {
    const floatStep = 'labels = torch.randint(0, 10, (64,)).float()\nloss = criterion(model(x), labels)\n';
    const captureCell = 'loss_lens.capture(input=model(x), target=labels, loss=criterion)\n';
    const withCapture = (step: string, record: ReturnType<typeof inlineRecord>) =>
      notebookJson([{ source: SETUP_TARGETS }, { source: step }, { source: captureCell, outputs: [captureOutput(record)] }]);
    root = makeTree({
      'float-confirmed.ipynb': withCapture(floatStep, inlineRecord({ id: 'float-target', input: asInput(rawLogits), target: floatTarget })),
      'float-refuted.ipynb': withCapture(floatStep, inlineRecord({ id: 'long-target', input: asInput(rawLogits), target })),
      'multi-hot.ipynb': withCapture('labels = load_labels()\nloss = criterion(model(x), labels)\n', inlineRecord({ id: 'multi-hot', input: asInput(rawLogits), target: multiHot })),
    });
    fs.cpSync(path.join(repoRoot, 'examples', 'notebooks'), path.join(root, 'examples'), { recursive: true });
  });
  after(() => removeTree(root));

  it('confirms float class indices when the captured target is float with whole numbers, refutes them when it is int64', () => {
    const confirmed = only(runJson(['check', 'float-confirmed.ipynb'], { cwd: root }).report.diagnostics, 'float-class-index-target');
    assert.equal(confirmed.confirmation?.verdict, 'confirmed');
    assert.deepEqual(confirmed.confirmation?.checks, ['target-float-integers']);
    // PyTorch reads a float target of shape [N] as class probabilities it cannot be: it raises, and the figures say so.
    assert.equal(confirmed.confirmation?.configured, null);
    assert.match(confirmed.confirmation!.message, /^confirmed on captured tensors: PyTorch raises: /);
    const refuted = only(runJson(['check', 'float-refuted.ipynb'], { cwd: root }).report.diagnostics, 'float-class-index-target');
    assert.equal(refuted.confirmation?.verdict, 'refuted');
    assert.equal(refuted.severity, 'information');
    assert.match(refuted.confirmation!.message, /the captured target holds int64 class indices/);
  });

  it('reports a multi-hot target the code does not show, at the input argument', () => {
    const { report } = runJson(['check', 'multi-hot.ipynb'], { cwd: root });
    const finding = only(report.diagnostics, 'target-multi-hot');
    assert.equal(finding.source, 'capture');
    assert.equal(finding.severity, 'error');
    assert.deepEqual([finding.cell, finding.line, finding.column], [1, 2, 18]);
  });

  it('confirms both example notebooks with PyTorch\'s loss as configured', () => {
    const { report } = runJson(['check', 'examples'], { cwd: root });
    for (const rule of ['softmax-before-cross-entropy', 'sigmoid-before-bce-with-logits']) {
      const finding = only(report.diagnostics, rule);
      const notebook = fs.readFileSync(path.join(root, finding.path), 'utf8');
      const torchLoss = Number(/loss = ([\d.]+)/.exec(notebook)![1]);
      assert.equal(finding.confirmation?.verdict, 'confirmed', rule);
      assert.ok(Math.abs(finding.confirmation!.configured! - torchLoss) < 1e-5 * torchLoss, `${finding.confirmation!.configured} vs PyTorch ${torchLoss}`);
      assert.ok(finding.confirmation!.corrected! < finding.confirmation!.configured!, rule);
      assert.ok(finding.confirmation!.gradientNormRatio! < 1, rule);
    }
  });
});
