// A file large enough to be analysed in chunks, through the built server: findings at the right file
// lines, a quick fix applied in the middle, and random edits that end where a fresh open does.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { LspTestClient } from './harness';
import { chunkFile } from '../../server/src/lsp/chunks';
import { comparableDiagnostics, seededRandom } from './random-edits';
import { textAt } from './sources';

const BLOCKS = 240;
const HEADER = 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\nmodel = nn.Linear(20, 5)\ncriterion = nn.CrossEntropyLoss()\n\n';
const HEADER_LINES = 7;
const BLOCK_LINES = 5;

function largeFile(): string {
  let text = HEADER;
  for (let block = 0; block < BLOCKS; block++) {
    text +=
      `x_${block} = torch.randn(32, 20)\n` +
      `probs_${block} = F.softmax(model(x_${block}), dim=1)\n` +
      `labels_${block} = torch.randint(0, 5, (32,))\n` +
      `loss_${block} = criterion(probs_${block}, labels_${block})\n\n`;
  }
  return text;
}

/** Whole lines to insert: statements, a compound statement, broken code (still with balanced brackets, so the file stays chunked). */
const LINES = ['probs_x = F.softmax(model(x_0), dim=1)', 'loss_x = criterion(probs_x, labels_0.float())', 'def helper():', '    return probs_0', 'x_1 = = 2', '@decorator', 'else:', '# note'];
/** Words to type inside a line. */
const WORDS = ['probs', '.float', '_1', ' ', 'x'];

/** A random line-level edit that keeps brackets and quotes balanced: insert a line, delete a line, or type a word. */
function randomLineEdit(random: () => number, lines: string[]) {
  const line = Math.floor(random() * lines.length);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const choice = random();
  if (choice < 0.35) return { range: { start: { line, character: 0 }, end: { line, character: 0 } }, text: `${pick(LINES)}\n` };
  if (choice < 0.6 && line + 1 < lines.length) return { range: { start: { line, character: 0 }, end: { line: line + 1, character: 0 } }, text: '' };
  const character = Math.floor(random() * (lines[line].length + 1));
  return { range: { start: { line, character }, end: { line, character } }, text: pick(WORDS) };
}

describe('LSP: a large file (analysed in chunks)', () => {
  let client: LspTestClient;
  before(async () => {
    client = await LspTestClient.start({ debounceMs: 2 });
  });
  after(async () => {
    await client.stop();
  });

  it('reports every finding at its file line, and a quick fix in the middle edits the right line', async () => {
    const uri = 'file:///work/large.py';
    let mark = client.statuses.length;
    await client.openText(uri, largeFile());
    await client.waitForReady(uri, 1, mark);
    const document = () => client.documents.get(uri)!;
    const diagnostics = client.diagnostics.get(uri) ?? [];
    assert.equal(diagnostics.length, BLOCKS);
    diagnostics.forEach((diagnostic, block) => {
      assert.equal(diagnostic.code, 'softmax-before-cross-entropy');
      assert.equal(diagnostic.range.start.line, HEADER_LINES + block * BLOCK_LINES + 3);
      assert.equal(textAt(document(), diagnostic.range), `probs_${block}`);
      assert.equal(diagnostic.relatedInformation?.[0]?.location.range.start.line, HEADER_LINES + block * BLOCK_LINES + 1);
    });

    const middle = diagnostics[BLOCKS / 2];
    const [fix] = (await client.codeActions(uri, [middle], ['quickfix'])).filter((action) => action.isPreferred);
    assert.ok(fix?.edit);
    mark = client.statuses.length;
    const versions = await client.applyEdit(fix.edit);
    await client.waitForReady(uri, versions.get(uri)!, mark);
    assert.equal(document().getText().split('\n')[HEADER_LINES + (BLOCKS / 2) * BLOCK_LINES + 1], `probs_${BLOCKS / 2} = model(x_${BLOCKS / 2})`);
    assert.equal(client.diagnostics.get(uri)?.length, BLOCKS - 1);
  });

  it('ends 150 random edits, sent in 15 changes, with the diagnostics of a fresh open of the final text', async () => {
    const random = seededRandom(1200);
    const uri = 'file:///work/large-random.py';
    let mark = client.statuses.length;
    await client.openText(uri, largeFile());
    await client.waitForReady(uri, 1, mark);
    // Ten edits per didChange, each analysed before the next is sent: the server does the same 15 analyses however
    // loaded the machine is. (One edit per message let the 2 ms debounce expire between messages on a loaded machine,
    // so the server analysed the whole file after nearly every edit: 150 analyses instead of a handful.)
    for (let batch = 0; batch < 15; batch++) {
      let text = TextDocument.create(uri, 'python', 0, client.documents.get(uri)!.getText());
      const changes = [];
      for (let edit = 0; edit < 10; edit++) {
        const change = randomLineEdit(random, text.getText().split('\n'));
        changes.push(change);
        text = TextDocument.update(text, [change], text.version + 1);
      }
      mark = client.statuses.length;
      const version = await client.changeText(uri, changes);
      await client.waitForReady(uri, version, mark);
    }
    const finalText = client.documents.get(uri)!.getText();
    assert.ok(chunkFile(finalText).source.units.length > 10, 'the final text is still analysed in chunks');
    const freshUri = 'file:///work/large-fresh.py';
    mark = client.statuses.length;
    await client.openText(freshUri, finalText);
    await client.waitForReady(freshUri, 1, mark);
    assert.ok((client.diagnostics.get(freshUri)?.length ?? 0) > BLOCKS / 2, 'most findings survive the edits');
    assert.deepEqual(comparableDiagnostics(client.diagnostics.get(uri)), comparableDiagnostics(client.diagnostics.get(freshUri)));
  });
});
