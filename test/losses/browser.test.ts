// The PyTorch conformance suite on the browser backends (WebGL, WebGPU when the browser offers it, and wasm),
// in headless Chromium (playwright-core, /usr/bin/chromium): the loss engine bundled with esbuild exactly as the
// panel's webview gets it, served from 127.0.0.1 (wasm needs a real origin to fetch from).
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import * as esbuild from 'esbuild';
import { chromium, Browser } from 'playwright-core';

const root = path.join(__dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let site = '';
let server: http.Server;
let browser: Browser | undefined;
let origin = '';

before(async () => {
  site = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-browser-'));
  await esbuild.build({
    entryPoints: [path.join(__dirname, 'browser/page.ts')], bundle: true, platform: 'browser', format: 'iife',
    target: 'es2022', outfile: path.join(site, 'page.js'), logLevel: 'error',
  });
  const wasmDir = path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  for (const file of fs.readdirSync(wasmDir).filter((name) => name.endsWith('.wasm'))) fs.copyFileSync(path.join(wasmDir, file), path.join(site, file));
  fs.copyFileSync(path.join(root, 'test/fixtures/conformance/cases.json'), path.join(site, 'cases.json'));
  fs.writeFileSync(path.join(site, 'index.html'), '<!doctype html><meta charset="utf-8"><title>loss engine</title><script src="page.js"></script>');
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };
  server = http.createServer((request, response) => {
    const file = path.join(site, path.basename(new URL(request.url ?? '/', 'http://x').pathname) || 'index.html');
    if (!fs.existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (fs.existsSync(CHROMIUM)) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
    });
  }
});

after(async () => {
  await browser?.close();
  server?.close();
  fs.rmSync(site, { recursive: true, force: true });
});

interface PageReport { backend: string; ranOn: string[]; precision: string[]; cases: number; failures: string[]; fatal?: string }

async function runSuite(backend: string, query = ''): Promise<PageReport> {
  const page = await browser!.newPage();
  try {
    await page.goto(`${origin}/index.html?backend=${backend}${query}`);
    await page.waitForFunction(() => (window as { lossLensReport?: unknown }).lossLensReport !== undefined, undefined, { timeout: 120_000 });
    return (await page.evaluate(() => (window as unknown as { lossLensReport: PageReport }).lossLensReport));
  } finally {
    await page.close();
  }
}

for (const backend of ['webgl', 'wasm']) {
  test(`conformance with PyTorch in Chromium on ${backend}`, { timeout: 180_000 }, async (t) => {
    if (!browser) return t.skip(`no Chromium at ${CHROMIUM}`);
    const report = await runSuite(backend);
    assert.equal(report.fatal, undefined);
    assert.equal(report.cases > 150, true);
    t.diagnostic(`${backend}: ran on ${report.ranOn.join(', ')}; precision ${report.precision.join(', ')}`);
    // float32 cases run on the backend itself; float64 cases on the host kernel (TensorFlow.js has no float64).
    assert.deepEqual(report.ranOn.sort(), [backend, 'js-float64'].sort());
    assert.deepEqual(report.failures, []);
  });
}

test('auto picks a GPU backend in the browser for a large input, and agrees with float64', { timeout: 120_000 }, async (t) => {
  if (!browser) return t.skip(`no Chromium at ${CHROMIUM}`);
  const report = await runSuite('auto');
  assert.equal(report.fatal, undefined);
  t.diagnostic(`auto chose ${report.ranOn.join(', ')} (${report.precision.join(', ')})`);
  assert.ok(['webgpu', 'webgl'].includes(report.ranOn[0]), report.ranOn[0]);
  assert.deepEqual(report.failures, []);
});

test('WebGL with only float16 textures reports float16 precision and keeps to it', { timeout: 180_000 }, async (t) => {
  if (!browser) return t.skip(`no Chromium at ${CHROMIUM}`);
  const report = await runSuite('webgl', '&float16=1');
  assert.equal(report.fatal, undefined);
  assert.deepEqual(report.precision, ['float16']);
  assert.ok(report.cases >= 10);
  // Checked against PyTorch within float16's 2e-3 (conformance-cases.ts: tolerance()).
  assert.deepEqual(report.failures, []);
});

test('conformance with PyTorch in Chromium on webgpu, where the browser offers it', { timeout: 180_000 }, async (t) => {
  if (!browser) return t.skip(`no Chromium at ${CHROMIUM}`);
  const page = await browser.newPage();
  await page.goto(`${origin}/index.html?backend=js`);
  const hasAdapter = await page.evaluate(async () => {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return Boolean(gpu && (await gpu.requestAdapter()));
  });
  await page.close();
  if (!hasAdapter) return t.skip('this Chromium offers no WebGPU adapter');
  const report = await runSuite('webgpu');
  assert.equal(report.fatal, undefined);
  t.diagnostic(`webgpu: ran on ${report.ranOn.join(', ')}; precision ${report.precision.join(', ')}`);
  assert.deepEqual(report.failures, []);
});
