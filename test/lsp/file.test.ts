// A .py file through the built server over stdio: diagnostics, quick fixes, fix-all, ignore-line, hover, lossLens/lossCalls (with each call's findings).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CodeAction, DiagnosticSeverity, MarkupContent } from 'vscode-languageserver-protocol';
import { LspTestClient } from './harness';
import { TRAIN_PY, TRAIN_PY_LOSS_LINE, findRule, rulesOf, textAt } from './sources';

describe('LSP: a Python file', () => {
  let client: LspTestClient;
  before(async () => {
    client = await LspTestClient.start();
  });
  after(async () => {
    await client.stop();
  });

  async function open(name: string, text: string): Promise<string> {
    const uri = `file:///work/${name}`;
    const mark = client.statuses.length;
    await client.openText(uri, text);
    await client.waitForReady(uri, 1, mark);
    return uri;
  }

  async function apply(action: CodeAction): Promise<void> {
    assert.ok(action.edit, `action '${action.title}' has an edit`);
    const mark = client.statuses.length;
    const versions = await client.applyEdit(action.edit);
    for (const [uri, version] of versions) await client.waitForReady(uri, version, mark);
  }

  it('publishes findings at the loss arguments, with rule code, documentation link, source and related places', async () => {
    const uri = await open('diagnostics.py', TRAIN_PY);
    const diagnostics = client.diagnostics.get(uri);
    assert.deepEqual(rulesOf(diagnostics), ['float-class-index-target', 'softmax-before-cross-entropy']);
    const document = client.documents.get(uri);

    const softmax = findRule(diagnostics, 'softmax-before-cross-entropy');
    assert.equal(softmax.source, 'loss-lens');
    assert.equal(softmax.severity, DiagnosticSeverity.Error);
    assert.equal(softmax.range.start.line, TRAIN_PY_LOSS_LINE);
    assert.equal(textAt(document, softmax.range), 'probs');
    const related = softmax.relatedInformation ?? [];
    assert.ok(related.some((info) => info.location.uri === uri && info.location.range.start.line === 8), JSON.stringify(related));

    const href = softmax.codeDescription?.href ?? '';
    assert.match(href, /^file:\/\/.*\/docs\/rules\/softmax-before-cross-entropy\.md$/);
    assert.ok(fs.existsSync(fileURLToPath(href)), `rule documentation exists at ${href}`);

    const floatTarget = findRule(diagnostics, 'float-class-index-target');
    assert.equal(textAt(document, floatTarget.range), 'targets');
  });

  it('offers the preferred quick fix, which removes the finding when applied', async () => {
    const uri = await open('quickfix.py', TRAIN_PY);
    const diagnostic = findRule(client.diagnostics.get(uri), 'float-class-index-target');
    const actions = await client.codeActions(uri, [diagnostic]);
    const fix = actions.find((action) => action.isPreferred);
    assert.ok(fix, `a preferred action among ${actions.map((action) => action.title).join(', ')}`);
    assert.equal(fix.kind, 'quickfix');
    assert.equal(fix.diagnostics?.[0]?.code, 'float-class-index-target');
    await apply(fix);
    assert.match(client.documents.get(uri)!.getText(), /targets = labels\.long\(\)/);
    assert.deepEqual(rulesOf(client.diagnostics.get(uri)), ['softmax-before-cross-entropy']);
  });

  it('answers a diagnostic left over from an older text with no action, not a wrong edit', async () => {
    const uri = await open('stale.py', TRAIN_PY);
    const diagnostic = findRule(client.diagnostics.get(uri), 'softmax-before-cross-entropy');
    // Two blank lines above: the finding moves down, the old diagnostic's place no longer holds it.
    const mark = client.statuses.length;
    const version = await client.changeText(uri, [{ range: { start: { line: 7, character: 0 }, end: { line: 7, character: 0 } }, text: '\n\n' }]);
    const actions = await client.codeActions(uri, [diagnostic], ['quickfix']);
    assert.deepEqual(actions, []);
    await client.waitForReady(uri, version, mark);
    assert.equal(findRule(client.diagnostics.get(uri), 'softmax-before-cross-entropy').range.start.line, TRAIN_PY_LOSS_LINE + 2);
  });

  it('fixes everything with source.fixAll.lossLens', async () => {
    const uri = await open('fixall.py', TRAIN_PY);
    const actions = await client.codeActions(uri, [], ['source.fixAll']);
    assert.equal(actions.length, 1);
    assert.equal(actions[0].kind, 'source.fixAll.lossLens');
    await apply(actions[0]);
    assert.deepEqual(rulesOf(client.diagnostics.get(uri)), []);
    const text = client.documents.get(uri)!.getText();
    assert.doesNotMatch(text, /softmax/);
    assert.match(text, /\.long\(\)/);
  });

  it('ignores a rule on a line, then extends the same comment for the next rule', async () => {
    const uri = await open('ignore.py', TRAIN_PY);
    const ignore = async (rule: string) => {
      const actions = await client.codeActions(uri, [findRule(client.diagnostics.get(uri), rule)], ['quickfix']);
      const action = actions.find((candidate) => candidate.title === `Ignore ${rule} on this line`);
      assert.ok(action, `an ignore action among ${actions.map((candidate) => candidate.title).join(', ')}`);
      await apply(action);
    };
    await ignore('softmax-before-cross-entropy');
    const lossLine = () => client.documents.get(uri)!.getText().split('\n')[TRAIN_PY_LOSS_LINE];
    assert.equal(lossLine(), 'loss = criterion(probs, targets)  # loss-lens: ignore[softmax-before-cross-entropy]');
    assert.deepEqual(rulesOf(client.diagnostics.get(uri)), ['float-class-index-target']);

    await ignore('float-class-index-target');
    assert.equal(lossLine(), 'loss = criterion(probs, targets)  # loss-lens: ignore[softmax-before-cross-entropy, float-class-index-target]');
    assert.deepEqual(rulesOf(client.diagnostics.get(uri)), []);
  });

  it('hovers a loss call and its constructor with what the loss expects and what is known here', async () => {
    const uri = await open('hover.py', TRAIN_PY);
    const atCall = await client.hover(uri, TRAIN_PY_LOSS_LINE, 'loss = crit'.length);
    assert.ok(atCall, 'a hover on the loss call');
    const markdown = (atCall.contents as MarkupContent).value;
    assert.equal((atCall.contents as MarkupContent).kind, 'markdown');
    assert.match(markdown, /cross-entropy/);
    assert.match(markdown, /logits/);
    assert.match(markdown, /class indices/);
    assert.match(markdown, /class axis: dim 1/);
    assert.match(markdown, /input `probs`/);
    assert.match(markdown, /target `targets`/);
    assert.match(markdown, /Mutually exclusive classes.*cross-entropy on logits with `long` class indices/);
    assert.match(markdown, /Independent labels.*BCE-with-logits on float multi-hot targets/);
    assert.match(markdown, /reduction=.*sum/);
    assert.match(markdown, /distributed data parallel/);

    const atConstructor = await client.hover(uri, 5, 'criterion = nn.Cross'.length);
    assert.ok(atConstructor, 'a hover on the loss constructor');
    assert.match((atConstructor.contents as MarkupContent).value, /cross-entropy/);

    assert.equal(await client.hover(uri, 0, 3), null, 'no hover on an import');
  });

  it('explains pos_weight and the default reduction on a BCE-with-logits hover', async () => {
    const uri = await open(
      'hover-bce.py',
      'import torch\nimport torch.nn as nn\n\n' +
        'logits = nn.Linear(16, 4)(torch.randn(8, 16))\n' +
        'targets = torch.randint(0, 2, (8, 4)).float()\n' +
        'criterion = nn.BCEWithLogitsLoss(pos_weight=torch.full((4,), 3.0))\n' +
        'loss = criterion(logits, targets)\n',
    );
    const hover = await client.hover(uri, 6, 'loss = crit'.length);
    const markdown = (hover?.contents as MarkupContent | undefined)?.value ?? '';
    assert.match(markdown, /binary cross-entropy on logits/);
    assert.match(markdown, /float `0\.\/1\.`/);
    assert.match(markdown, /`pos_weight=torch\.full\(\(4,\), 3\.0\)`: multiplies the positive term/);
    assert.match(markdown, /`reduction='mean'` \(default\): averages over the local batch/);
  });

  it('answers lossLens/lossCalls with the calls and their document URIs', async () => {
    const uri = await open('calls.py', TRAIN_PY);
    const result = await client.lossCalls(uri);
    assert.ok(result);
    assert.equal(result.kind, 'file');
    assert.equal(result.version, 1);
    assert.equal(result.calls.length, 1);
    const [call] = result.calls;
    assert.equal(call.loss, 'cross_entropy');
    assert.equal(call.uri, uri);
    assert.equal(call.location.range.start.line, TRAIN_PY_LOSS_LINE);
    assert.equal(call.constructorUri, uri);
    assert.equal(call.inputExpression, 'probs');
    // The static findings at the call: what a capture of it confirms or refutes (the panel shows their verdicts).
    assert.deepEqual(call.findings, ['float-class-index-target', 'softmax-before-cross-entropy']);
    assert.equal(await client.lossCalls('file:///work/not-open.py'), null);
  });

  it('clears a closed file’s diagnostics', async () => {
    const uri = await open('closed.py', TRAIN_PY);
    assert.equal(client.diagnostics.get(uri)?.length, 2);
    await client.closeText(uri);
    await client.waitFor('diagnostics cleared', () => client.diagnostics.get(uri)?.length === 0);
  });
});
