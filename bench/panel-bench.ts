/**
 * From a capture of segmentation logits `[8, 21, 512, 512]` float32 (44M elements) and its int64 target
 * `[8, 512, 512]` to the numbers the panel shows (loss, checks, per-class table, plot series):
 *
 *   npx tsx bench/panel-bench.ts [--skip-browser] [--skip-wasm]
 *
 * Goal: under 2 s, memory under three times the tensors' size. Measured:
 * - in Node, reading the capture folder + `analyseCapture` on the engine's host kernel (`js`, what `auto`
 *   picks without a GPU) and on TensorFlow.js WASM;
 * - in headless Chromium, the real webview bundle on WebGL (software rendering on a machine without a
 *   GPU): from the `show` message with the `.npy` bytes to the rendered analysis;
 * - the reference, in the same run: PyTorch (CPU) loading the same `.npy` files and computing
 *   `F.cross_entropy` on them, when /usr/bin/python3 has torch. Ratios are panel / reference.
 * Memory in Node is the growth of the peak resident set (maxRSS) of a child process doing only that run.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { configureNodeBackends } from '../server/src/losses/node-backends';
import { configureParallelKernels } from '../server/src/losses/parallel';
import { readFileShared } from '../server/src/tensors/read-file';
import { encodeNpy } from '../server/src/tensors/npy';
import { CAPTURE_FORMAT, CAPTURE_VERSION, parseCaptureRecord, type CaptureRecord } from '../client/src/capture/record';
import { decodeCaptureTensors } from '../client/src/capture/tensors';
import { analyseCapture } from '../client/src/panel/webview/compute';
import type { BackendChoice } from '../client/src/panel/webview/engine';
import { openPanelPage } from '../test/panel/browser-page';

const SHAPE = [8, 21, 512, 512];
const skipBrowser = process.argv.includes('--skip-browser');
const skipWasm = process.argv.includes('--skip-wasm');

/** A deterministic capture: logits that favour the true class, and its class indices. */
function writeCapture(folder: string): { bytes: number } {
  const [batch, classes, height, width] = SHAPE;
  const inner = height * width;
  const logits = new Float32Array(batch * classes * inner);
  const target = new BigInt64Array(batch * inner);
  let seed = 12345;
  const random = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  for (let n = 0; n < batch; n++) {
    for (let j = 0; j < inner; j++) {
      // Class c's share falls with c (background-heavy, as segmentation labels are).
      const label = Math.min(classes - 1, Math.floor(-Math.log(1 - random() * 0.999) * 3));
      target[n * inner + j] = BigInt(label);
      for (let c = 0; c < classes; c++) logits[(n * classes + c) * inner + j] = (random() - 0.5) * 4 + (c === label ? 2 : 0);
    }
  }
  fs.writeFileSync(path.join(folder, 'input.npy'), encodeNpy({ dtype: 'float32', shape: SHAPE, data: logits }));
  fs.writeFileSync(path.join(folder, 'target.npy'), encodeNpy({ dtype: 'int64', shape: [batch, height, width], data: target }));
  const record: CaptureRecord = {
    format: CAPTURE_FORMAT, version: CAPTURE_VERSION, id: 'bench', createdAt: new Date().toISOString(),
    loss: 'cross_entropy', framework: 'pytorch', options: { ignoreIndex: 255, reduction: 'mean' }, source: { via: 'helper' },
    tensors: {
      input: { dtype: 'float32', shape: SHAPE, file: 'input.npy' },
      target: { dtype: 'int64', shape: [batch, height, width], file: 'target.npy' },
    },
  };
  fs.writeFileSync(path.join(folder, 'manifest.json'), JSON.stringify(record));
  return { bytes: logits.byteLength + target.byteLength };
}

interface NodeRun { ms: number; readMs: number; analyseMs: number; cpuMs: number; peakBytes: number; value: number | null; engineBackend: string }

