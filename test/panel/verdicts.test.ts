// The panel and the diagnostics never disagree: for notebooks with saved captures (confirmed, refuted, inconclusive,
// a capture-only finding, stale), the verdicts `loss-lens check --format json` gives are the ones the panel's webview
// bundle renders in headless Chromium, given what the extension host would send it: the calls as the built language
// server lists them (`lossLens/lossCalls`), the captures of the notebook's outputs paired as the provider pairs them.
// Computed in the webview (auto: its own kernel for these small captures) and by the extension host (`host`: its
// `analyseOnHost` in Node, as a stand-in).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CliDiagnostic } from '../../server/src/cli/report';
import { parseCaptureRecord } from '../../client/src/capture/record';
import { pairCaptures, panelLossCall } from '../../client/src/panel/match';
import { currentCode } from '../../server/src/captures/match';
import type { HostMessage, PanelCapture } from '../../client/src/panel/messages';
import { withoutTensorBytes } from '../../client/src/panel/transfer';
import { captureOutput, classifierBatch, inlineRecord } from '../captures/captures';
import { ensureBuilt, makeTree, notebookJson, removeTree, runJson } from '../cli/cli-harness';
import { LspTestClient } from '../lsp/harness';
import { REPOSITORY_ROOT, chromiumAvailable, openPanelPage, standInHost, type PanelPage } from './browser-page';

const bundle = path.join(REPOSITORY_ROOT, 'client/out/panel.js');
const skip = !chromiumAvailable() ? 'no /usr/bin/chromium (apt-get install chromium)' : !fs.existsSync(bundle) ? 'client/out/panel.js is not built (npm run build)' : false;

const ROWS = 64;
const CLASSES = 10;
const { rawLogits, probabilities, target, asInput } = classifierBatch(ROWS, CLASSES);

const SETUP = 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport loss_lens\n\ncriterion = nn.CrossEntropyLoss()\n';
const SOFTMAX_STEP = 'probs = F.softmax(model(x), dim=1)\nloss = criterion(probs, y)\n';
const CAPTURE_CELL = 'loss_lens.capture(input=probs, target=y, loss=criterion)\n';

type Cell = { source: string; outputs?: unknown[] };
const withCapture = (step: string, record: ReturnType<typeof inlineRecord>, captureCell = CAPTURE_CELL): Cell[] =>
  [{ source: SETUP }, { source: step }, { source: captureCell, outputs: [captureOutput(record)] }];

const NOTEBOOKS: Record<string, Cell[]> = {
  'confirmed.ipynb': withCapture(SOFTMAX_STEP, inlineRecord({ id: 'probs-capture', input: asInput(probabilities), target })),
  'refuted.ipynb': withCapture(SOFTMAX_STEP, inlineRecord({ id: 'logits-capture', input: asInput(rawLogits), target })),
  'hidden.ipynb': withCapture('from mylib import predict_proba\nout = predict_proba(x)\nloss = criterion(out, y)\n',
    inlineRecord({ id: 'hidden-capture', input: asInput(probabilities), target }), 'loss_lens.capture(input=out, target=y, loss=criterion)\n'),
  'stale.ipynb': withCapture(SOFTMAX_STEP, inlineRecord({ id: 'old-capture', input: asInput(probabilities), target, source: { cellText: 'loss_lens.capture(input=old_probs, target=y, loss=criterion)\n' } })),
  // Two cross-entropy calls above the capture: it may be of the plain one, so it cannot refute.
  'ambiguous.ipynb': [
    { source: SETUP },
    { source: 'loss_a = criterion(model_a(x), y)\n' },
    { source: SOFTMAX_STEP },
    { source: CAPTURE_CELL, outputs: [captureOutput(inlineRecord({ id: 'which-call', input: asInput(rawLogits), target }))] },
  ],
};

interface ShownVerdict { rule: string; verdict: string; message: string }

const byRule = (a: ShownVerdict, b: ShownVerdict): number => (a.rule + a.verdict < b.rule + b.verdict ? -1 : 1);

