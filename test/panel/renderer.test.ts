// The notebook renderer (client/out/renderer.js, an ES module) in headless Chromium: it renders the
// example notebook's saved capture as a summary, its link posts `openPanel` through renderer
// messaging, and a malformed output renders as a one-line error.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CAPTURE_MIME_TYPE } from '../../client/src/capture/record';
import { REPOSITORY_ROOT, chromiumAvailable, openPanelPage, type PanelPage } from './browser-page';
import { exampleCapture } from './example-notebooks';

const bundle = path.join(REPOSITORY_ROOT, 'client/out/renderer.js');
const skip = !chromiumAvailable() ? 'no /usr/bin/chromium' : !fs.existsSync(bundle) ? 'client/out/renderer.js is not built (npm run build)' : false;

/**
 * Renders one output item with the renderer's `activate` and returns the output element's text. The page
 * code is a string: it imports a URL of the page, and tsx's helpers must not leak into it.
 */
function render(page: PanelPage, json: unknown): Promise<string> {
  return page.page.evaluate(`(async () => {
    const renderer = await import('/out/renderer.js');
    window.__rendererPosted = [];
    const api = renderer.activate({ postMessage: (message) => window.__rendererPosted.push(message) });
    const output = document.getElementById('output');
    const data = ${JSON.stringify(json)};
    api.renderOutputItem({ mime: ${JSON.stringify(CAPTURE_MIME_TYPE)}, json: () => data }, output);
    return output.innerText;
  })()`);
}

describe('notebook renderer in headless Chromium', { skip }, () => {
  let page: PanelPage;
  before(async () => {
    page = await openPanelPage();
    await page.page.goto(`${page.origin}/blank`);
  });
  after(async () => page.close());

  it('summarises a saved capture and opens the panel on it', async () => {
    const example = exampleCapture('sigmoid-before-bce-with-logits.ipynb');
    const text = await render(page, example.record);
    assert.match(text, /Loss Lens capture · binary_cross_entropy_with_logits \(reduction=mean\)/);
    assert.match(text, /input: float32\[4096, 24\]/);
    assert.match(text, /target: float32\[4096, 24\]/);
    await page.page.getByText('Open in the Loss Lens panel').click();
    const posted = await page.page.evaluate(() => (window as unknown as { __rendererPosted: unknown[] }).__rendererPosted);
    assert.deepEqual(posted, [{ type: 'openPanel', captureId: example.record.id }]);
  });

  it('renders a malformed output as a one-line error', async () => {
    const text = await render(page, { format: 'loss-lens-capture', version: 99 });
    assert.match(text, /^Loss Lens: this capture cannot be read \(capture version 99 is not supported/);
  });
});
