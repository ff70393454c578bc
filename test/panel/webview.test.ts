// The panel's webview bundle (client/out/panel.js, built by `npm run build`) in headless Chromium, in the
// page the extension host builds (real CSP and nonce) with a stand-in webview API: given the example
// notebooks' captures it computes on WebGL and on WASM, and shows PyTorch's loss value (printed by the
// notebook), the corrected variant and gradient ratio (as the engine's host kernel `js` computes
// them here in Node), the run-time checks, the per-class table and the plots. Saves docs/images/panel.png.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCaptureRecord } from '../../client/src/capture/record';
import { decodeCaptureTensors } from '../../client/src/capture/tensors';
import { encodeNpy } from '../../server/src/tensors/npy';
import type { HostMessage, PanelCapture, PanelLossCall } from '../../client/src/panel/messages';
import { INSERTABLE_CODE } from '../../client/src/panel/messages';
import { analyseCapture, type CaptureAnalysis } from '../../client/src/panel/webview/compute';
import { REPOSITORY_ROOT, chromiumAvailable, openPanelPage, type PanelPage } from './browser-page';
import { exampleCapture, type ExampleCapture } from './example-notebooks';

const bundle = path.join(REPOSITORY_ROOT, 'client/out/panel.js');
const skip = !chromiumAvailable() ? 'no /usr/bin/chromium (apt-get install chromium)' : !fs.existsSync(bundle) ? 'client/out/panel.js is not built (npm run build)' : false;

/** A capture built here: raw scores (logits, outside [0, 1]) into BCELoss, 512 x 4 (past the 128-element CPU shortcut). */
function bceOnLogits(): ExampleCapture {
  let seed = 7;
  const random = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const scores = Float32Array.from({ length: 2048 }, () => (random() - 0.5) * 6);
  const targets = Float32Array.from({ length: 2048 }, () => (random() < 0.3 ? 1 : 0));
  const inline = (data: Float32Array): string => Buffer.from(encodeNpy({ dtype: 'float32', shape: [512, 4], data })).toString('base64');
  const record = parseCaptureRecord({
    format: 'loss-lens-capture', version: 1, id: 'bce-on-logits', createdAt: '2026-01-01T00:00:00+00:00',
    loss: 'binary_cross_entropy', framework: 'pytorch', options: { reduction: 'mean' }, source: { via: 'helper' },
    tensors: { input: { dtype: 'float32', shape: [512, 4], data: inline(scores) }, target: { dtype: 'float32', shape: [512, 4], data: inline(targets) } },
  });
  return { record, cell: 2, torchLoss: NaN };
}

const softmax = (): ExampleCapture => exampleCapture('softmax-before-cross-entropy.ipynb');
const sigmoid = (): ExampleCapture => exampleCapture('sigmoid-before-bce-with-logits.ipynb');

function call(example: ExampleCapture, loss: string, text: string, findings: string[]): PanelLossCall {
  return { id: `${example.cell - 1}:2:7`, loss, cell: example.cell - 1, line: 2, text, options: {}, findings, editable: true };
}

function showMessage(example: ExampleCapture, lossCall: PanelLossCall, maxElements = 50_000_000): HostMessage {
  const capture: PanelCapture = { record: example.record, cell: example.cell, callId: lossCall.id };
  return { type: 'show', notebook: { uri: 'file:///example.ipynb', name: 'example.ipynb' }, calls: [lossCall], captures: [capture], maxElements };
}

function relativeClose(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(Math.abs(expected), 1e-6), `${what}: ${actual} vs ${expected}`);
}

/** The numbers the panel printed (it prints 6 significant digits). */
async function shownNumber(page: PanelPage, testId: string): Promise<number> {
  const text = await page.page.locator(`[data-testid="${testId}"]`).first().innerText();
  return Number(text);
}

async function analysed(page: PanelPage): Promise<void> {
  await page.page.waitForSelector('[data-testid="analysis"][aria-busy="false"]', { timeout: 60_000 });
  const error = await page.page.locator('[data-testid="analysis-error"]').count();
  if (error) assert.fail(await page.page.locator('[data-testid="analysis-error"]').innerText());
}

/** The reference: the same analysis on the engine's host kernel (`js`), in Node. */
async function reference(example: ExampleCapture, findings: string[]): Promise<CaptureAnalysis> {
  return analyseCapture(example.record, decodeCaptureTensors(example.record), 'js', findings);
}

