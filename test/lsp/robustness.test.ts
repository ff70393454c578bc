// The server under a storm of random edits, and at its edges: malformed requests, hostile documents, no transport.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Diagnostic } from 'vscode-languageserver-protocol';
import { LspTestClient, NotebookCellSpec, REPO_ROOT, SERVER_BUNDLE } from './harness';
import { TRAIN_NOTEBOOK, TRAIN_PY, rulesOf } from './sources';

/** mulberry32: a small seeded PRNG, so a failing sequence can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = ['probs', 'F.softmax(', ')', '\n', '.float()', '.long()', '    ', 'x = ', 'criterion(', ', dim=1', '#', '"', 'def f():\n    ', 'é', '🙂'];

/** A random insertion or deletion in `text`, as an LSP ranged change computed from offsets. */
function randomChange(random: () => number, text: string, positionAt: (offset: number) => { line: number; character: number }) {
  const at = Math.floor(random() * (text.length + 1));
  if (random() < 0.55 || text.length < 20) {
    const fragment = FRAGMENTS[Math.floor(random() * FRAGMENTS.length)];
    return { range: { start: positionAt(at), end: positionAt(at) }, text: fragment };
  }
  let end = Math.min(text.length, at + 1 + Math.floor(random() * 12));
  // Never split a surrogate pair: both sides would be left with half a character.
  const isLowSurrogate = (offset: number) => /[\udc00-\udfff]/.test(text.charAt(offset));
  const start = isLowSurrogate(at) ? at - 1 : at;
  if (isLowSurrogate(end)) end++;
  return { range: { start: positionAt(start), end: positionAt(end) }, text: '' };
}

/** Diagnostics without what depends on the URI they were published for, for comparing two documents with the same text. */
function comparable(diagnostics: readonly Diagnostic[] | undefined) {
  return (diagnostics ?? [])
    .map((diagnostic) => ({
      code: diagnostic.code,
      severity: diagnostic.severity,
      message: diagnostic.message,
      range: diagnostic.range,
      related: (diagnostic.relatedInformation ?? []).map((info) => ({ range: info.location.range, message: info.message })),
    }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

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
    assert.deepEqual(comparable(client.diagnostics.get(uri)), comparable(client.diagnostics.get(freshUri)));
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
      assert.deepEqual(comparable(client.diagnostics.get(cell)), comparable(client.diagnostics.get(freshCells[index])), `cell ${index}`);
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
