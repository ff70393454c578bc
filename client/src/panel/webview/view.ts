/**
 * Renders one capture's analysis into the panel: badge (backend, precision, time), loss values,
 * run-time checks with "Insert into code", tensor statistics, the per-class table and three charts.
 * Builds DOM nodes only (no innerHTML with data), so captured text can never become markup.
 */
import type * as ChartJs from 'chart.js' with { 'resolution-mode': 'import' };
import type { RuntimeCheck } from '../../../../server/src/losses/api';
import type { CaptureRecord } from '../../capture/record';
import type { PanelLossCall } from '../messages';
import type { CaptureJudgement } from '../../../../server/src/captures/verdict';
import { analysisHistograms, type CaptureAnalysis, type ClassRow, type TensorStats } from './compute';

// chart.js is an ES module and this project type-checks as CommonJS: the types come through an import
// attribute, the code through require, which esbuild bundles (chart.js's "require" export).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } = require('chart.js') as typeof ChartJs;
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

const BACKEND_LABELS: Record<string, string> = {
  webgpu: 'WebGPU',
  webgl: 'WebGL',
  wasm: 'WASM',
  cpu: 'CPU',
  'tfjs-node-gpu': 'tfjs-node-gpu',
};

type Child = Node | string | null | undefined | false;

export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child);
  }
  return node;
}

/** A number as the panel prints it: 6 significant digits, NaN and infinities spelled out. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  return Number(value.toPrecision(6)).toString();
}

export interface InsertRequest {
  keyword: 'weight' | 'pos_weight';
  code: string;
}

/** `weight=torch.tensor([...])` → keyword and value; undefined for a suggestion of another form. */
function parseSuggestion(suggestion: string): InsertRequest | undefined {
  const match = /^\s*(weight|pos_weight)\s*=\s*(.+?)\s*$/.exec(suggestion);
  return match ? { keyword: match[1] as InsertRequest['keyword'], code: match[2] } : undefined;
}

export interface RenderContext {
  call?: PanelLossCall;
  onInsert?: (request: InsertRequest) => void;
  /** Why the capture was cut, when the panel sampled it to the element limit. */
  sampledNote?: string;
  /** Why the automatic choice computed where it did (choose-backend.ts). */
  backendReason?: string;
  /** A newer capture of the same call, whose verdicts the editor's diagnostics show. */
  newerCapture?: string;
  /** The code the capture came from changed since it was taken. */
  stale?: boolean;
}

/** What the view shows: an analysis without its request (the extension host's analyses leave the tensors there). */
export type ShownAnalysis = Omit<CaptureAnalysis, 'request'>;

export function renderAnalysis(record: CaptureRecord, analysis: ShownAnalysis, context: RenderContext): HTMLElement {
  const section = element('section', { class: 'capture', 'data-capture-id': record.id });
  section.append(
    element('header', {},
      element('h2', {}, `${analysis.loss}`),
      element('span', { class: 'badge', 'data-testid': 'backend-badge', title: 'Where the computation ran: a TensorFlow.js backend, the host kernel (js) in this webview, or the extension host' },
        `${BACKEND_LABELS[analysis.backend] ?? analysis.backend} · ${analysis.precision} · ${formatNumber(Math.round(analysis.ms * 10) / 10)} ms`),
    ),
    element('p', { class: 'source' }, describeSource(record, context.call)),
  );
  if (context.stale) {
    section.append(element('p', { class: 'notice', 'data-testid': 'stale-note' },
      'Stale: the code this capture came from (its call, a cell above it, or its script) changed since it was taken. These figures are of the code as it was, and the diagnostics no longer use them: capture again.'));
  }
  if (context.backendReason) section.append(element('p', { class: 'hint', 'data-testid': 'backend-reason' }, `Backend: auto. ${context.backendReason}.`));
  const notes = [
    context.sampledNote,
    ...(['input', 'target'] as const).map((role) => record.tensors[role].sampled?.reason && `${role}: ${record.tensors[role].sampled?.reason}`),
  ].filter((note): note is string => Boolean(note));
  for (const note of notes) section.append(element('p', { class: 'notice', 'data-testid': 'sampled-note' }, note));

  section.append(renderValues(record, analysis));
  if (analysis.judgement) section.append(renderVerdicts(analysis.judgement, context));
  section.append(element('h3', {}, 'Run-time checks'), renderChecks(analysis.checks, context));
  section.append(element('h3', {}, 'Tensors'), renderStats(analysis.stats));
  if (analysis.classes.length > 0) section.append(element('h3', {}, analysis.loss.startsWith('binary') ? 'Per output' : 'Per class'), renderClasses(analysis));
  section.append(element('h3', {}, 'Plots'), renderCharts(analysis));
  return section;
}

