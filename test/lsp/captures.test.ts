// Captures confirm the findings the server publishes: a notebook's, sent by the editor (`lossLens/captures`), and a
// script's, read from `.loss-lens/captures/` when the editor reports a change there (`workspace/didChangeWatchedFiles`).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Diagnostic, DiagnosticSeverity } from 'vscode-languageserver-protocol';
import { CapturesNotification } from '../../server/src/protocol';
import { classifierBatch, inlineRecord, writeCaptureFolder } from '../captures/captures';
import { LspTestClient } from './harness';

const ROWS = 32;
const CLASSES = 10;
const { rawLogits, probabilities, target, asInput } = classifierBatch(ROWS, CLASSES, 7);

const SETUP = 'import torch.nn as nn\nimport torch.nn.functional as F\ncriterion = nn.CrossEntropyLoss()\n';
const STEP = 'probs = F.softmax(model(x), dim=1)\nloss = criterion(probs, y)\n';
const CAPTURE_CELL = 'loss_lens.capture(input=probs, target=y, loss=criterion)\n';

function withRule(diagnostics: Diagnostic[] | undefined, rule: string): Diagnostic | undefined {
  return diagnostics?.find((diagnostic) => diagnostic.code === rule);
}

describe('LSP: captures confirm the findings', () => {
  let client: LspTestClient;
  let count = 0;
  before(async () => {
    client = await LspTestClient.start();
  });
  after(async () => {
    await client.stop();
  });

  async function openNotebook(step = STEP): Promise<{ notebook: string; cells: string[] }> {
    const notebook = `file:///work/captures-${++count}.ipynb`;
    const mark = client.statuses.length;
    const cells = await client.openNotebook(notebook, [{ kind: 'code', text: SETUP }, { kind: 'code', text: step }, { kind: 'code', text: CAPTURE_CELL }]);
    await client.waitForReady(notebook, 1, mark);
    return { notebook, cells };
  }

  it('re-publishes a finding with the figures once told of a capture, pointing at its output cell', async () => {
    const { notebook, cells } = await openNotebook();
    const before = withRule(client.diagnostics.get(cells[1]), 'softmax-before-cross-entropy');
    assert.ok(before);
    assert.doesNotMatch(before.message, /captured/);
    // The editor's cell index may count cells the server is not sent (VS Code sends Python cells only): the URI decides.
    await client.connection.sendNotification(CapturesNotification, { uri: notebook, captures: [{ cell: 4, cellUri: cells[2], record: inlineRecord({ id: 'lsp-probs', input: asInput(probabilities), target }) }] });
    const confirmed = await client.waitFor('the confirmed message', () => {
      const diagnostic = withRule(client.diagnostics.get(cells[1]), 'softmax-before-cross-entropy');
      return diagnostic && /confirmed on captured tensors: loss [\d.]+, on the logits [\d.]+; gradients [\d.]+x smaller/.test(diagnostic.message) && diagnostic;
    });
    assert.equal(confirmed.severity, DiagnosticSeverity.Error);
    assert.ok(confirmed.relatedInformation?.some((info) => info.location.uri === cells[2] && info.message === 'capture lsp-probs'), JSON.stringify(confirmed.relatedInformation));
  });

  it('lowers a refuted finding to information and says why', async () => {
    const { notebook, cells } = await openNotebook();
    await client.connection.sendNotification(CapturesNotification, { uri: notebook, captures: [{ cell: 2, record: inlineRecord({ id: 'lsp-logits', input: asInput(rawLogits), target }) }] });
    const refuted = await client.waitFor('the refuted finding', () => {
      const diagnostic = withRule(client.diagnostics.get(cells[1]), 'softmax-before-cross-entropy');
      return diagnostic?.severity === DiagnosticSeverity.Information && diagnostic;
    });
    assert.match(refuted.message, /refuted by captured tensors: the rows of the captured input do not sum to 1: these are raw logits/);
  });

  it('publishes a run-time check as a finding of its own, and keeps the capture through code changes', async () => {
    const { notebook, cells } = await openNotebook();
    await client.connection.sendNotification(CapturesNotification, { uri: notebook, captures: [{ cell: 2, record: inlineRecord({ id: 'lsp-kept', input: asInput(probabilities), target }) }] });
    await client.waitFor('the confirmation', () => /confirmed/.test(withRule(client.diagnostics.get(cells[1]), 'softmax-before-cross-entropy')?.message ?? ''));
    // The softmax goes out of sight of the analysis (a library call): the captured probabilities still say it.
    const mark = client.statuses.length;
    const version = await client.changeCell(notebook, cells[1], [{ range: { start: { line: 0, character: 8 }, end: { line: 0, character: 34 } }, text: 'mylib.predict(x)' }]);
    await client.waitForReady(notebook, version, mark);
    const runtime = await client.waitFor('the capture finding', () => withRule(client.diagnostics.get(cells[1]), 'input-rows-sum-to-one'));
    assert.equal(withRule(client.diagnostics.get(cells[1]), 'softmax-before-cross-entropy'), undefined);
    assert.equal(runtime.severity, DiagnosticSeverity.Warning);
    assert.deepEqual(runtime.range, { start: { line: 1, character: 17 }, end: { line: 1, character: 22 } }); // `probs` in criterion(probs, y)
    assert.match(runtime.message, /already softmaxed.*capture lsp-kept/);
    // Removing the capture output removes the finding.
    await client.connection.sendNotification(CapturesNotification, { uri: notebook, captures: [] });
    await client.waitFor('no capture finding', () => withRule(client.diagnostics.get(cells[1]), 'input-rows-sum-to-one') === undefined);
  });

  it('confirms a script\'s finding when loss_lens.watch writes a capture beside it', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-lsp-captures-'));
    try {
      const script = path.join(root, 'train.py');
      const text = `${SETUP}\n\ndef step(model, x, y):\n    probs = F.softmax(model(x), dim=1)\n    loss = criterion(probs, y)\n    return loss\n`;
      fs.writeFileSync(script, text);
      const uri = pathToFileURL(script).href;
      const mark = client.statuses.length;
      await client.openText(uri, text);
      await client.waitForReady(uri, 1, mark);
      assert.doesNotMatch(withRule(client.diagnostics.get(uri), 'softmax-before-cross-entropy')?.message ?? 'missing', /captured|missing/);
      const folder = writeCaptureFolder(path.join(root, '.loss-lens', 'captures'), {
        id: 'lsp-watch', input: asInput(probabilities), target, source: { file: script, line: 7, lineText: 'loss = criterion(probs, y)' },
      });
      await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(path.join(folder, 'manifest.json')).href, type: 1 }] });
      const confirmed = await client.waitFor('the script\'s confirmation', () => {
        const diagnostic = withRule(client.diagnostics.get(uri), 'softmax-before-cross-entropy');
        return diagnostic && /confirmed on captured tensors/.test(diagnostic.message) && diagnostic;
      });
      assert.ok(confirmed.relatedInformation?.some((info) => info.location.uri === pathToFileURL(path.join(folder, 'manifest.json')).href));
      await client.closeText(uri);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