describe('panel webview in headless Chromium', { skip }, () => {
  for (const backend of ['webgl', 'wasm'] as const) {
    describe(`on ${backend}`, () => {
      let page: PanelPage;
      before(async () => {
        page = await openPanelPage({ initialState: { backend } });
      });
      after(async () => page.close());

      it('shows softmax-before-cross-entropy: PyTorch\'s value, the corrected loss, the gradient ratio, checks, table and plots', async () => {
        const example = softmax();
        const lossCall = call(example, 'cross_entropy', 'criterion(probabilities, labels)', ['softmax-before-cross-entropy']);
        const expected = await reference(example, lossCall.findings);
        await page.send(showMessage(example, lossCall));
        await analysed(page);

        const badge = await page.page.locator('[data-testid="backend-badge"]').innerText();
        assert.match(badge, backend === 'webgl' ? /^WebGL · float(32|16) · [\d.]+ ms$/ : /^WASM · float32 · [\d.]+ ms$/);
        relativeClose(await shownNumber(page, 'loss-value'), example.torchLoss, 1e-5, 'loss as configured vs PyTorch');
        relativeClose(await shownNumber(page, 'corrected-value'), expected.corrected!.result.value!, 1e-5, 'corrected loss');
        relativeClose(await shownNumber(page, 'gradient-ratio'), expected.corrected!.gradientNormRatio!, 1e-4, 'gradient ratio');
        assert.ok(expected.corrected!.gradientNormRatio! < 0.5, 'double softmax shrinks the gradient');

        const rules = await page.page.locator('[data-testid="checks"] li[data-rule]').evaluateAll((items) => items.map((item) => item.getAttribute('data-rule')));
        assert.deepEqual(rules, expected.checks.map((check) => check.rule));
        assert.ok(rules.includes('input-rows-sum-to-one'), `checks: ${rules.join(', ')}`);
        assert.ok(rules.includes('class-imbalance'), `checks: ${rules.join(', ')}`);

        const classRows = await page.page.locator('[data-testid="class-table"] tr').count();
        assert.equal(classRows, 1 + 40);
        const firstClass = await page.page.locator('[data-testid="class-table"] tr').nth(1).locator('td').allInnerTexts();
        assert.equal(Number(firstClass[1]), expected.classes[0].count);
        const targetRow = await page.page.locator('[data-testid="tensor-stats"] tr[data-role="target"] td').allInnerTexts();
        assert.deepEqual(targetRow.slice(0, 3), ['target', 'int64', '[2048]']);
        assert.match(targetRow[7], /^0×\d+, 1×\d+/);

        for (const chart of ['chart-loss', 'chart-probability', 'chart-classes']) {
          const painted = await page.page.locator(`[data-testid="${chart}"]`).evaluate((canvas: HTMLCanvasElement) => {
            const context = canvas.getContext('2d')!;
            const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
            let opaque = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) opaque++;
            return canvas.width > 100 && canvas.height > 100 ? opaque : 0;
          });
          assert.ok(painted > 500, `${chart} is drawn (${painted} painted pixels)`);
        }

        await page.page.locator('[data-testid="insert-weight"]').click();
        const insert = (await page.posted()).find((message) => (message as { type: string }).type === 'insertCode') as { callId: string; keyword: string; code: string };
        assert.equal(insert.callId, lossCall.id);
        assert.equal(insert.keyword, 'weight');
        assert.match(insert.code, INSERTABLE_CODE);

        if (backend === 'webgl') {
          fs.mkdirSync(path.join(REPOSITORY_ROOT, 'docs/images'), { recursive: true });
          await page.page.screenshot({ path: path.join(REPOSITORY_ROOT, 'docs/images/panel.png'), fullPage: true });
        }
      });

      it('shows sigmoid-before-bce-with-logits with the per-output table and a pos_weight suggestion', async () => {
        const example = sigmoid();
        const lossCall = call(example, 'binary_cross_entropy_with_logits', 'criterion(probabilities, targets)', []);
        const expected = await reference(example, []);
        await page.send(showMessage(example, lossCall));
        await analysed(page);
        relativeClose(await shownNumber(page, 'loss-value'), example.torchLoss, 1e-5, 'loss as configured vs PyTorch');
        relativeClose(await shownNumber(page, 'corrected-value'), expected.corrected!.result.value!, 1e-5, 'BCE with logits on the logits');
        relativeClose(await shownNumber(page, 'gradient-ratio'), expected.corrected!.gradientNormRatio!, 1e-4, 'gradient ratio');
        const rules = await page.page.locator('[data-testid="checks"] li[data-rule]').evaluateAll((items) => items.map((item) => item.getAttribute('data-rule')));
        assert.ok(rules.includes('input-in-unit-interval'), `checks: ${rules.join(', ')}`);
        assert.equal(await page.page.locator('[data-testid="class-table"] tr').count(), 1 + 24);
        if (rules.includes('class-imbalance')) assert.equal(await page.page.locator('[data-testid="insert-pos_weight"]').count(), 1);
      });

      it('shows PyTorch\'s error for BCELoss on logits, and the with-logits loss on the same scores', async () => {
        const example = bceOnLogits();
        const lossCall = call(example, 'binary_cross_entropy', 'criterion(scores, targets)', []);
        const expected = await reference(example, []);
        await page.send(showMessage(example, lossCall));
        await analysed(page);
        assert.match(await page.page.locator('[data-testid="loss-error"]').innerText(), /PyTorch raises: all elements of input should be between 0 and 1/);
        relativeClose(await shownNumber(page, 'corrected-value'), expected.corrected!.result.value!, 1e-5, 'BCE with logits');
        assert.equal(await page.page.locator('[data-testid="gradient-ratio"]').innerText(), '—');
        const rules = await page.page.locator('[data-testid="checks"] li[data-rule]').evaluateAll((items) => items.map((item) => item.getAttribute('data-rule')));
        assert.ok(rules.includes('input-outside-unit-interval'), `checks: ${rules.join(', ')}`);
      });

      it('samples past lossLens.panel.maxElements and says so', async () => {
        const example = softmax();
        const lossCall = call(example, 'cross_entropy', 'criterion(probabilities, labels)', []);
        await page.send(showMessage(example, lossCall, 40 * 512));
        await analysed(page);
        const note = await page.page.locator('[data-testid="sampled-note"]').first().innerText();
        assert.match(note, /first 512 of 2048 rows/);
        const inputRow = await page.page.locator('[data-testid="tensor-stats"] tr[data-role="input"] td').allInnerTexts();
        assert.equal(inputRow[2], '[512, 40]');
      });

      it('shows the same analysis again when the host re-sends the capture (it does on every notebook edit)', async () => {
        const example = softmax();
        const lossCall = call(example, 'cross_entropy', 'criterion(probabilities, labels)', []);
        const badges: string[] = [];
        for (let sent = 0; sent < 2; sent++) {
          await page.send(showMessage(example, lossCall));
          await analysed(page);
          badges.push(await page.page.locator('[data-testid="backend-badge"]').innerText());
        }
        // The badge carries the engine time: a recomputation would (almost always) show another.
        assert.equal(badges[1], badges[0]);
        assert.equal(await page.page.locator('[data-testid="sampled-note"]').count(), 0, 'the whole tensors, not the sampled analysis before');
      });
    });
  }

  it('says when a capture is stale (the diagnostics no longer use it), and stops saying it once it is not', async () => {
    const page = await openPanelPage({ initialState: { backend: 'js' } });
    try {
      const example = softmax();
      const lossCall = call(example, 'cross_entropy', 'criterion(probabilities, labels)', []);
      const message = showMessage(example, lossCall) as HostMessage & { type: 'show' };
      await page.send({ ...message, captures: message.captures.map((capture) => ({ ...capture, stale: true })) });
      await analysed(page);
      assert.match(await page.page.locator('[data-testid="stale-note"]').innerText(), /^Stale: the code this capture came from .* changed since it was taken/);
      await page.send(message);
      await analysed(page);
      assert.equal(await page.page.locator('[data-testid="stale-note"]').count(), 0);
    } finally {
      await page.close();
    }
  });

  it('ignores malformed messages and keeps its state with setState', async () => {
    const page = await openPanelPage({ initialState: { backend: 'wasm' } });
    try {
      await page.send({ type: 'show', captures: [{ record: { format: 'something else' } }], calls: [], maxElements: 1 });
      await page.send({ type: 'focus' });
      const empty = await page.page.locator('[data-testid="empty"]').innerText();
      assert.match(empty, /Open a notebook/);
      await page.page.locator('[data-testid="backend-select"]').selectOption('js');
      const state = await page.page.evaluate(() => (window as unknown as { __state: unknown }).__state);
      assert.deepEqual(state, { backend: 'js' });
    } finally {
      await page.close();
    }
  });
});