function describeSource(record: CaptureRecord, call?: PanelLossCall): string {
  const parts: string[] = [record.source.via === 'kernel' ? 'captured from the kernel' : 'captured by loss_lens.capture'];
  if (call) parts.push(`cell ${call.cell + 1}, line ${call.line + 1}: ${call.text}`);
  else if (record.source.cell !== undefined) parts.push(`cell ${record.source.cell + 1}`);
  parts.push(record.createdAt);
  return parts.join(' · ');
}

function renderValues(record: CaptureRecord, analysis: ShownAnalysis): HTMLElement {
  const table = element('table', { class: 'values' });
  const reduction = record.options.reduction ?? 'mean';
  const configured = analysis.result
    ? element('td', { 'data-testid': 'loss-value' }, analysis.result.value === null ? `per element (${analysis.result.shape.join('×')})` : formatNumber(analysis.result.value))
    : element('td', { class: 'error', 'data-testid': 'loss-error' }, `PyTorch raises: ${analysis.error ?? 'error'}`);
  table.append(element('tr', {}, element('th', {}, `Loss as configured (${reduction})`), configured));
  if (analysis.corrected) {
    const corrected = analysis.corrected;
    table.append(
      element('tr', {},
        element('th', {}, `Corrected: ${corrected.title}`),
        element('td', { 'data-testid': 'corrected-value' }, corrected.result.value === null ? 'per element' : formatNumber(corrected.result.value)),
      ),
      element('tr', {},
        element('th', { title: '‖∂loss/∂logits‖ as configured ÷ the same for the corrected loss' }, 'Gradient norm ratio (configured / corrected)'),
        element('td', { 'data-testid': 'gradient-ratio' }, corrected.gradientNormRatio === null ? '—' : formatNumber(corrected.gradientNormRatio)),
      ),
    );
  }
  return table;
}

const VERDICT_LABELS: Record<string, string> = { confirmed: 'confirmed', refuted: 'refuted', inconclusive: 'inconclusive', stale: 'stale' };

/**
 * Each finding at the call with the capture's verdict on it, and the run-time checks that are findings of their own:
 * the decision and the words are `judgeCapture`'s, the ones the diagnostics show.
 */
function renderVerdicts(judgement: CaptureJudgement, context: RenderContext): HTMLElement {
  const list = element('ul', { class: 'verdicts', 'data-testid': 'verdicts' });
  for (const { rule, confirmation } of judgement.verdicts) {
    list.append(element('li', { class: `verdict ${confirmation.verdict}`, 'data-rule': rule, 'data-verdict': confirmation.verdict },
      element('code', {}, rule), ' ', element('span', { class: 'verdict-label' }, VERDICT_LABELS[confirmation.verdict] ?? confirmation.verdict), ': ',
      element('span', { class: 'verdict-message' }, confirmation.message)));
  }
  for (const check of judgement.runtimeFindings) {
    list.append(element('li', { class: `verdict capture ${check.severity}`, 'data-rule': check.rule, 'data-verdict': 'capture' },
      element('code', {}, check.rule), ' ', element('span', { class: 'verdict-label' }, `found on the captured tensors (${check.severity})`), ': ',
      element('span', { class: 'verdict-message' }, check.message)));
  }
  if (list.childElementCount === 0) list.append(element('li', { class: 'ok' }, 'No finding at this call, and none on its captured tensors.'));
  const section = element('div', { class: 'findings' }, element('h3', {}, 'Findings at this call'));
  if (context.newerCapture) {
    section.append(element('p', { class: 'notice', 'data-testid': 'newer-capture' }, `The editor's diagnostics go by the newer capture ${context.newerCapture} of this call.`));
  }
  section.append(list);
  return section;
}

