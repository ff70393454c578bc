/**
 * Captured tensors in the editor, end to end in code-server with the packaged .vsix: an example notebook whose
 * saved output holds a capture of softmax probabilities fed to CrossEntropyLoss; the extension sends the capture to
 * the language server, and the Problems view shows the finding confirmed with the figures PyTorch gives (the example
 * notebook holds PyTorch's loss, computed when it was made). Screenshot: docs/images/confirmed-diagnostic.png.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromiumAvailable } from '../panel/browser-page';
import { EXAMPLES, exampleCapture } from '../panel/example-notebooks';
import { REPOSITORY_ROOT, ensureCodeServer, ensureVsix, startCodeServer, type RunningCodeServer } from './codeServer';
import { Workbench, launchBrowser, waitUntil } from './workbench';

const NOTEBOOK = 'softmax-before-cross-entropy.ipynb';
const FAILURE_SCREENSHOTS = path.join(REPOSITORY_ROOT, 'test-output/e2e');
const skip = chromiumAvailable() ? false : 'no /usr/bin/chromium';

describe('captured tensors confirm a finding in VS Code (code-server)', { skip, timeout: 30 * 60_000 }, () => {
  let codeServer: RunningCodeServer;
  let browser: Browser;
  let workbench: Workbench;
  let workspaceSource: string;

  before(async () => {
    ensureCodeServer();
    const vsix = ensureVsix();
    workspaceSource = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-captures-e2e-'));
    fs.copyFileSync(path.join(EXAMPLES, NOTEBOOK), path.join(workspaceSource, NOTEBOOK));
    codeServer = await startCodeServer(vsix, workspaceSource);
    browser = await launchBrowser();
    workbench = new Workbench(await browser.newPage({ viewport: { width: 1500, height: 1000 } }));
    await workbench.open(codeServer.url, codeServer.workspace);
  });

  after(async () => {
    await browser?.close();
    await codeServer?.stop();
    if (workspaceSource) fs.rmSync(workspaceSource, { recursive: true, force: true });
  });

  it('shows the confirmed message with the figures in the Problems view once the saved capture is opened', async () => {
    try {
      const example = exampleCapture(NOTEBOOK);
      await workbench.openFile(NOTEBOOK);
      await workbench.showProblems();
      // The finding, and its related information naming the capture (its output cell), which the view may list a moment later.
      const rows = await waitUntil('the confirmed finding and its capture in the Problems view', async () => {
        const labels = await workbench.problemRows();
        return labels.some((label) => label.includes('confirmed on captured tensors')) && labels.some((label) => label.startsWith('capture example-cross-entropy')) ? labels : undefined;
      }, 120_000);
      const confirmed = rows.find((label) => label.includes('confirmed on captured tensors'))!;
      assert.match(confirmed, /applies softmax itself/);
      const figures = /loss ([\d.]+), on the logits ([\d.]+); gradients ([\d.]+)x smaller/.exec(confirmed);
      assert.ok(figures, confirmed);
      // The configured loss is PyTorch's, to the four digits shown.
      assert.equal(Number(figures[1]), Number(example.torchLoss.toPrecision(4)));
      assert.ok(Number(figures[2]) < Number(figures[1]) && Number(figures[3]) > 1, confirmed);
      await workbench.page.locator('.markers-panel .monaco-list-row', { hasText: 'confirmed on captured tensors' }).first().scrollIntoViewIfNeeded();
      await workbench.screenshot(path.join(REPOSITORY_ROOT, 'docs/images/confirmed-diagnostic.png'));
    } catch (error) {
      fs.mkdirSync(FAILURE_SCREENSHOTS, { recursive: true });
      await workbench?.screenshot(path.join(FAILURE_SCREENSHOTS, 'captures.png')).catch(() => undefined);
      fs.writeFileSync(path.join(FAILURE_SCREENSHOTS, 'captures.log'), codeServer?.log() ?? '');
      throw error;
    }
  });
});
