// The webview's automatic backend choice (choose-backend.ts): the decision itself, then the webview bundle in
// headless Chromium on its software devices (SwiftShader WebGL, a WebGPU adapter where the build offers one),
// with a stand-in extension host that runs the host's own analyseOnHost in Node. The choice must avoid the
// software devices and hand the work to the host, say why on the badge, and show the host kernel's numbers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCaptureRecord, type CaptureRecord } from '../../client/src/capture/record';
import { decodeCaptureTensors } from '../../client/src/capture/tensors';
import { analyseOnHost } from '../../client/src/panel/host-analysis';
import type { HostMessage, PanelCapture, PanelLossCall } from '../../client/src/panel/messages';
import { decideBackend, isSoftwareRenderer, type GpuProbe } from '../../client/src/panel/webview/choose-backend';
import { analyseCapture } from '../../client/src/panel/webview/compute';
import { requestFor } from '../../server/src/captures/recompute';
import { computeLoss } from '../../server/src/losses/engine';
import { threadsFromEnvironment } from '../../server/src/losses/parallel';
import { encodeNpy } from '../../server/src/tensors/npy';
import { withoutTensorBytes } from '../../client/src/panel/transfer';
import { REPOSITORY_ROOT, chromiumAvailable, openPanelPage, standInHost, type HostRequest, type PanelPage } from './browser-page';

const bundle = path.join(REPOSITORY_ROOT, 'client/out/panel.js');
const skip = !chromiumAvailable() ? 'no /usr/bin/chromium (apt-get install chromium)' : !fs.existsSync(bundle) ? 'client/out/panel.js is not built (npm run build)' : false;

const SWIFTSHADER = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
const HARDWARE: GpuProbe = { webgl: { renderer: 'ANGLE (NVIDIA, NVIDIA GeForce RTX 4090 Direct3D11 vs_5_0 ps_5_0, D3D11)', software: false } };