function renderChecks(checks: RuntimeCheck[], context: RenderContext): HTMLElement {
  const list = element('ul', { class: 'checks', 'data-testid': 'checks' });
  if (checks.length === 0) list.append(element('li', { class: 'ok' }, 'No run-time check fired.'));
  for (const check of checks) {
    const item = element('li', { class: `check ${check.severity}`, 'data-rule': check.rule },
      element('code', {}, check.rule), ' ', element('span', { class: 'severity' }, check.severity), ': ', check.message);
    const insert = check.suggestion ? parseSuggestion(check.suggestion) : undefined;
    if (check.suggestion) item.append(element('pre', {}, check.suggestion));
    if (insert && context.onInsert && context.call?.editable) {
      const button = element('button', { type: 'button', 'data-testid': `insert-${insert.keyword}` }, `Insert ${insert.keyword} into code`);
      button.addEventListener('click', () => context.onInsert?.(insert));
      item.append(button);
    }
    list.append(item);
  }
  return list;
}

function renderStats(stats: ShownAnalysis['stats']): HTMLElement {
  const table = element('table', { class: 'stats', 'data-testid': 'tensor-stats' },
    element('tr', {}, ...['tensor', 'dtype', 'shape', 'min', 'max', 'mean', 'NaN/Inf', 'unique values'].map((title) => element('th', {}, title))));
  for (const [role, entry] of Object.entries(stats) as [string, TensorStats][]) {
    const unique = entry.unique
      ? entry.unique.values.map((item) => `${formatNumber(item.value)}×${item.count}`).join(', ') + (entry.unique.more ? ', …' : '')
      : '';
    table.append(element('tr', { 'data-role': role },
      element('td', {}, role), element('td', {}, entry.dtype), element('td', {}, `[${entry.shape.join(', ')}]`),
      element('td', {}, formatNumber(entry.min)), element('td', {}, formatNumber(entry.max)), element('td', {}, formatNumber(entry.mean)),
      element('td', {}, String(entry.nonFinite)), element('td', { class: 'unique' }, unique)));
  }
  return table;
}

function renderClasses(analysis: ShownAnalysis): HTMLElement {
  const binary = analysis.loss.startsWith('binary');
  const titles = binary
    ? ['output', 'positives', 'negatives', 'positive share', 'mean loss', 'mean p(true label)']
    : ['class', 'count', 'share', 'mean loss', 'mean p(true class)', 'recall'];
  const table = element('table', { class: 'classes', 'data-testid': 'class-table' }, element('tr', {}, ...titles.map((title) => element('th', {}, title))));
  const cells = (row: ClassRow): string[] => binary
    ? [String(row.index), String(row.positives), String(row.negatives), formatNumber(row.share), formatNumber(row.meanLoss), formatNumber(row.meanTrueClassProbability)]
    : [String(row.index), String(row.count), formatNumber(row.share), formatNumber(row.meanLoss), formatNumber(row.meanTrueClassProbability), formatNumber(row.recall)];
  for (const row of analysis.classes) table.append(element('tr', {}, ...cells(row).map((text) => element('td', {}, text))));
  return table;
}

function barChart(testId: string, title: string, labels: string[], counts: number[]): HTMLElement {
  const canvas = element('canvas', { 'data-testid': testId, role: 'img', 'aria-label': title });
  const figure = element('figure', { class: 'chart' }, element('figcaption', {}, title), canvas);
  const color = getComputedStyle(document.body).getPropertyValue('--vscode-charts-blue').trim() || '#3794ff';
  new Chart(canvas, {
    type: 'bar',
    data: { labels, datasets: [{ label: title, data: counts, backgroundColor: color }] },
    options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { tooltip: { enabled: true } }, scales: { y: { beginAtZero: true } } },
  });
  return figure;
}

function renderCharts(analysis: ShownAnalysis): HTMLElement {
  const container = element('div', { class: 'charts' });
  const { loss: losses, probability: probabilities } = analysis.histograms ?? analysisHistograms(analysis);
  container.append(barChart('chart-loss', 'Per-element loss', losses.edges.slice(0, -1).map((edge) => formatNumber(edge)), losses.counts));
  container.append(barChart('chart-probability', analysis.loss.startsWith('binary') ? 'Predicted probability of the true label' : 'Predicted probability of the true class',
    probabilities.edges.slice(0, -1).map((edge) => edge.toFixed(2)), probabilities.counts));
  const binary = analysis.loss.startsWith('binary');
  container.append(barChart('chart-classes', binary ? 'Positives per output' : 'Class frequencies',
    analysis.classes.map((row) => String(row.index)), analysis.classes.map((row) => (binary ? row.positives ?? 0 : row.count))));
  return container;
}
