// The extension-host pieces that need no VS Code: "Insert into code" text edits, validation of webview
// messages, pairing captures with loss calls, the element limit, and the code "Inspect loss" runs in the
// kernel, executed here in a real Python (Debian's python3-torch) with the notebook's variables defined.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LossCallSite } from '../../server/src/analysis/types';
import { KernelCaptureError, capturedFolder, kernelCaptureCode, notebookCodeHashes } from '../../client/src/capture/kernel-code';
import { codeHash } from '../../server/src/captures/fingerprint';
import { currentCode, withModuleHashes } from '../../server/src/captures/match';
import { parseCaptureRecord, type CaptureRecord } from '../../client/src/capture/record';
import { limitElements, TooLargeError } from '../../client/src/capture/sample';
import { decodeCaptureTensors } from '../../client/src/capture/tensors';
import { withKeywordArgument } from '../../client/src/panel/insert';
import { matchCall } from '../../client/src/panel/match';
import { parseHostMessage, parseWebviewMessage, type PanelCapture, type PanelLossCall } from '../../client/src/panel/messages';
import { decodeTransferred, tensorsForWebview, withoutTensorBytes } from '../../client/src/panel/transfer';
import { encodeNpy } from '../../server/src/tensors/npy';
import { computeCapturedLoss } from '../../client/src/panel/webview/compute';

const root = path.resolve(__dirname, '../..');
const python = '/usr/bin/python3';
const noTorch = spawnSync(python, ['-c', 'import torch, numpy']).status === 0 ? false : `${python} cannot import torch (install python3-torch)`;

describe('Insert into code', () => {
  const code = 'torch.tensor([0.5, 2.0])';
  it('adds the keyword to an empty constructor', () => {
    assert.equal(withKeywordArgument('nn.CrossEntropyLoss()', 'weight', code), `nn.CrossEntropyLoss(weight=${code})`);
  });
  it('appends after existing arguments, keeping layout and comments', () => {
    assert.equal(withKeywordArgument('nn.CrossEntropyLoss(ignore_index=255)', 'weight', code), `nn.CrossEntropyLoss(ignore_index=255, weight=${code})`);
    assert.equal(
      withKeywordArgument('nn.BCEWithLogitsLoss(\n    reduction="mean",  # keep the mean (really)\n)', 'pos_weight', code),
      `nn.BCEWithLogitsLoss(\n    reduction="mean", pos_weight=${code}  # keep the mean (really)\n)`,
    );
  });
  it('replaces the keyword when it is there, leaving strings with commas and parentheses alone', () => {
    assert.equal(
      withKeywordArgument("F.cross_entropy(out, y, reduction='sum, (no)', weight=w[:, 0], ignore_index=-1)", 'weight', code),
      `F.cross_entropy(out, y, reduction='sum, (no)', weight=${code}, ignore_index=-1)`,
    );
  });
  it('replaces the last argument before its comment', () => {
    assert.equal(withKeywordArgument('nn.NLLLoss(\n    weight=w,  # old\n)', 'weight', code), `nn.NLLLoss(\n    weight=${code},  # old\n)`);
    assert.equal(withKeywordArgument('nn.NLLLoss(weight=w  # old\n)', 'weight', code), `nn.NLLLoss(weight=${code}  # old\n)`);
  });
  it('gives up on text without a complete call', () => {
    assert.equal(withKeywordArgument('nn.CrossEntropyLoss(', 'weight', code), undefined);
    assert.equal(withKeywordArgument('criterion', 'weight', code), undefined);
  });
});