describe('automatic backend: the decision', () => {
  it('recognises software rasterisers by their renderer strings', () => {
    for (const name of [SWIFTSHADER, 'llvmpipe (LLVM 15.0.6, 256 bits)', 'softpipe', 'Microsoft Basic Render Driver', 'Google SwiftShader']) assert.ok(isSoftwareRenderer(name), name);
    for (const name of ['ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)', 'Apple M2', 'NVIDIA GeForce RTX 4090/PCIe/SSE2']) assert.ok(!isSoftwareRenderer(name), name);
  });

  it('software GPUs go to the host (or the webview\'s own kernel without one); small captures stay in the webview', () => {
    const software: GpuProbe = { webgl: { renderer: SWIFTSHADER, software: true }, webgpu: { description: 'google swiftshader', software: true } };
    const toHost = decideBackend({ elements: 44e6, hostAvailable: true, probe: software });
    assert.equal(toHost.path, 'host');
    assert.match(toHost.reason, /WebGL renders in software \(ANGLE .*SwiftShader/);
    assert.match(toHost.reason, /WebGPU is a fallback adapter/);
    assert.equal(decideBackend({ elements: 44e6, hostAvailable: false, probe: software }).path, 'js');
    assert.equal(decideBackend({ elements: 44e6, hostAvailable: true, probe: {} }).path, 'host');
    assert.equal(decideBackend({ elements: 1000, hostAvailable: true, probe: HARDWARE }).path, 'js');
  });

  it('a hardware GPU runs only when its calibration beats the host\'s on the same rows', () => {
    const faster = decideBackend({ elements: 8e6, hostAvailable: true, probe: HARDWARE, calibration: { fraction: 0.125, gpu: 40, cpu: 90 } });
    assert.equal(faster.path, 'webgl');
    assert.match(faster.reason, /calibration on 13% of the rows: webgl ~320 ms, host ~720 ms/);
    assert.equal(decideBackend({ elements: 8e6, hostAvailable: true, probe: HARDWARE, calibration: { fraction: 0.125, gpu: 140, cpu: 90 } }).path, 'host');
    assert.equal(decideBackend({ elements: 8e6, hostAvailable: true, probe: HARDWARE, calibration: { fraction: 0.125, cpu: 90 } }).path, 'host', 'a GPU that failed its calibration');
    assert.equal(decideBackend({ elements: 8e6, hostAvailable: false, probe: HARDWARE, calibration: { fraction: 0.125, gpu: 140, cpu: 90 } }).path, 'js');
  });
});

/** Segmentation-shaped logits [4, 10, height, 64] (163,840 elements by default: past the small-capture bound) with inline data. */
function segmentationCapture(height = 64): CaptureRecord {
  const shape = [4, 10, height, 64];
  const inner = height * 64;
  let seed = 99;
  const random = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const labels = BigInt64Array.from({ length: 4 * inner }, () => BigInt(Math.floor(random() * random() * 10)));
  const logits = new Float32Array(4 * 10 * inner);
  for (let n = 0; n < 4; n++) {
    for (let j = 0; j < inner; j++) {
      for (let c = 0; c < 10; c++) logits[(n * 10 + c) * inner + j] = (random() - 0.5) * 4 + (BigInt(c) === labels[n * inner + j] ? 1.5 : 0);
    }
  }
  const inline = (tensor: Parameters<typeof encodeNpy>[0]): string => Buffer.from(encodeNpy(tensor)).toString('base64');
  return parseCaptureRecord({
    format: 'loss-lens-capture', version: 1, id: 'segmentation', createdAt: '2026-01-01T00:00:00+00:00',
    loss: 'cross_entropy', framework: 'pytorch', options: { reduction: 'mean', ignoreIndex: 255 }, source: { via: 'helper' },
    tensors: {
      input: { dtype: 'float32', shape, data: inline({ dtype: 'float32', shape, data: logits }) },
      target: { dtype: 'int64', shape: [4, height, 64], data: inline({ dtype: 'int64', shape: [4, height, 64], data: labels }) },
    },
  });
}

const lossCall: PanelLossCall = { id: '1:2:7', loss: 'cross_entropy', cell: 1, line: 2, text: 'criterion(model(x), y)', options: {}, findings: [], editable: true };

function show(capture: PanelCapture, hostCompute: boolean): HostMessage {
  return { type: 'show', notebook: { uri: 'file:///seg.ipynb', name: 'seg.ipynb' }, calls: [lossCall], captures: [capture], maxElements: 50_000_000, hostCompute };
}

async function analysed(page: PanelPage): Promise<void> {
  await page.page.waitForSelector('[data-testid="analysis"][aria-busy="false"]', { timeout: 120_000 });
  const error = await page.page.locator('[data-testid="analysis-error"]').count();
  if (error) assert.fail(await page.page.locator('[data-testid="analysis-error"]').innerText());
}

describe('automatic backend in Chromium with software devices', { skip }, () => {
  const record = segmentationCapture();
  const capture: PanelCapture = { record, cell: 2, callId: lossCall.id };

  /** A stand-in host for `capture` that records what the webview asked. */
  function recordingHost(asked: HostRequest[]): (message: HostRequest) => Promise<unknown> {
    const answer = standInHost(() => [capture]);
    return (message) => {
      asked.push(message);
      return answer(message);
    };
  }

  it('hands the work to the extension host, says why, and shows the host kernel\'s numbers; no tensor crosses to the webview', async () => {
    const asked: HostRequest[] = [];
    const page = await openPanelPage({ softwareWebGpu: true, host: recordingHost(asked) });
    try {
      // As the provider sends it: the record and the shapes, no bytes.
      const message = show(withoutTensorBytes(capture), true);
      assert.doesNotMatch(JSON.stringify(message), /"data":|"files":/);
      await page.send(message);
      await analysed(page);
      const badge = await page.page.locator('[data-testid="backend-badge"]').innerText();
      assert.match(badge, /^extension host \(js/);
      const reason = await page.page.locator('[data-testid="backend-reason"]').innerText();
      assert.match(reason, /WebGL renders in software \(.*SwiftShader.*\): computed by the extension host on every core/);
      assert.deepEqual(asked, [{ type: 'analyse', requestId: 1, captureId: 'segmentation', findings: [] }], 'one analysis, no calibration on a software GPU, no requestTensors');
      const expected = await analyseCapture(record, decodeCaptureTensors(record), 'js');
      const shown = Number(await page.page.locator('[data-testid="loss-value"]').first().innerText());
      assert.ok(Math.abs(shown - expected.result!.value!) <= 1e-5 * expected.result!.value!, `${shown} vs ${expected.result!.value}`);
      // The host's one pass (the SIMD kernel over the [N, C, H, W] planes) against the engine's general float64 kernel.
      const general = await computeLoss(requestFor(record, decodeCaptureTensors(record)), { backend: 'js' });
      assert.ok(Math.abs(shown - general.value!) <= 1e-5 * general.value!, `${shown} vs ${general.value} (general kernel)`);
      const counts = await page.page.locator('[data-testid="class-table"] tr').evaluateAll((rows) => rows.slice(1).map((row) => row.children[1].textContent));
      assert.deepEqual(counts, expected.classes.map((row) => String(row.count)));
    } finally {
      await page.close();
    }
  });

  it('a backend of the webview asks the host for the tensors once, and computes the same numbers', async () => {
    const asked: HostRequest[] = [];
    const page = await openPanelPage({ initialState: { backend: 'js' }, host: recordingHost(asked) });
    try {
      await page.send(show(withoutTensorBytes(capture), true));
      await analysed(page);
      assert.match(await page.page.locator('[data-testid="backend-badge"]').innerText(), /^js · float32/);
      assert.deepEqual(asked, [{ type: 'requestTensors', requestId: 1, captureId: 'segmentation', maxElements: 50_000_000 }]);
      const expected = await analyseCapture(record, decodeCaptureTensors(record), 'js');
      assert.equal(Number(await page.page.locator('[data-testid="loss-value"]').first().innerText()), Number(expected.result!.value!.toPrecision(6)));
      // Another backend of the webview computes on the tensors it holds.
      await page.page.selectOption('[data-testid="backend-select"]', 'wasm');
      await page.page.waitForFunction(() => /WASM/.test(document.querySelector('[data-testid="backend-badge"]')?.textContent ?? ''), undefined, { timeout: 120_000 });
      await analysed(page);
      assert.equal(asked.length, 1, 'the tensors were not asked for again');
      // The element limit applies to what the host sends: a limit of 2 rows' worth sends the first 2 rows.
      await page.send({ ...show(withoutTensorBytes(capture), true), maxElements: 2 * 10 * 64 * 64 });
      await page.page.waitForSelector('[data-testid="sampled-note"]', { timeout: 120_000 });
      await analysed(page);
      assert.deepEqual(asked[1], { type: 'requestTensors', requestId: 2, captureId: 'segmentation', maxElements: 2 * 10 * 64 * 64 });
      assert.match(await page.page.locator('[data-testid="sampled-note"]').first().innerText(), /Sampled: the first 2 of 4 rows/);
      const shape = await page.page.locator('[data-testid="tensor-stats"] tr[data-role="input"] td').nth(2).innerText();
      assert.equal(shape, '[2, 10, 64, 64]');
    } finally {
      await page.close();
    }
  });

  it('without a host, keeps the work in the webview\'s own kernel rather than software WebGL', async () => {
    const page = await openPanelPage({ softwareWebGpu: true });
    try {
      await page.send(show(capture, false));
      await analysed(page);
      const badge = await page.page.locator('[data-testid="backend-badge"]').innerText();
      assert.match(badge, /^js · float32/);
      assert.match(await page.page.locator('[data-testid="backend-reason"]').innerText(), /computed by this webview's JavaScript kernel/);
      assert.equal((await page.posted()).filter((message) => (message as { type: string }).type === 'analyse').length, 0);
    } finally {
      await page.close();
    }
  });
});

describe('the extension host\'s analysis bundle', () => {
  const bundled = path.join(REPOSITORY_ROOT, 'client/out/host-analysis.js');
  it('client/out/host-analysis.js analyses a capture on the worker threads beside it', { skip: !fs.existsSync(bundled) && 'not built (npm run build)' }, async () => {
    // 2.6M elements: past the size where the engine brings in threads.
    const record = segmentationCapture(1024);
    const capture: PanelCapture = { record, cell: 2 };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { analyseOnHost: bundledAnalyse } = require(bundled) as { analyseOnHost: typeof analyseOnHost };
    const { analysis } = await bundledAnalyse(capture, [], 50_000_000);
    const threads = threadsFromEnvironment();
    assert.equal(analysis.threads, threads > 1 ? threads : undefined);
    const expected = await analyseCapture(record, decodeCaptureTensors(record), 'js');
    // The same bits as one thread here: the blocks are summed in the same order whatever ran them.
    assert.equal(analysis.result!.value, expected.result!.value);
    assert.deepEqual(analysis.classes, expected.classes);
    assert.equal(analysis.histograms.loss.counts.reduce((a, b) => a + b, 0), 4 * 1024 * 64, 'every element binned by the host');
  });
});