/** One Node measurement, in a child process so that its peak resident set is its own (maxRSS growth over the start). */
function nodeRun(folder: string, backend: BackendChoice): NodeRun | string {
  const child = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--node-child', backend, folder], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = child.stdout.split('\n').find((text) => text.startsWith('{'));
  return line ? (JSON.parse(line) as NodeRun) : `exit ${child.status}: ${child.stderr.slice(-500)}`;
}

async function nodeChild(backend: BackendChoice, folder: string): Promise<void> {
  configureNodeBackends();
  configureParallelKernels(); // as the extension host does: every core, or LOSS_LENS_THREADS
  const baselineKiB = process.resourceUsage().maxRSS;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const record = parseCaptureRecord(JSON.parse(fs.readFileSync(path.join(folder, 'manifest.json'), 'utf8')));
  const tensors = decodeCaptureTensors(record, (file) => readFileShared(path.join(folder, file)));
  const readMs = performance.now() - start;
  const analysis = await analyseCapture(record, tensors, backend);
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const run: NodeRun = {
    ms, readMs, analyseMs: ms - readMs, cpuMs: (cpu.user + cpu.system) / 1000, peakBytes: (process.resourceUsage().maxRSS - baselineKiB) * 1024,
    value: analysis.result?.value ?? null, engineBackend: analysis.backend + (analysis.result?.threads ? ` (${analysis.result.threads} threads)` : ''),
  };
  console.log(JSON.stringify(run));
}

function torchReference(folder: string): { ms: number; cpuMs: number; value: number } | undefined {
  const script = `
import json, time, numpy as np, torch, torch.nn.functional as F
start = time.perf_counter()
cpu_start = time.process_time()
x = torch.from_numpy(np.load(${JSON.stringify(path.join(folder, 'input.npy'))}))
t = torch.from_numpy(np.load(${JSON.stringify(path.join(folder, 'target.npy'))}))
value = F.cross_entropy(x, t, ignore_index=255).item()
print(json.dumps({"ms": (time.perf_counter() - start) * 1000, "cpuMs": (time.process_time() - cpu_start) * 1000, "value": value}))
`;
  const run = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
  if (run.status !== 0) return undefined;
  return JSON.parse(run.stdout) as { ms: number; cpuMs: number; value: number };
}

async function browserRun(folder: string): Promise<{ ms: number; badge: string; heapBytes: number } | string> {
  const page = await openPanelPage({
    initialState: { backend: 'webgl' },
    dataFiles: { 'input.npy': path.join(folder, 'input.npy'), 'target.npy': path.join(folder, 'target.npy') },
  });
  try {
    const record = JSON.parse(fs.readFileSync(path.join(folder, 'manifest.json'), 'utf8')) as CaptureRecord;
    // The bytes are fetched into the page first (the extension host would have read them); then the timed part.
    // (No named functions inside page.evaluate: tsx's name-keeping helper does not exist in the page.)
    await page.page.evaluate(() => Promise.all(['input.npy', 'target.npy'].map((name) => fetch(`/data/${name}`).then((response) => response.arrayBuffer())))
      .then(([input, target]) => { (window as unknown as { __files: unknown }).__files = { input: new Uint8Array(input), target: new Uint8Array(target) }; }));
    await page.page.evaluate((captureRecord) => {
      (window as unknown as { __start: number }).__start = window.performance.now();
      window.postMessage({
        type: 'show', notebook: { uri: 'file:///bench.ipynb', name: 'bench.ipynb' }, calls: [], maxElements: 1e9,
        captures: [{ record: captureRecord, files: (window as unknown as { __files: unknown }).__files }],
      }, '*');
    }, record);
    await page.page.waitForSelector('[data-testid="analysis"][aria-busy="false"]', { timeout: 600_000 });
    const ms = await page.page.evaluate(() => window.performance.now() - (window as unknown as { __start: number }).__start);
    const error = await page.page.locator('[data-testid="analysis-error"]').count();
    if (error) return await page.page.locator('[data-testid="analysis-error"]').innerText();
    const badge = await page.page.locator('[data-testid="backend-badge"]').innerText();
    const session = await page.page.context().newCDPSession(page.page);
    await session.send('Performance.enable');
    const heap = (await session.send('Performance.getMetrics')).metrics.find((metric) => metric.name === 'JSHeapUsedSize');
    return { ms, badge, heapBytes: heap?.value ?? NaN };
  } finally {
    await page.close();
  }
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-panel-bench-'));
  try {
    const { bytes } = writeCapture(folder);
    console.log(`capture: input float32[${SHAPE.join(', ')}] + target int64[8, 512, 512] = ${mb(bytes)} (budget: 2 s, ${mb(3 * bytes)})`);
    const reference = torchReference(folder);
    if (reference) console.log(`reference  PyTorch CPU (load .npy + F.cross_entropy): ${reference.ms.toFixed(0)} ms wall (${reference.cpuMs.toFixed(0)} ms CPU), loss ${reference.value}`);
    else console.log('reference  PyTorch: not available (/usr/bin/python3 cannot import torch)');
    for (const backend of (skipWasm ? ['js'] : ['js', 'wasm']) as BackendChoice[]) {
      const run = nodeRun(folder, backend);
      if (typeof run === 'string') {
        console.log(`node ${backend}: failed: ${run}`);
        continue;
      }
      const ratio = reference ? `, ${(run.ms / reference.ms).toFixed(1)}x PyTorch` : '';
      console.log(`node ${backend.padEnd(5)} (ran ${run.engineBackend}): ${run.ms.toFixed(0)} ms wall (read ${run.readMs.toFixed(0)} + analyse ${run.analyseMs.toFixed(0)}) (${run.cpuMs.toFixed(0)} ms CPU)${ratio}; peak memory growth ${mb(run.peakBytes)} = ${(run.peakBytes / bytes).toFixed(2)}x the tensors; loss ${run.value}`);
    }
    if (!skipBrowser) {
      const run = await browserRun(folder);
      if (typeof run === 'string') console.log(`chromium webgl: failed: ${run}`);
      else {
        const ratio = reference ? `, ${(run.ms / reference.ms).toFixed(1)}x PyTorch` : '';
        console.log(`chromium webview (${run.badge}): ${run.ms.toFixed(0)} ms from the show message to the rendered analysis${ratio}; JS heap after ${mb(run.heapBytes)} = ${(run.heapBytes / bytes).toFixed(2)}x the tensors`);
      }
    }
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

const childAt = process.argv.indexOf('--node-child');
void (childAt >= 0 ? nodeChild(process.argv[childAt + 1] as BackendChoice, process.argv[childAt + 2]) : main());
