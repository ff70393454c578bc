/**
 * The panel end to end in a real VS Code (code-server, the client's harness in test/e2e/) with the
 * packaged .vsix: open an example notebook whose saved output holds a capture (no kernel), see the
 * renderer's summary in the cell output, open the Loss Lens panel, see PyTorch's loss value and the
 * checks, run "Insert weight into code" and check the saved notebook's constructor, and see "Inspect loss"
 * say clearly that it needs the Jupyter extension (this VS Code has none) and name the helper. Screenshot to
 * docs/images/panel-vscode.png. Slow (installs code-server and packages the .vsix the first time).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Frame } from 'playwright-core';
import { ensureCodeServer, ensureVsix, startCodeServer, type RunningCodeServer } from '../e2e/codeServer';
import { Workbench, launchBrowser, waitUntil } from '../e2e/workbench';
import { REPOSITORY_ROOT, chromiumAvailable } from './browser-page';
import { EXAMPLES, exampleCapture } from './example-notebooks';

const NOTEBOOK = 'softmax-before-cross-entropy.ipynb';
const FAILURE_SCREENSHOTS = path.join(REPOSITORY_ROOT, 'test-output/e2e');
const skip = chromiumAvailable() ? false : 'no /usr/bin/chromium';

/** The panel's document: the webview frame that holds the panel's root. */
async function panelFrame(workbench: Workbench): Promise<Frame> {
  return waitUntil('the Loss Lens panel webview', async () => {
    for (const frame of workbench.page.frames()) {
      if (await frame.locator('[data-testid="backend-select"]').count().catch(() => 0)) return frame;
    }
    return undefined;
  }, 90_000);
}

const SAMPLED_NOTEBOOK = 'sampled.ipynb';

/**
 * A notebook whose saved capture was cut to its first rows (inline limit 50 kB) while the helper's
 * capture folder, outside the workspace, keeps all 3000 rows; returns PyTorch's loss on all of them
 * (undefined when /usr/bin/python3 has no torch: the test is then skipped).
 */
function writeSampledNotebook(workspace: string): number | undefined {
  const script = `
import json, sys, numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, ${JSON.stringify(path.join(REPOSITORY_ROOT, 'python'))})
import loss_lens
shown = []
loss_lens._display = shown.append
rng = np.random.default_rng(0)
x = rng.standard_normal((3000, 10)).astype(np.float32)
y = rng.integers(0, 10, 3000)
loss_lens.capture(input=x, target=y, loss="cross_entropy", folder=sys.argv[1], max_inline_bytes=50000)
cells = [
    {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": ["import torch.nn as nn\\n", "criterion = nn.CrossEntropyLoss()\\n", "loss = criterion(x, y)"]},
    {"cell_type": "code", "execution_count": 2, "metadata": {}, "source": ["loss_lens.capture(input=x, target=y, loss=criterion)"],
     "outputs": [{"output_type": "display_data", "metadata": {}, "data": {loss_lens.MIME_TYPE: shown[0], "text/plain": ["capture"]}}]},
]
json.dump({"cells": cells, "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}, open(sys.argv[2], "w"))
print(F.cross_entropy(torch.from_numpy(x), torch.from_numpy(y)).item())
`;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-panel-e2e-captures-'));
  const run = spawnSync('/usr/bin/python3', ['-c', script, folder, path.join(workspace, SAMPLED_NOTEBOOK)], { encoding: 'utf8' });
  return run.status === 0 ? Number(run.stdout.trim()) : undefined;
}

