// Fix-all and preferred quick fixes leave alone what captured tensors refute: such a fix would edit working code.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CodeAction, Diagnostic, DiagnosticSeverity } from 'vscode-languageserver-protocol';
import { CapturesNotification } from '../../server/src/protocol';
import { classifierBatch, inlineRecord } from '../captures/captures';
import { LspTestClient } from './harness';

const ROWS = 32;
const CLASSES = 10;
const { rawLogits, probabilities, target, asInput } = classifierBatch(ROWS, CLASSES, 11);

const SETUP = 'import torch.nn as nn\nimport torch.nn.functional as F\ncriterion = nn.CrossEntropyLoss()\n';
const STEP_A = 'probs_a = F.softmax(model_a(x), dim=1)\nloss_a = criterion(probs_a, y)\n';
const STEP_B = 'probs_b = F.softmax(model_b(x), dim=1)\nloss_b = criterion(probs_b, y)\n';
const RULE = 'softmax-before-cross-entropy';

function withRule(diagnostics: Diagnostic[] | undefined): Diagnostic | undefined {
  return diagnostics?.find((diagnostic) => diagnostic.code === RULE);
}

describe('LSP: fixes that captures refute', () => {
  let client: LspTestClient;
  let count = 0;
  before(async () => {
    client = await LspTestClient.start();
  });
  after(async () => {
    await client.stop();
  });

  /** A notebook whose two softmax steps are captured by "Inspect loss": the first on raw logits (refuted), the second on probabilities (confirmed). */
  async function capturedNotebook(): Promise<{ notebook: string; cells: string[] }> {
    const notebook = `file:///work/fix-captures-${++count}.ipynb`;
    const mark = client.statuses.length;
    const cells = await client.openNotebook(notebook, [{ kind: 'code', text: SETUP }, { kind: 'code', text: STEP_A }, { kind: 'code', text: STEP_B }]);
    await client.waitForReady(notebook, 1, mark);
    const kernel = (cell: number, call: string) => ({ via: 'kernel' as const, cell, line: 1, call });
    await client.connection.sendNotification(CapturesNotification, {
      uri: notebook,
      captures: [
        { cell: 1, cellUri: cells[1], record: inlineRecord({ id: 'raw-logits', input: asInput(rawLogits), target, source: kernel(1, 'criterion(probs_a, y)') }) },
        { cell: 2, cellUri: cells[2], record: inlineRecord({ id: 'softmaxed', input: asInput(probabilities), target, source: kernel(2, 'criterion(probs_b, y)') }) },
      ],
    });
    return { notebook, cells };
  }

  it('fix-all leaves the refuted call alone and fixes the confirmed one, even when asked right after an edit', async () => {
    const { notebook, cells } = await capturedNotebook();
    await client.waitFor('the verdicts', () => withRule(client.diagnostics.get(cells[1]))?.severity === DiagnosticSeverity.Information);
    // An edit, then fix-all at once, as fix-on-save does: the request analyses the new text, whose static findings
    // come before the captures' verdicts; the server waits for the verdicts before it answers.
    await client.changeCell(notebook, cells[0], [{ range: { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } }, text: 'model_a = model_b = None\n' }]);
    const actions = await client.codeActions(cells[0], [], ['source.fixAll.lossLens']);
    assert.equal(actions.length, 1);
    const touched = (actions[0].edit?.documentChanges ?? []).map((change) => ('textDocument' in change ? change.textDocument.uri : ''));
    assert.deepEqual(touched, [cells[2]]);
    await client.applyEdit(actions[0].edit!);
    assert.equal(client.documents.get(cells[1])!.getText(), STEP_A);
    assert.equal(client.documents.get(cells[2])!.getText(), 'probs_b = model_b(x)\nloss_b = criterion(probs_b, y)\n');
  });

  it('offers the refuted finding\'s quick fix on demand, not preferred; the confirmed one\'s stays preferred', async () => {
    const { cells } = await capturedNotebook();
    const refuted = await client.waitFor('the refuted finding', () => {
      const diagnostic = withRule(client.diagnostics.get(cells[1]));
      return diagnostic?.severity === DiagnosticSeverity.Information && diagnostic;
    });
    const confirmed = await client.waitFor('the confirmed finding', () => {
      const diagnostic = withRule(client.diagnostics.get(cells[2]));
      return diagnostic && /confirmed on captured tensors/.test(diagnostic.message) && diagnostic;
    });
    const fixOf = (actions: CodeAction[]) => actions.find((action) => action.diagnostics?.[0]?.code === RULE && !action.title.startsWith('Ignore'));
    const refutedFix = fixOf(await client.codeActions(cells[1], [refuted], ['quickfix']));
    assert.ok(refutedFix, 'still offered');
    assert.equal(refutedFix.isPreferred, false);
    const confirmedFix = fixOf(await client.codeActions(cells[2], [confirmed], ['quickfix']));
    assert.equal(confirmedFix?.isPreferred, true);
  });
});