describe('messages from the webview', () => {
  it('accepts the typed messages', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'insertCode', callId: '3:2:7', keyword: 'pos_weight', code: 'torch.tensor([3.5, 1.0, 12.25])' }),
      { type: 'insertCode', callId: '3:2:7', keyword: 'pos_weight', code: 'torch.tensor([3.5, 1.0, 12.25])' });
    assert.deepEqual(parseWebviewMessage({ type: 'analyse', requestId: 4, captureId: 'seg', findings: ['softmax-before-cross-entropy'], maxElements: 65536, extra: 1 }),
      { type: 'analyse', requestId: 4, captureId: 'seg', findings: ['softmax-before-cross-entropy'], maxElements: 65536 });
    assert.deepEqual(parseWebviewMessage({ type: 'requestTensors', requestId: 5, captureId: 'seg', maxElements: 65536, path: '/etc/passwd' }),
      { type: 'requestTensors', requestId: 5, captureId: 'seg', maxElements: 65536 });
  });
  it('refuses anything else: unknown types, other keywords, code that is not a tensor of numbers', () => {
    for (const message of [
      null, 'ready', { type: 'eval', code: '1' },
      { type: 'insertCode', callId: '1', keyword: 'reduction', code: 'torch.tensor([1.0])' },
      { type: 'insertCode', callId: '1', keyword: 'weight', code: 'torch.tensor([1.0]); import os; os.system("rm -rf ~")' },
      { type: 'insertCode', callId: '1', keyword: 'weight', code: '__import__("os").system("x")' },
      { type: 'error', message: 'x'.repeat(5000) },
      { type: 'analyse', requestId: 1.5, captureId: 'seg', findings: [] },
      { type: 'analyse', requestId: 1, captureId: 'x'.repeat(65), findings: [] },
      { type: 'analyse', requestId: 1, captureId: 'seg', findings: 'softmax-before-cross-entropy' },
      { type: 'analyse', requestId: 1, captureId: 'seg', findings: new Array(65).fill('rule') },
      { type: 'analyse', requestId: 1, captureId: 'seg', findings: [], maxElements: 0 },
      { type: 'requestTensors', requestId: '1', captureId: 'seg' },
      { type: 'requestTensors', requestId: 1, captureId: 'x'.repeat(65) },
      { type: 'requestTensors', requestId: 1, captureId: 'seg', maxElements: -1 },
    ]) assert.equal(parseWebviewMessage(message), undefined, JSON.stringify(message)?.slice(0, 80));
  });
  it('the webview refuses a show message with a malformed capture, and tensors that are not .npy bytes of known roles', () => {
    assert.equal(parseHostMessage({ type: 'show', notebook: null, calls: [], captures: [{ record: { format: 'loss-lens-capture', version: 1 } }], maxElements: 10 }), undefined);
    assert.equal(parseHostMessage({ type: 'show', notebook: null, calls: [], captures: [{ record: {}, stale: 'yes' }], maxElements: 10 }), undefined);
    assert.ok(parseHostMessage({ type: 'tensors', requestId: 1, files: { input: new Uint8Array(8), target: new Uint8Array(8) } }));
    assert.deepEqual(parseHostMessage({ type: 'tensors', requestId: 1, error: 'gone' }), { type: 'tensors', requestId: 1, error: 'gone' });
    for (const message of [
      { type: 'tensors', requestId: 1, files: { input: 'AAAA' } },
      { type: 'tensors', requestId: 1, files: { script: new Uint8Array(8) } },
      { type: 'tensors', requestId: 1 },
    ]) assert.equal(parseHostMessage(message), undefined, JSON.stringify(message));
  });
});