describe('notebook panel in VS Code (code-server)', { skip, timeout: 30 * 60_000 }, () => {
  let codeServer: RunningCodeServer;
  let browser: Browser;
  let workbench: Workbench;
  let workspaceSource: string;
  let sampledTorchLoss: number | undefined;

  before(async () => {
    ensureCodeServer();
    const vsix = ensureVsix();
    workspaceSource = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-panel-e2e-'));
    fs.copyFileSync(path.join(EXAMPLES, NOTEBOOK), path.join(workspaceSource, NOTEBOOK));
    sampledTorchLoss = writeSampledNotebook(workspaceSource);
    codeServer = await startCodeServer(vsix, workspaceSource);
    browser = await launchBrowser();
    workbench = new Workbench(await browser.newPage({ viewport: { width: 1500, height: 1000 } }));
    await workbench.open(codeServer.url, codeServer.workspace);
  });

  after(async () => {
    await browser?.close();
    await codeServer?.stop();
    fs.rmSync(workspaceSource, { recursive: true, force: true });
  });

  it('shows the saved capture, its numbers and checks, and inserts the suggested weight into the constructor', async () => {
    try {
      const example = exampleCapture(NOTEBOOK);
      await workbench.openFile(NOTEBOOK);
      // The renderer's summary in the output of the capture cell.
      await waitUntil('the Loss Lens renderer output', async () => {
        for (const frame of workbench.page.frames()) {
          if (await frame.getByText('Open in the Loss Lens panel').count().catch(() => 0)) return true;
        }
        return undefined;
      }, 90_000);

      await workbench.runCommand('Loss Lens: Show Notebook Panel');
      const panel = await panelFrame(workbench);
      await panel.locator('[data-testid="analysis"][aria-busy="false"]').waitFor({ timeout: 120_000 });
      const shown = Number(await panel.locator('[data-testid="loss-value"]').innerText());
      assert.ok(Math.abs(shown - example.torchLoss) <= 1e-5 * example.torchLoss, `panel ${shown} vs PyTorch ${example.torchLoss}`);
      assert.match(await panel.locator('.source').innerText(), /cell 3, line 3: criterion\(probabilities, labels\)/);
      const rules = await panel.locator('[data-testid="checks"] li[data-rule]').evaluateAll((items) => items.map((item) => item.getAttribute('data-rule')));
      assert.ok(rules.includes('input-rows-sum-to-one') && rules.includes('class-imbalance'), `checks: ${rules.join(', ')}`);
      // The language server's finding at the call, with the verdict the Problems view shows (test/e2e/captures.test.ts).
      const verdict = panel.locator('[data-testid="verdicts"] li[data-rule="softmax-before-cross-entropy"]');
      assert.equal(await verdict.getAttribute('data-verdict'), 'confirmed');
      assert.match(await verdict.innerText(), /confirmed on captured tensors: loss 3\.527, on the logits 2\.675; gradients 6\.5x smaller/);
      // For the screenshot: the Explorer's file list collapsed so that the panel has the side bar's height,
      // and the side bar widened by dragging its edge.
      await workbench.page.locator('.pane-header[aria-label^="Explorer Section"]').first().click().catch(() => undefined);
      const sash = workbench.page.locator('.part.sidebar').first();
      const box = await sash.boundingBox();
      if (box) {
        await workbench.page.mouse.move(box.x + box.width + 1, box.y + box.height / 2);
        await workbench.page.mouse.down();
        await workbench.page.mouse.move(box.x + 620, box.y + box.height / 2, { steps: 5 });
        await workbench.page.mouse.up();
      }
      await panel.locator('[data-testid="loss-value"]').scrollIntoViewIfNeeded();
      await workbench.screenshot(path.join(REPOSITORY_ROOT, 'docs/images/panel-vscode.png'));

      const suggestion = await panel.locator('[data-rule="class-imbalance"] pre').innerText();
      await panel.locator('[data-testid="insert-weight"]').click();
      // Save with the keyboard in the notebook (the click puts the focus back from the webview).
      await workbench.notebookCellEditor(0).click();
      await workbench.save();
      const saved = await waitUntil('the notebook saved with the weight', async () => {
        const text = fs.readFileSync(path.join(codeServer.workspace, NOTEBOOK), 'utf8');
        return text.includes('nn.CrossEntropyLoss(weight=') ? text : undefined;
      }, 60_000);
      const cells = (JSON.parse(saved) as { cells: { source: string[] }[] }).cells.map((cell) => cell.source.join(''));
      assert.ok(cells[2].includes(`criterion = nn.CrossEntropyLoss(${suggestion.trim()})`), cells[2]);

      // "Inspect loss" without the Jupyter extension (none in this VS Code): it says so and names the helper.
      await workbench.page.locator('.notebook-editor .codelens-decoration a', { hasText: 'Inspect loss' }).first().click();
      const status = await waitUntil('the panel to report why it cannot reach the kernel', async () => {
        const text = await panel.locator('[data-testid="status"]').first().innerText({ timeout: 1_000 }).catch(() => '');
        return text || undefined;
      }, 60_000);
      assert.match(status, /The Jupyter extension \(ms-toolsai\.jupyter\) is not installed/);
      assert.match(status, /loss_lens\.capture\(input=\.\.\., target=\.\.\., loss=criterion\)/);
    } catch (error) {
      fs.mkdirSync(FAILURE_SCREENSHOTS, { recursive: true });
      await workbench?.screenshot(path.join(FAILURE_SCREENSHOTS, 'panel.png')).catch(() => undefined);
      fs.writeFileSync(path.join(FAILURE_SCREENSHOTS, 'panel.log'), codeServer?.log() ?? '');
      throw error;
    }
  });

  it('reads the whole capture folder when the saved copy was cut to its first rows', async (context) => {
    if (sampledTorchLoss === undefined) return context.skip('/usr/bin/python3 has no torch to write the capture');
    try {
      await workbench.openFile(SAMPLED_NOTEBOOK);
      const panel = await panelFrame(workbench);
      await waitUntil('the panel to show the sampled notebook', async () => (await panel.locator('h1').innerText({ timeout: 1_000 })) === SAMPLED_NOTEBOOK);
      await panel.locator('[data-testid="analysis"][aria-busy="false"]').waitFor({ timeout: 120_000 });
      if (await panel.locator('[data-testid="analysis-error"]').count()) assert.fail(await panel.locator('[data-testid="analysis-error"]').innerText());
      const inputRow = await panel.locator('[data-testid="tensor-stats"] tr[data-role="input"] td').allInnerTexts();
      assert.equal(inputRow[2], '[3000, 10]');
      // A small capture is computed in the webview: on the folder's bytes, which it asked the host for.
      assert.match(await panel.locator('[data-testid="backend-badge"]').innerText(), /^js · /);
      assert.equal(await panel.locator('[data-testid="sampled-note"]').count(), 0);
      const shown = Number(await panel.locator('[data-testid="loss-value"]').innerText());
      assert.ok(Math.abs(shown - sampledTorchLoss) <= 1e-5 * sampledTorchLoss, `panel ${shown} vs PyTorch ${sampledTorchLoss} on all rows`);
    } catch (error) {
      fs.mkdirSync(FAILURE_SCREENSHOTS, { recursive: true });
      await workbench?.screenshot(path.join(FAILURE_SCREENSHOTS, 'panel-sampled.png')).catch(() => undefined);
      throw error;
    }
  });
});
