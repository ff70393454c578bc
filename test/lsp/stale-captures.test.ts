// The server re-publishes a notebook's findings when a cell changes; a capture taken before an edit to the code it
// came from (a cell above the captured call) no longer confirms anything, and its run-time findings go.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Diagnostic } from 'vscode-languageserver-protocol';
import { codeHash } from '../../server/src/captures/fingerprint';
import { CapturesNotification } from '../../server/src/protocol';
import { inlineRecord, labels, logits, softmaxRows } from '../captures/captures';
import { LspTestClient } from './harness';

const ROWS = 32;
const CLASSES = 10;
const probabilities = softmaxRows(logits(ROWS, CLASSES, 11), CLASSES);
const input = { dtype: 'float32' as const, shape: [ROWS, CLASSES], data: probabilities };
const target = { dtype: 'int64' as const, shape: [ROWS], data: BigInt64Array.from(labels(ROWS, CLASSES), BigInt) };

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
});
