// A notebook through the built server over stdio (LSP 3.17 notebook sync): per-cell diagnostics,
// related places in other cells, cell edits, cross-cell quick fixes, fix-all, cell removal.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CodeAction, MarkupContent, TextDocumentEdit } from 'vscode-languageserver-protocol';
import { LspTestClient } from './harness';
import { LOSS_CELL, TRAIN_NOTEBOOK, findRule, rulesOf, textAt } from './sources';

describe('LSP: a notebook', () => {
  let client: LspTestClient;
  before(async () => {
    client = await LspTestClient.start();
  });
  after(async () => {
    await client.stop();
  });

  let notebookCount = 0;
  async function open(): Promise<{ notebook: string; cells: string[] }> {
    const notebook = `file:///work/notebook-${++notebookCount}.ipynb`;
    const mark = client.statuses.length;
    const cells = await client.openNotebook(notebook, TRAIN_NOTEBOOK);
    await client.waitForReady(notebook, 1, mark);
    return { notebook, cells };
  }

  async function apply(action: CodeAction): Promise<void> {
    assert.ok(action.edit, `action '${action.title}' has an edit`);
    const mark = client.statuses.length;
    const versions = await client.applyEdit(action.edit);
    for (const [uri, version] of versions) await client.waitForReady(uri, version, mark);
  }

  it('publishes findings on the loss cell, with cell-relative ranges and related places in the cell that caused them', async () => {
    const { cells } = await open();
    assert.deepEqual(rulesOf(client.diagnostics.get(cells[LOSS_CELL])), ['float-class-index-target', 'softmax-before-cross-entropy']);
    for (const cell of cells.slice(0, LOSS_CELL)) assert.deepEqual(rulesOf(client.diagnostics.get(cell)), [], cell);

    const softmax = findRule(client.diagnostics.get(cells[LOSS_CELL]), 'softmax-before-cross-entropy');
    assert.equal(softmax.range.start.line, 1);
    assert.equal(textAt(client.documents.get(cells[LOSS_CELL]), softmax.range), 'probs');
    const related = softmax.relatedInformation ?? [];
    const inCell2 = related.find((info) => info.location.uri === cells[2]);
    assert.ok(inCell2, `related information into cell 2: ${JSON.stringify(related)}`);
    assert.equal(inCell2.location.range.start.line, 2);
    assert.match(textAt(client.documents.get(cells[2]), inCell2.location.range), /softmax/);
  });

  it('updates a cell’s findings when another cell is edited', async () => {
    const { notebook, cells } = await open();
    // Replace the softmax line of cell 2 by the plain logits.
    const line = { start: { line: 2, character: 0 }, end: { line: 2, character: 'probs = F.softmax(model(x), dim=1)'.length } };
    const mark = client.statuses.length;
    const version = await client.changeCell(notebook, cells[2], [{ range: line, text: 'probs = model(x)' }]);
    await client.waitForReady(notebook, version, mark);
    assert.deepEqual(rulesOf(client.diagnostics.get(cells[LOSS_CELL])), ['float-class-index-target']);
  });

  it('applies a quick fix whose edit is in another cell, and the finding disappears', async () => {
    const { cells } = await open();
    const diagnostic = findRule(client.diagnostics.get(cells[LOSS_CELL]), 'float-class-index-target');
    const actions = await client.codeActions(cells[LOSS_CELL], [diagnostic], ['quickfix']);
    const fix = actions.find((action) => action.isPreferred);
    assert.ok(fix?.edit?.documentChanges, `a preferred fix among ${actions.map((action) => action.title).join(', ')}`);
    const touched = fix.edit.documentChanges.filter(TextDocumentEdit.is).map((change) => change.textDocument.uri);
    assert.deepEqual(touched, [cells[3]], 'the fix edits cell 3, where the cast is');
    await apply(fix);
    assert.equal(client.documents.get(cells[3])!.getText(), 'labels = torch.randint(0, 5, (32,))\ntargets = labels.long()\n');
    assert.deepEqual(rulesOf(client.diagnostics.get(cells[LOSS_CELL])), ['softmax-before-cross-entropy']);
  });

  it('fixes the whole notebook with source.fixAll.lossLens', async () => {
    const { cells } = await open();
    const actions = await client.codeActions(cells[0], [], ['source.fixAll.lossLens']);
    assert.equal(actions.length, 1);
    const touched = (actions[0].edit?.documentChanges ?? []).filter(TextDocumentEdit.is).map((change) => change.textDocument.uri);
    assert.deepEqual(touched.sort(), [cells[2], cells[3]].sort(), 'one edit touching the softmax cell and the cast cell');
    await apply(actions[0]);
    for (const cell of cells) assert.deepEqual(rulesOf(client.diagnostics.get(cell)), [], cell);
    assert.doesNotMatch(client.documents.get(cells[2])!.getText(), /softmax/);
    assert.match(client.documents.get(cells[3])!.getText(), /labels\.long\(\)/);
  });

  it('clears the diagnostics of a removed cell and re-analyses the rest', async () => {
    const { notebook, cells } = await open();
    assert.equal(client.diagnostics.get(cells[LOSS_CELL])?.length, 2);
    const mark = client.statuses.length;
    const version = await client.removeCells(notebook, LOSS_CELL, 1);
    await client.waitForReady(notebook, version, mark);
    assert.deepEqual(client.diagnostics.get(cells[LOSS_CELL]), []);
    assert.equal(await client.hover(cells[LOSS_CELL], 1, 10), null, 'a removed cell is no longer part of the notebook');
  });

  it('hovers a loss call in a cell and lists the notebook’s loss calls with cell URIs', async () => {
    const { notebook, cells } = await open();
    const hover = await client.hover(cells[LOSS_CELL], 1, 'loss = crit'.length);
    const markdown = (hover?.contents as MarkupContent | undefined)?.value ?? '';
    assert.match(markdown, /cross-entropy/);
    assert.match(markdown, /`reduction='mean'` \(default\)/);
    const result = await client.lossCalls(cells[LOSS_CELL]);
    assert.ok(result);
    assert.equal(result.uri, notebook);
    assert.equal(result.kind, 'notebook');
    assert.equal(result.calls.length, 1);
    assert.equal(result.calls[0].uri, cells[LOSS_CELL]);
    assert.equal(result.calls[0].location.cell, LOSS_CELL);
    assert.equal(result.calls[0].constructorUri, cells[LOSS_CELL]);
  });
});
