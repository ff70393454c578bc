// The server re-publishes a notebook's findings when a cell changes; a capture taken before an edit to the code it
// came from (a cell above the captured call) no longer confirms anything, and its run-time findings go.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Diagnostic, FileChangeType } from 'vscode-languageserver-protocol';
import { codeHash } from '../../server/src/captures/fingerprint';
import { CapturesNotification } from '../../server/src/protocol';
import { classifierBatch, inlineRecord, writeCaptureFolder } from '../captures/captures';
import { LspTestClient } from './harness';

const ROWS = 32;
const CLASSES = 10;
const { probabilities, target, asInput } = classifierBatch(ROWS, CLASSES, 11);
const input = asInput(probabilities);

const SETUP = 'import torch.nn as nn\nimport torch.nn.functional as F\nimport loss_lens\ncriterion = nn.CrossEntropyLoss()\n';
const FORWARD = 'probs = F.softmax(model(x), dim=1)\n';
const STEP = 'loss = criterion(probs, y)\n';
const CAPTURE_CELL = 'loss_lens.capture(input=probs, target=y, loss=criterion)\n';

function withRule(diagnostics: Diagnostic[] | undefined, rule: string): Diagnostic | undefined {
  return diagnostics?.find((diagnostic) => diagnostic.code === rule);
}

describe('LSP: a capture goes stale when a cell above its call changes', () => {
  let client: LspTestClient;
  before(async () => {
    client = await LspTestClient.start();
  });
  after(async () => {
    await client.stop();
  });

  it('keeps the confirmation through a comment, and drops every capture finding once the softmax cell is fixed', async () => {
    const notebook = 'file:///work/stale-capture.ipynb';
    let mark = client.statuses.length;
    const cells = await client.openNotebook(notebook, [SETUP, FORWARD, STEP, CAPTURE_CELL].map((text) => ({ kind: 'code' as const, text })));
    await client.waitForReady(notebook, 1, mark);
    // The helper's record: the capture cell's source and the cells the kernel ran.
    const record = inlineRecord({ id: 'lsp-stale', input, target, source: { cellText: CAPTURE_CELL, codeHashes: [SETUP, FORWARD, STEP, CAPTURE_CELL].map((cell) => codeHash(cell)!) } });
    await client.connection.sendNotification(CapturesNotification, { uri: notebook, captures: [{ cell: 3, cellUri: cells[3], record }] });
    await client.waitFor('the confirmation', () => /confirmed on captured tensors/.test(withRule(client.diagnostics.get(cells[2]), 'softmax-before-cross-entropy')?.message ?? ''));

    /** Edits the softmax cell, then waits for the publication that follows the captures' confirmation. */
    let current = FORWARD;
    const edit = async (text: string): Promise<Diagnostic[]> => {
      mark = client.statuses.length;
      const whole = { start: { line: 0, character: 0 }, end: { line: current.split('\n').length - 1, character: 0 } };
      const version = await client.changeCell(notebook, cells[1], [{ range: whole, text }]);
      current = text;
      await client.waitFor(`the confirmed analysis of v${version}`, () =>
        client.statuses.slice(mark).filter((status) => status.uri === notebook && status.state === 'ready' && (status.version ?? -1) >= version).length >= 2);
      return client.diagnostics.get(cells[2]) ?? [];
    };

    const commented = await edit(`# probabilities\n${FORWARD.replace('\n', '  # per class\n')}`);
    assert.match(withRule(commented, 'softmax-before-cross-entropy')?.message ?? '', /confirmed on captured tensors/);

    // The captured rows still sum to one, but nothing in the code makes them so now.
    const fixed = await edit('probs = model(x)\n');
    assert.deepEqual(fixed.map((diagnostic) => diagnostic.code), []);
  });

  it('drops a script\'s capture findings once the softmax goes from the project module it imported', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-lsp-stale-'));
    try {
      const MODEL = 'import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n    def forward(self, x):\n        return F.softmax(self.fc(x), dim=1)\n';
      const TRAIN = 'import torch.nn as nn\nfrom model import Net\n\nmodel = Net()\ncriterion = nn.CrossEntropyLoss()\nloss = criterion(model(x), y)\n';
      const modelFile = path.join(root, 'model.py');
      const script = path.join(root, 'train.py');
      fs.writeFileSync(modelFile, MODEL);
      fs.writeFileSync(script, TRAIN);
      // What loss_lens.watch records: the script and the project module it imported.
      writeCaptureFolder(path.join(root, '.loss-lens', 'captures'), { id: 'lsp-module', input, target, source: { file: script, line: 5, lineText: 'loss = criterion(model(x), y)', codeHashes: [codeHash(TRAIN)!, codeHash(MODEL)!] } });
      const uri = pathToFileURL(script).href;
      await client.openText(uri, TRAIN);
      await client.waitFor('the confirmation', () => /confirmed on captured tensors/.test(withRule(client.diagnostics.get(uri), 'softmax-before-cross-entropy')?.message ?? ''));

      const mark = client.statuses.length;
      fs.writeFileSync(modelFile, MODEL.replace('F.softmax(self.fc(x), dim=1)', 'self.fc(x)'));
      await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(modelFile).href, type: FileChangeType.Changed }] });
      // The new analysis, its static publication, then the one after the captures were matched again.
      await client.waitFor('the confirmed analysis after model.py changed', () => {
        const statuses = client.statuses.slice(mark).filter((status) => status.uri === uri);
        const analysing = statuses.findIndex((status) => status.state === 'analysing');
        return analysing >= 0 && statuses.slice(analysing).filter((status) => status.state === 'ready').length >= 2;
      });
      assert.deepEqual((client.diagnostics.get(uri) ?? []).map((diagnostic) => diagnostic.code), []);
      await client.closeText(uri);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('lists the hashes of a notebook\'s imported project modules with its loss calls, as they are on disk now (the panel\'s staleness)', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-lsp-module-hashes-'));
    try {
      const MODEL = 'import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n    def forward(self, x):\n        return F.softmax(self.fc(x), dim=1)  # probabilities\n';
      const modelFile = path.join(root, 'model.py');
      fs.writeFileSync(modelFile, MODEL);
      const notebook = pathToFileURL(path.join(root, 'train.ipynb')).href;
      await client.openNotebook(notebook, [{ kind: 'code', text: 'import torch.nn as nn\nfrom model import Net\n\nmodel = Net()\ncriterion = nn.CrossEntropyLoss()\nloss = criterion(model(x), y)\n' }]);
      await client.waitForReady(notebook, 1);
      const before = await client.lossCalls(notebook);
      assert.equal(before?.calls.length, 1);
      assert.deepEqual(before?.moduleHashes, [codeHash(MODEL)]);

      const fixed = MODEL.replace('F.softmax(self.fc(x), dim=1)', 'self.fc(x)');
      fs.writeFileSync(modelFile, fixed);
      const mark = client.statuses.length;
      await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(modelFile).href, type: FileChangeType.Changed }] });
      await client.waitFor('the analysis after model.py changed', () => client.statuses.slice(mark).some((status) => status.uri === notebook && status.state === 'ready'));
      const after = await client.lossCalls(notebook);
      assert.deepEqual(after?.moduleHashes, [codeHash(fixed)]);
      assert.notDeepEqual(after?.moduleHashes, before?.moduleHashes);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
