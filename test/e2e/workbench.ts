/**
 * Drives the VS Code workbench (code-server in headless Chromium) the way a user does: keyboard
 * shortcuts, clicks, the Problems view, the status bar. Every wait is on a selector or condition,
 * with a timeout that names what was awaited.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Polls `condition` until it returns a value other than undefined/false, or fails naming `what`. */
export async function waitUntil<T>(what: string, condition: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await condition();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? '' : ` (last error: ${String(lastError)})`}`);
}

export class Workbench {
  constructor(readonly page: Page) {}

  async open(url: string, workspace: string): Promise<void> {
    await this.page.goto(`${url}/?folder=${encodeURIComponent(workspace)}`);
    await this.page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 90_000 });
    // The extension host has started once the explorer lists the workspace.
    await this.page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 90_000 });
  }

  /**
   * Quick Open (Ctrl+P), the name typed, Enter on the matching entry once it is the selected one;
   * tried again when no editor for it comes to the front (early keystrokes can land before the
   * workbench has focus, and the list can still show the previous results for a moment).
   */
  async openFile(name: string): Promise<void> {
    await waitUntil(`an editor tab for ${name}`, async () => {
      if ((await this.activeTabLabel().catch(() => undefined)) === name) return true;
      await this.page.keyboard.press('Escape');
      await this.page.keyboard.press('Control+P');
      const input = this.page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(name);
      const focused = this.page.locator('.quick-input-list .monaco-list-row.focused');
      await focused.and(this.page.locator(`[aria-label*="${name}"]`)).waitFor({ timeout: 5_000 });
      await this.page.keyboard.press('Enter');
      await this.page.locator(`.tabs-container .tab.active[aria-label^="${name}"]`).waitFor({ timeout: 10_000 });
      return true;
    }, 90_000);
  }

  async activeTabLabel(): Promise<string | undefined> {
    const label = await this.page.locator('.tabs-container .tab.active .label-name').first().textContent({ timeout: 1_000 });
    return label?.trim();
  }

  /** The visible text editor of a .py file. */
  textEditor(): Locator {
    return this.page.locator('.editor-instance .monaco-editor:visible').first();
  }

  /** The editor of a notebook cell, by its index among the code cells shown. */
  notebookCellEditor(codeCellIndex: number): Locator {
    return this.page.locator('.notebook-editor:visible .cell-editor-container .monaco-editor').nth(codeCellIndex);
  }

  /** Shows the Problems view (Ctrl+Shift+M toggles it, so only when it is hidden). */
  async showProblems(): Promise<void> {
    await waitUntil('the Problems view', async () => {
      if (await this.page.locator('.markers-panel').isVisible()) return true;
      await this.page.keyboard.press('Control+Shift+M');
      await this.page.locator('.markers-panel').waitFor({ state: 'visible', timeout: 5_000 });
      return true;
    });
  }

  /** The aria labels of the Problems view rows (file rows, problems and related information). */
  async problemRows(): Promise<string[]> {
    return this.page.locator('.markers-panel .monaco-list-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('aria-label') ?? ''));
  }

  async statusBarText(): Promise<string> {
    const text = await this.page.locator('.statusbar-item[id$="lossLens.status"]').first().textContent({ timeout: 5_000 });
    return (text ?? '').trim();
  }

  /** The number of findings the status bar item shows ("Loss Lens: 3"), or undefined while it shows none. */
  async statusBarCount(): Promise<number | undefined> {
    const match = /Loss Lens: (\d+)$/.exec(await this.statusBarText());
    return match === null ? undefined : Number(match[1]);
  }

  /**
   * Replaces the user settings the way a user does: "Open User Settings (JSON)", select all, paste,
   * save; the settings editor stays open, in front. (code-server does not notice the settings file
   * changing on disk.) Needs clipboard access.
   */
  async replaceUserSettings(settings: Record<string, unknown>, settingsFile: string): Promise<void> {
    await this.runCommand('Preferences: Open User Settings (JSON)');
    await this.page.locator('.tabs-container .tab.active[aria-label*="settings.json"]').waitFor({ timeout: 30_000 });
    await this.textEditor().locator('.view-lines').click();
    await this.page.keyboard.press('Control+A');
    await this.paste(JSON.stringify(settings, null, 2));
    await this.save();
    const expected = JSON.stringify(settings);
    await waitUntil(`${settingsFile} to hold ${expected}`, async () => JSON.stringify(JSON.parse(fs.readFileSync(settingsFile, 'utf8'))) === expected, 15_000);
  }

  /** Runs a command from the Command Palette by its exact label. */
  async runCommand(label: string): Promise<void> {
    await waitUntil(`the Command Palette to select "${label}"`, async () => {
      await this.page.keyboard.press('Escape');
      await this.page.keyboard.press('F1');
      const input = this.page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(`>${label}`);
      await this.page.locator(`.quick-input-list .monaco-list-row[aria-label^="${label}"]`).first().waitFor({ timeout: 5_000 });
      // Other commands can match too ("Close Editor Group" for "Close Editor"): move to the exact one.
      for (let row = 0; row < 10; row++) {
        const focused = await this.page.locator('.quick-input-list .monaco-list-row.focused .label-name').textContent({ timeout: 2_000 });
        if (focused?.trim() === label) return true;
        await this.page.keyboard.press('ArrowDown');
      }
      return false;
    });
    await this.page.keyboard.press('Enter');
  }

  /** Pastes `text` at the cursor through the clipboard (typing would run into auto-closing brackets). Needs clipboard access. */
  async paste(text: string): Promise<void> {
    await this.page.evaluate((value) => navigator.clipboard.writeText(value), text);
    await this.page.keyboard.press('Control+V');
  }

  /** Places the cursor inside the first squiggle of `editor` by clicking on it. */
  async clickSquiggle(editor: Locator, kind: 'error' | 'warning' = 'error'): Promise<void> {
    const squiggle = editor.locator(`.squiggly-${kind}`).first();
    await squiggle.waitFor({ state: 'attached', timeout: 60_000 });
    // Squiggles are redrawn whenever the editor scrolls or re-renders: retry until one holds still.
    const box = await waitUntil(`a ${kind} squiggle on screen`, async () => {
      await squiggle.scrollIntoViewIfNeeded({ timeout: 2_000 });
      return (await squiggle.boundingBox({ timeout: 2_000 })) ?? undefined;
    }, 30_000);
    // They are drawn in an overlay that does not take clicks: click the text under it.
    await this.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2 - 4);
  }

  /**
   * Ctrl+. at the cursor; returns the titles of the code actions offered. Pressed again when VS Code
   * answers "No code actions available" (seen now and then when the request races the lightbulb's
   * own request for the same position), as a user would.
   */
  async openCodeActions(): Promise<string[]> {
    const actions = this.page.locator('.action-widget .monaco-list-row.action');
    for (let attempt = 1; ; attempt++) {
      await this.page.keyboard.press('Control+.');
      try {
        await actions.first().waitFor({ state: 'visible', timeout: 10_000 });
        return actions.evaluateAll((rows) => rows.map((row) => row.getAttribute('aria-label') ?? ''));
      } catch (error) {
        if (attempt === 3) throw new Error(`Ctrl+. showed no code actions in ${attempt} tries: ${String(error)}`);
        await this.page.keyboard.press('Escape');
      }
    }
  }

  /** Chooses `title` in the open code action menu with the arrow keys and Enter. */
  async chooseCodeAction(title: string): Promise<void> {
    const offered = await this.page.locator('.action-widget .monaco-list-row.action').evaluateAll((rows) => rows.map((row) => row.getAttribute('aria-label') ?? ''));
    if (!offered.includes(title)) throw new Error(`the code action "${title}" is not offered; offered: ${JSON.stringify(offered)}`);
    // The menu lays a pointer-blocking layer over itself while it opens: pick with the keyboard.
    await waitUntil(`"${title}" to be selected in the code action menu`, async () => {
      const focused = await this.page.locator('.action-widget .monaco-list-row.action.focused').getAttribute('aria-label', { timeout: 2_000 });
      if (focused === title) return true;
      await this.page.keyboard.press('ArrowDown');
      return false;
    }, 15_000);
    await this.page.keyboard.press('Enter');
    await this.page.locator('.action-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  }

  async save(): Promise<void> {
    await this.page.keyboard.press('Control+S');
  }

  async screenshot(file: string): Promise<void> {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await this.page.screenshot({ path: file });
  }
}