describe('tensors sent to the webview on request', () => {
  const input = { dtype: 'float32' as const, shape: [100, 10], data: new Float32Array(1000).map((_, i) => i) };
  const target = { dtype: 'int64' as const, shape: [100], data: BigInt64Array.from({ length: 100 }, (_, i) => BigInt(i % 10)) };
  const inline = (tensor: Parameters<typeof encodeNpy>[0]): string => Buffer.from(encodeNpy(tensor)).toString('base64');
  const record = parseCaptureRecord({
    format: 'loss-lens-capture', version: 1, id: 'rows', createdAt: '2026-01-01T00:00:00+00:00', loss: 'cross_entropy', framework: 'pytorch', options: {}, source: { via: 'helper' },
    tensors: { input: { dtype: 'float32', shape: [100, 10], data: inline(input) }, target: { dtype: 'int64', shape: [100], file: 'target.npy' } },
  });
  const held: PanelCapture = { record, cell: 2, files: { target: encodeNpy(target) } };

  it('show carries the record and the shapes, no bytes', () => {
    const shown = withoutTensorBytes(held);
    assert.equal(shown.tensorsOnRequest, true);
    assert.equal(shown.files, undefined);
    assert.deepEqual(shown.record.tensors.input, { dtype: 'float32', shape: [100, 10], file: 'input.npy' });
    assert.deepEqual(shown.record.tensors.target, { dtype: 'int64', shape: [100], file: 'target.npy' });
    assert.deepEqual(parseCaptureRecord(shown.record), shown.record, 'still a valid record');
    assert.ok(held.record.tensors.input.data, 'the host keeps its bytes');
  });

  it('the whole tensors under the limit, the first rows past it; the webview checks them against the record', () => {
    const whole = tensorsForWebview(held, 50_000_000);
    assert.equal(whole.note, undefined);
    assert.equal(whole.files.target, held.files!.target, 'folder bytes go as held');
    const decoded = decodeTransferred(withoutTensorBytes(held).record, whole.files);
    assert.deepEqual(decoded.input.data, input.data);
    const slice = tensorsForWebview(held, 255);
    assert.match(slice.note!, /first 25 of 100 rows/);
    const rows = decodeTransferred(record, slice.files);
    assert.deepEqual([rows.input.shape, rows.target.shape], [[25, 10], [25]]);
    assert.equal(rows.input.data[249], 249);
    assert.throws(() => decodeTransferred(record, { input: slice.files.input, target: whole.files.target }), /different rows/);
    assert.throws(() => decodeTransferred(record, { input: whole.files.target, target: whole.files.target }), /the record says is float32\[100, 10\]/);
    assert.throws(() => decodeTransferred(record, { input: whole.files.input }), /no bytes for the target/);
  });
});

describe('pairing captures with calls', () => {
  const calls: PanelLossCall[] = [
    { id: '1:3:7', loss: 'cross_entropy', cell: 1, line: 3, text: 'criterion(p, y)', options: {}, findings: [], editable: true },
    { id: '1:9:7', loss: 'binary_cross_entropy_with_logits', cell: 1, line: 9, text: 'bce(s, t)', options: {}, findings: [], editable: true },
    { id: '4:0:0', loss: 'cross_entropy', cell: 4, line: 0, text: 'F.cross_entropy(a, b)', options: {}, findings: [], editable: true },
  ];
  const record = (loss: string, source: CaptureRecord['source']): CaptureRecord =>
    ({ format: 'loss-lens-capture', version: 1, id: 'x', createdAt: '', loss, framework: 'pytorch', options: {}, source, tensors: {} }) as unknown as CaptureRecord;
  it('uses the kernel capture\'s cell and line', () => {
    assert.equal(matchCall({ record: record('binary_cross_entropy_with_logits', { via: 'kernel', cell: 1, line: 9 }) }, calls)?.callId, '1:9:7');
  });
  it('pairs a helper capture in a later cell with the nearest call of the same loss above it', () => {
    assert.equal(matchCall({ record: record('cross_entropy', { via: 'helper' }), cell: 3 }, calls)?.callId, '1:3:7');
    assert.equal(matchCall({ record: record('cross_entropy', { via: 'helper' }), cell: 4 }, calls)?.callId, '4:0:0');
  });
  it('marks a capture stale, as the diagnostics do, when a cell up to its call changed since it was taken', () => {
    const cells = ['import torch.nn.functional as F\n', 'p = F.softmax(model(x), dim=1)\nloss = criterion(p, y)\n', 'print(loss)\n', 'loss_lens.capture(input=p, target=y, loss=criterion)\n'];
    const capture = { record: record('cross_entropy', { via: 'helper', codeHashes: cells.map((cell) => codeHash(cell)!) }), cell: 3 };
    const now = (edited: string[]) => currentCode(edited.map((text, cell) => ({ cell, text })));
    assert.deepEqual(matchCall(capture, calls, now(cells)), { callId: '1:3:7', stale: false, certain: true });
    assert.equal(matchCall(capture, calls, now(cells.map((cell) => `${cell}# reviewed\n`)))?.stale, false);
    assert.equal(matchCall(capture, calls, now([cells[0], 'p = model(x)\nloss = criterion(p, y)\n', cells[2], cells[3]]))?.stale, true);
    // A cell below the capture is not code its tensors came from.
    assert.equal(matchCall(capture, calls, now([...cells, 'p = None\n']))?.stale, false);
  });
  it('marks a capture stale when a project module its code imported changed, from the hashes the server lists', () => {
    const cells = ['from model import Net\nmodel = Net()\n', 'loss = criterion(model(x), y)\n', 'print(loss)\n', 'loss_lens.capture(input=model(x), target=y, loss=criterion)\n'];
    const MODEL = 'class Net(nn.Module):\n    def forward(self, x):\n        return F.softmax(self.fc(x), dim=1)\n';
    const capture = { record: record('cross_entropy', { via: 'helper', codeHashes: [...cells, MODEL].map((code) => codeHash(code)!) }), cell: 3 };
    const now = (moduleHashes: (string | null)[]) => withModuleHashes(currentCode(cells.map((text, cell) => ({ cell, text }))), moduleHashes);
    assert.equal(matchCall(capture, calls, now([codeHash(MODEL)!]))?.stale, false);
    assert.equal(matchCall(capture, calls, now([codeHash(MODEL.replace('F.softmax(self.fc(x), dim=1)', 'self.fc(x)'))!]))?.stale, true);
    assert.equal(matchCall(capture, calls, now(['']))?.stale, true, 'a module the server cannot read counts as changed');
    assert.equal(matchCall(capture, calls, now([null]))?.stale, false, 'a module without code is not counted');
  });
});

