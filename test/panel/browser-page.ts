/**
 * Serves the panel's webview bundle (`client/out/panel.js` + the WASM backend's files) on 127.0.0.1 in
 * the page the extension host would build (same HTML, same CSP, same nonce), with a stand-in for the
 * webview API `acquireVsCodeApi` that records posted messages and keeps state, and opens it in headless
 * Chromium. Shared by the panel's browser test and its benchmark.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { analyseOnHost } from '../../client/src/panel/host-analysis';
import { createNonce, panelHtml } from '../../client/src/panel/html';
import type { PanelCapture, WebviewMessage } from '../../client/src/panel/messages';
import { tensorsForWebview } from '../../client/src/panel/transfer';

export const REPOSITORY_ROOT = path.resolve(__dirname, '../..');
const OUT = path.join(REPOSITORY_ROOT, 'client/out');
export const CHROMIUM = '/usr/bin/chromium';

const CONTENT_TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' };

export interface PanelPage {
  browser: Browser;
  page: Page;
  origin: string;
  /** Messages the webview posted to the "host". */
  posted(): Promise<unknown[]>;
  /** Sends a message as the extension host would. */
  send(message: unknown): Promise<void>;
  close(): Promise<void>;
}

function startServer(initialState: unknown, dataFiles: Record<string, string>): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') {
      const origin = `http://${request.headers.host}`;
      const nonce = createNonce();
      const html = panelHtml({ cspSource: origin, scriptUri: `${origin}/out/panel.js`, wasmFolderUri: `${origin}/out/` }, nonce);
      // The stand-in webview API, allowed by the page's own nonce, loaded before the bundle.
      const fake = `<script nonce="${nonce}">
        window.__posted = [];
        let state = ${JSON.stringify(initialState ?? null)};
        window.acquireVsCodeApi = () => ({
          postMessage: (message) => {
            window.__posted.push(message);
            // The stand-in extension host, when the test gives one: its reply comes back as the host's would.
            if (message && (message.type === 'analyse' || message.type === 'requestTensors') && window.__lossLensHost) {
              window.__lossLensHost(message).then(async (reply) => {
                // A file given as { fetch: '/data/<name>' } (the benchmark's 184 MiB) is loaded here rather than
                // through Playwright's bridge: the reply the webview gets holds its bytes, as the host's would.
                if (reply && reply.type === 'tensors' && reply.files) {
                  for (const [role, file] of Object.entries(reply.files)) {
                    if (file && typeof file.fetch === 'string') reply.files[role] = new Uint8Array(await (await fetch(file.fetch)).arrayBuffer());
                  }
                }
                window.postMessage(reply, '*');
              });
            }
          },
          getState: () => state,
          setState: (next) => { state = next; window.__state = next; },
        });
      </script>`;
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(html.replace('<div id="root"></div>', `<div id="root"></div>${fake}`));
      return;
    }
    if (url.pathname === '/blank') {
      // A page without the panel, for loading other bundles (the notebook renderer).
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!DOCTYPE html><html><body><div id="output"></div></body></html>');
      return;
    }
    const file = url.pathname.startsWith('/data/') ? dataFiles[path.basename(url.pathname)] : path.join(OUT, path.basename(url.pathname));
    if (!file || !(url.pathname.startsWith('/out/') || url.pathname.startsWith('/data/')) || !fs.existsSync(file)) {
      response.writeHead(404);
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(response);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** The webview's requests a stand-in host answers. */
export type HostRequest = WebviewMessage & { type: 'analyse' | 'requestTensors' };

/**
 * A stand-in extension host for `captures` (as the provider holds them, bytes included), answering as the provider
 * does: `analyse` with `analyseOnHost`, `requestTensors` with `tensorsForWebview`, under the element limit `maxElements`.
 */
export function standInHost(captures: () => readonly PanelCapture[], maxElements = 50_000_000): (message: HostRequest) => Promise<unknown> {
  return async (message) => {
    const { requestId } = message;
    const capture = captures().find((shown) => shown.record.id === message.captureId);
    const type = message.type === 'analyse' ? 'analysis' : 'tensors';
    if (!capture) return { type, requestId, error: 'that capture is no longer in the notebook' };
    const limit = Math.min(maxElements, message.maxElements ?? Infinity);
    try {
      if (message.type === 'requestTensors') return { type, requestId, ...tensorsForWebview(capture, limit) };
      return { type, requestId, ...(await analyseOnHost(capture, message.findings, limit)) };
    } catch (error) {
      return { type, requestId, error: error instanceof Error ? error.message : String(error) };
    }
  };
}

export interface PanelPageOptions {
  initialState?: unknown;
  viewport?: { width: number; height: number };
  /** Files the page may fetch from `/data/<name>` (the benchmark's tensors). */
  dataFiles?: Record<string, string>;
  /**
   * A stand-in extension host answering the webview's `analyse` messages (in Node: the tests and the benchmark
   * run the host's own `analyseOnHost`). Without it, `analyse` messages are only recorded.
   */
  host?: (message: HostRequest) => Promise<unknown>;
  /** Software GPUs as the engine's browser tests use them: SwiftShader for WebGL and a WebGPU adapter. */
  softwareWebGpu?: boolean;
}

export async function openPanelPage(options: PanelPageOptions = {}): Promise<PanelPage> {
  const server = await startServer(options.initialState, options.dataFiles ?? {});
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu',
      ...(options.softwareWebGpu ? ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'] : [])],
  });
  const page = await browser.newPage({ viewport: options.viewport ?? { width: 900, height: 1200 } });
  if (options.host) await page.exposeFunction('__lossLensHost', options.host);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(origin);
  await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((message) => message.type === 'ready'));
  return {
    browser,
    page,
    origin,
    posted: () => page.evaluate(() => (window as unknown as { __posted: unknown[] }).__posted),
    send: (message) => page.evaluate((data) => window.postMessage(data, '*'), message),
    close: async () => {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
      if (pageErrors.some((error) => /Content Security Policy/.test(error))) throw new Error(`CSP violations: ${pageErrors.join('\n')}`);
    },
  };
}

export function chromiumAvailable(): boolean {
  return fs.existsSync(CHROMIUM);
}
