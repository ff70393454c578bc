// Settings pulled through workspace/configuration and applied live: per-rule severity, 'off', frameworks.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DiagnosticSeverity } from 'vscode-languageserver-protocol';
import { LspTestClient } from './harness';
import { TRAIN_PY, findRule, rulesOf } from './sources';

const KERAS_AND_TORCH = `import torch
import torch.nn as nn
from tensorflow import keras

probs = torch.softmax(torch.randn(8, 3), dim=1)
labels = torch.randint(0, 3, (8,))
torch_loss = nn.CrossEntropyLoss()(probs, labels)

model = keras.Sequential([keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
`;

describe('LSP: configuration', () => {
  let client: LspTestClient;
  before(async () => {
    client = await LspTestClient.start({ settings: { rules: { 'float-class-index-target': 'hint' } } });
  });
  after(async () => {
    await client.stop();
  });

  async function reconfigure(settings: unknown, uris: string[]): Promise<void> {
    const mark = client.statuses.length;
    const requests = client.configurationRequests;
    await client.setSettings(settings);
    for (const uri of uris) {
      await client.waitFor(`re-analysis of ${uri}`, () =>
        client.statuses.slice(mark).find((status) => status.uri === uri && status.state === 'ready'),
      );
    }
    assert.ok(client.configurationRequests > requests, 'the server pulled the settings again');
  }

  it('applies the settings pulled at start-up', async () => {
    const uri = 'file:///work/config-start.py';
    const mark = client.statuses.length;
    await client.openText(uri, TRAIN_PY);
    await client.waitForReady(uri, 1, mark);
    assert.equal(findRule(client.diagnostics.get(uri), 'float-class-index-target').severity, DiagnosticSeverity.Hint);
    assert.equal(findRule(client.diagnostics.get(uri), 'softmax-before-cross-entropy').severity, DiagnosticSeverity.Error);
  });

  it('re-analyses open documents when the settings change: severity override and off', async () => {
    const uri = 'file:///work/config-live.py';
    const mark = client.statuses.length;
    await client.openText(uri, TRAIN_PY);
    await client.waitForReady(uri, 1, mark);

    await reconfigure({ rules: { 'softmax-before-cross-entropy': 'warning', 'float-class-index-target': 'off' } }, [uri]);
    assert.deepEqual(rulesOf(client.diagnostics.get(uri)), ['softmax-before-cross-entropy']);
    assert.equal(findRule(client.diagnostics.get(uri), 'softmax-before-cross-entropy').severity, DiagnosticSeverity.Warning);

    await reconfigure({}, [uri]);
    assert.deepEqual(rulesOf(client.diagnostics.get(uri)), ['float-class-index-target', 'softmax-before-cross-entropy']);
    assert.equal(findRule(client.diagnostics.get(uri), 'float-class-index-target').severity, DiagnosticSeverity.Error);
  });

  it('analyses only the configured frameworks', async () => {
    const uri = 'file:///work/config-frameworks.py';
    const mark = client.statuses.length;
    await client.openText(uri, KERAS_AND_TORCH);
    await client.waitForReady(uri, 1, mark);
    assert.deepEqual(rulesOf(client.diagnostics.get(uri)), ['logits-to-probability-loss', 'softmax-before-cross-entropy']);

    await reconfigure({ frameworks: ['keras'] }, [uri]);
    assert.deepEqual(rulesOf(client.diagnostics.get(uri)), ['logits-to-probability-loss']);
    await reconfigure({ frameworks: ['pytorch'] }, [uri]);
    assert.deepEqual(rulesOf(client.diagnostics.get(uri)), ['softmax-before-cross-entropy']);
  });

  it('keeps going on invalid settings, reporting them in the log', async () => {
    const uri = 'file:///work/config-invalid.py';
    const mark = client.statuses.length;
    await client.openText(uri, TRAIN_PY);
    await client.waitForReady(uri, 1, mark);
    await reconfigure({ rules: { 'softmax-before-cross-entropy': 'loud', 'float-class-index-target': 'off' }, frameworks: 'torch' }, [uri]);
    assert.deepEqual(rulesOf(client.diagnostics.get(uri)), ['softmax-before-cross-entropy']);
    assert.ok(client.logs.some((line) => line.includes('lossLens.rules.softmax-before-cross-entropy')), client.logs.join('\n'));
    assert.ok(client.logs.some((line) => line.includes('lossLens.frameworks')), client.logs.join('\n'));
  });
});