describe('element limit', () => {
  const tensors = {
    input: { dtype: 'float32' as const, shape: [100, 10], data: new Float32Array(1000).map((_, i) => i) },
    target: { dtype: 'int64' as const, shape: [100], data: new BigInt64Array(100) },
  };
  it('keeps everything under the limit', () => {
    assert.equal(limitElements(tensors, 1000).note, undefined);
  });
  it('keeps the first rows of input and target alike, as views', () => {
    const limited = limitElements(tensors, 255);
    assert.deepEqual(limited.tensors.input.shape, [25, 10]);
    assert.deepEqual(limited.tensors.target.shape, [25]);
    assert.equal(limited.tensors.input.data[249], 249);
    assert.equal(limited.tensors.input.data.buffer, tensors.input.data.buffer);
    assert.match(limited.note!, /first 25 of 100 rows/);
  });
  it('refuses when one row alone is past the limit', () => {
    assert.throws(() => limitElements(tensors, 5), TooLargeError);
  });
});

describe('"Inspect loss" kernel code', () => {
  const site = (overrides: Partial<LossCallSite>): LossCallSite => ({
    loss: 'cross_entropy', framework: 'pytorch',
    location: { cell: 2, range: { start: { line: 4, character: 7 }, end: { line: 4, character: 40 } } },
    inputExpression: 'model(x)[:, :3]', targetExpression: 'y',
    options: {}, inputFacts: [], targetFacts: [], ...overrides,
  });
  const helperSource = fs.readFileSync(path.join(root, 'python/loss_lens/__init__.py'), 'utf8');

  it('refuses losses it cannot evaluate, pointing at the helper', () => {
    assert.throws(() => kernelCaptureCode({ call: site({ loss: 'keras:sparse_categorical_crossentropy', framework: 'keras' }), callText: 'loss_fn(y, p)', cell: 0, notebook: 'n', folder: '/tmp', helperSource }),
      (error: unknown) => error instanceof KernelCaptureError && /loss_lens\.capture/.test(error.message));
    assert.throws(() => kernelCaptureCode({ call: site({ inputExpression: undefined }), callText: 'f(a, b)', cell: 0, notebook: 'n', folder: '/tmp', helperSource }), KernelCaptureError);
  });

  it('evaluates the call\'s arguments in the notebook namespace and writes a capture PyTorch agrees with', { skip: noTorch }, async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-kernel-'));
    try {
      // The notebook's Python code cells up to the call's (cell 2) are its fingerprint; markdown, other languages,
      // empty cells and the cells below are not.
      const codeHashes = notebookCodeHashes([
        { index: 0, python: true, text: 'import torch\nmodel = nn.Linear(5, 4)\n' },
        { index: 1, python: false, text: '# Training\n' },
        { index: 2, python: true, text: 'loss = criterion(model(x)[:, :3], y)\n' },
        { index: 3, python: true, text: '# nothing yet\n' },
        { index: 4, python: true, text: 'print(loss)\n' },
      ], 3);
      assert.deepEqual(codeHashes, [codeHash('import torch\nmodel = nn.Linear(5, 4)\n'), codeHash('loss = criterion(model(x)[:, :3], y)\n')]);
      const moduleCall = kernelCaptureCode({
        call: site({ constructorLocation: { cell: 1, range: { start: { line: 0, character: 12 }, end: { line: 0, character: 60 } } } }),
        callText: 'criterion(model(x)[:, :3], y)', cell: 2, notebook: 'file:///nb.ipynb', folder, helperSource, codeHashes,
      });
      const functionalCall = kernelCaptureCode({
        call: site({ loss: 'binary_cross_entropy_with_logits', inputExpression: 's', targetExpression: 't', options: { pos_weight: 'pw * 2', reduction: "'sum'" } }),
        callText: 'F.binary_cross_entropy_with_logits(s, t, pos_weight=pw * 2, reduction="sum")', cell: 3, notebook: 'file:///nb.ipynb', folder, helperSource,
      });
      // What the notebook's earlier cells defined, then the two generated snippets as the kernel would run them.
      const script = [
        'import json, torch, torch.nn as nn, torch.nn.functional as F',
        'torch.manual_seed(3)',
        'model = nn.Linear(5, 4)',
        'x = torch.randn(16, 5)',
        'y = torch.randint(0, 3, (16,))',
        'criterion = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]), label_smoothing=0.05)',
        's = torch.randn(8, 3, requires_grad=True)',
        't = (torch.rand(8, 3) > 0.5).float()',
        'pw = torch.tensor([1.0, 3.0, 0.5])',
        'before = None',
        'before = set(globals())',
        moduleCall,
        functionalCall,
        'assert set(globals()) == before, "the capture code left names behind"',
        'print("EXPECTED " + json.dumps([criterion(model(x)[:, :3], y).item(), F.binary_cross_entropy_with_logits(s, t, pos_weight=pw * 2, reduction="sum").item()]))',
      ].join('\n');
      const run = spawnSync(python, ['-c', script], { encoding: 'utf8', cwd: os.tmpdir() });
      assert.equal(run.status, 0, run.stderr);
      const folders = run.stdout.split('\n').filter((line) => line.startsWith('LOSS_LENS_CAPTURE ')).map((line) => capturedFolder(line));
      const expected = JSON.parse(/^EXPECTED (.*)$/m.exec(run.stdout)![1]) as number[];
      assert.equal(folders.length, 2);
      for (const [index, captureFolder] of folders.entries()) {
        const record = parseCaptureRecord(JSON.parse(fs.readFileSync(path.join(captureFolder!, 'manifest.json'), 'utf8')));
        assert.equal(record.source.via, 'kernel');
        assert.equal(record.source.cell, 2 + index);
        // The extension's fingerprint is the record's, not the kernel's history (there is none outside IPython here).
        assert.deepEqual(record.source.codeHashes, index === 0 ? codeHashes : undefined);
        const tensors = decodeCaptureTensors(record, (file) => new Uint8Array(fs.readFileSync(path.join(captureFolder!, file))));
        const { result } = await computeCapturedLoss(record, tensors, 'js');
        assert.ok(Math.abs(result.value! - expected[index]) <= 1e-5 * Math.abs(expected[index]), `${result.value} vs PyTorch ${expected[index]}`);
      }
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