/** The verdicts of the CLI's JSON report: a static finding's confirmation, and the capture-sourced findings (as `capture`). */
function cliVerdicts(diagnostics: CliDiagnostic[]): ShownVerdict[] {
  const shown: ShownVerdict[] = [];
  for (const diagnostic of diagnostics) {
    if (diagnostic.source === 'capture') shown.push({ rule: diagnostic.rule, verdict: 'capture', message: diagnostic.message.replace(/ \(on the tensors of capture [^)]*\)$/, '') });
    else if (diagnostic.confirmation) shown.push({ rule: diagnostic.rule, verdict: diagnostic.confirmation.verdict, message: diagnostic.confirmation.message });
  }
  return shown.sort(byRule);
}

async function renderedVerdicts(page: PanelPage, captureId: string): Promise<ShownVerdict[]> {
  await page.page.waitForFunction((id) => document.querySelector(`[data-testid="analysis"][aria-busy="false"] section[data-capture-id="${id}"], [data-testid="analysis-error"]`), captureId, { timeout: 60_000 });
  if (await page.page.locator('[data-testid="analysis-error"]').count()) assert.fail(await page.page.locator('[data-testid="analysis-error"]').innerText());
  const shown = await page.page.locator('li.verdict').evaluateAll((items) => items.map((item) => ({
    rule: (item as HTMLElement).dataset.rule ?? '',
    verdict: (item as HTMLElement).dataset.verdict ?? '',
    message: item.querySelector('.verdict-message')?.textContent ?? '',
  })));
  return shown.sort(byRule);
}

describe('the panel shows the verdicts the diagnostics give', { skip }, () => {
  let root: string;
  let server: LspTestClient;
  /** What the extension host would send for each notebook, and the captures it holds (bytes included). */
  const shows = new Map<string, HostMessage & { type: 'show' }>();
  const held: PanelCapture[] = [];
  const expected = new Map<string, ShownVerdict[]>();

  before(async () => {
    ensureBuilt();
    root = makeTree(Object.fromEntries(Object.entries(NOTEBOOKS).map(([name, cells]) => [name, notebookJson(cells)])));
    server = await LspTestClient.start();
    for (const [name, cells] of Object.entries(NOTEBOOKS)) {
      expected.set(name, cliVerdicts(runJson(['check', '--format', 'json', name], { cwd: root }).report.diagnostics));
      const uri = `file://${root}/${name}`;
      const cellUris = await server.openNotebook(uri, cells.map((cell) => ({ kind: 'code', text: cell.source })));
      const listed = await server.lossCalls(uri);
      assert.ok(listed, `the server lists the calls of ${name}`);
      const calls = listed.calls.map((call) => panelLossCall(call, cellUris.indexOf(call.uri), cells[cellUris.indexOf(call.uri)].source));
      const saved: PanelCapture[] = cells.flatMap((cell, index) => (cell.outputs ?? []).map((output) =>
        ({ record: parseCaptureRecord((output as { data: Record<string, unknown> }).data['application/vnd.loss-lens.capture+json']), cell: index })));
      const captures = pairCaptures(saved, calls, currentCode(cells.map((cell, index) => ({ cell: index, text: cell.source }))));
      held.push(...captures);
      shows.set(name, { type: 'show', notebook: { uri, name }, calls, captures: captures.map(withoutTensorBytes), maxElements: 50_000_000, hostCompute: true });
    }
  });
  after(async () => {
    await server?.stop();
    if (root) removeTree(root);
  });

  it('the CLI gives every kind of verdict on these notebooks (what the comparison covers)', () => {
    for (const [name, verdicts] of expected) assert.ok(verdicts.length > 0, `a verdict on ${name}`);
    const kinds = new Set([...expected.values()].flat().map((verdict) => verdict.verdict));
    assert.deepEqual([...kinds].sort(), ['capture', 'confirmed', 'inconclusive', 'refuted', 'stale']);
  });

  for (const backend of ['auto', 'host'] as const) {
    it(`computed ${backend === 'auto' ? 'in the webview' : 'by the extension host'}: the same verdicts and words as the CLI`, async () => {
      const page = await openPanelPage({
        initialState: { backend },
        host: standInHost(() => held),
      });
      try {
        for (const [name, show] of shows) {
          await page.send(show);
          assert.deepEqual(await renderedVerdicts(page, show.captures[0].record.id), expected.get(name), name);
          const badge = await page.page.locator('[data-testid="backend-badge"]').innerText();
          assert.match(badge, backend === 'host' ? /^extension host/ : /^js/, name);
        }
      } finally {
        await page.close();
      }
    });
  }
});
