// The server under a storm of random edits, and at its edges: malformed requests, hostile documents, no transport.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { LspTestClient, NotebookCellSpec, REPO_ROOT, SERVER_BUNDLE } from './harness';
import { comparableDiagnostics, randomChange, seededRandom } from './random-edits';
import { TRAIN_NOTEBOOK, TRAIN_PY, rulesOf } from './sources';

describe('LSP: robustness', () => {
  let client: LspTestClient;
  before(async () => {
    client = await LspTestClient.start({ debounceMs: 2 });
  });
  after(async () => {
    await client.stop();
  });

  it('survives 300 random edits to a file and ends with the diagnostics of a fresh open of the final text', async () => {
    const random = seededRandom(20261126);
    const uri = 'file:///work/random.py';
    let mark = client.statuses.length;
    await client.openText(uri, TRAIN_PY.repeat(3));
    await client.waitForReady(uri, 1, mark);
    mark = client.statuses.length;
    let version = 1;
    for (let edit = 0; edit < 300; edit++) {
      const document = client.documents.get(uri)!;
      version = await client.changeText(uri, [randomChange(random, document.getText(), (offset) => document.positionAt(offset))]);
    }
    await client.waitForReady(uri, version, mark);
    assert.ok(client.alive);

    const freshUri = 'file:///work/random-fresh.py';
    mark = client.statuses.length;
    await client.openText(freshUri, client.documents.get(uri)!.getText());
    await client.waitForReady(freshUri, 1, mark);
    assert.deepEqual(comparableDiagnostics(client.diagnostics.get(uri)), comparableDiagnostics(client.diagnostics.get(freshUri)));
  });

  it('survives 200 random edits across notebook cells and ends with the diagnostics of a fresh open', async () => {
    const random = seededRandom(7);
    const notebook = 'file:///work/random.ipynb';
    let mark = client.statuses.length;
    const cells = await client.openNotebook(notebook, TRAIN_NOTEBOOK);
    await client.waitForReady(notebook, 1, mark);
    mark = client.statuses.length;
    let version = 1;
    const codeCells = cells.filter((_, index) => TRAIN_NOTEBOOK[index].kind === 'code');
    for (let edit = 0; edit < 200; edit++) {
      const cell = codeCells[Math.floor(random() * codeCells.length)];
      const document = client.documents.get(cell)!;
      version = await client.changeCell(notebook, cell, [randomChange(random, document.getText(), (offset) => document.positionAt(offset))]);
    }
    await client.waitForReady(notebook, version, mark);

    const finalCells: NotebookCellSpec[] = cells.map((cell, index) => ({ kind: TRAIN_NOTEBOOK[index].kind, text: client.documents.get(cell)!.getText() }));
    const freshNotebook = 'file:///work/random-fresh.ipynb';
    mark = client.statuses.length;
    const freshCells = await client.openNotebook(freshNotebook, finalCells);
    await client.waitForReady(freshNotebook, 1, mark);
    cells.forEach((cell, index) => {
      assert.deepEqual(comparableDiagnostics(client.diagnostics.get(cell)), comparableDiagnostics(client.diagnostics.get(freshCells[index])), `cell ${index}`);
    });
  });

  it('answers malformed and unknown-document requests without dying', async () => {
    assert.equal(await client.hover('file:///work/never-opened.py', 0, 0), null);
    assert.deepEqual(await client.codeActions('file:///work/never-opened.py', []), []);
    const uri = 'file:///work/malformed.py';
    const mark = client.statuses.length;
    await client.openText(uri, TRAIN_PY);
    await client.waitForReady(uri, 1, mark);
    // No `context`: the handler throws inside; the guard logs it and answers an empty list.
    const answer = await client.connection.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } });
    assert.deepEqual(answer, []);
    await client.waitFor('the error in the log', () => client.logs.some((line) => line.includes('codeAction failed')));
    assert.ok(client.alive);
  });

  it('keeps serving other documents after a hostile one', async () => {
    const hostile = 'file:///work/hostile.py';
    const nesting = 3000;
    const text = `x = ${'('.repeat(nesting)}1${')'.repeat(nesting)}\n\u0000\ud800 = F.softmax(\n` + 'y = [' + '[1,'.repeat(2000) + '\n';
    let mark = client.statuses.length;
    await client.openText(hostile, text);
    await client.waitForReady(hostile, 1, mark);
    const healthy = 'file:///work/after-hostile.py';
    mark = client.statuses.length;
    await client.openText(healthy, TRAIN_PY);
    await client.waitForReady(healthy, 1, mark);
    assert.deepEqual(rulesOf(client.diagnostics.get(healthy)), ['float-class-index-target', 'softmax-before-cross-entropy']);
  });

  it('explains how to start it when no transport is given', () => {
    const result = spawnSync(process.execPath, [SERVER_BUNDLE], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 10_000 });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--stdio/);
  });
});
