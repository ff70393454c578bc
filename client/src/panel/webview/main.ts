/**
 * The panel's webview (bundled to `client/out/panel.js`): receives the notebook's loss calls and
 * captures from the extension host, recomputes each capture with the loss engine on the best backend
 * the webview offers (WebGPU, WebGL, WASM, CPU), and renders values, checks, tables and plots.
 * Keeps the selected capture and backend in the webview state (getState/setState).
 */
import { decodeCaptureTensors } from '../../capture/tensors';
import { limitElements, type LimitedTensors } from '../../capture/sample';
import { describeCapture, TENSOR_ROLES } from '../../capture/record';
import { pairingOf, parseHostMessage, type HostMessage, type PanelCapture, type PanelLossCall, type WebviewMessage } from '../messages';
import { decodeTransferred } from '../transfer';
import { analyseCapture } from './compute';
import { BackendUnavailableError } from '../../../../server/src/losses/engine';
import { decideBackend, hardwareGpu, probeGpus, SMALL_CAPTURE_ELEMENTS, type AnalysisPath, type BackendDecision, type Calibration, type GpuProbe } from './choose-backend';
import { element, renderAnalysis, type ShownAnalysis } from './view';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

interface PanelState {
  selectedCaptureId?: string;
  /** 'auto', a backend of this webview, or 'host' (the extension host's kernel). */
  backend: AnalysisPath;
}

const vscode = acquireVsCodeApi();
const saved = vscode.getState() as Partial<PanelState> | undefined;
const state: PanelState = { backend: 'auto', ...saved };
let current: (HostMessage & { type: 'show' }) | undefined;
let renderGeneration = 0;

const root = document.getElementById('root') ?? document.body.appendChild(element('div', { id: 'root' }));

function saveState(): void {
  vscode.setState(state);
}

function report(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  vscode.postMessage({ type: 'error', message: message.slice(0, 4000) });
}

function toolbar(): HTMLElement {
  const select = element('select', { 'data-testid': 'backend-select', title: 'TensorFlow.js backend' });
  for (const option of ['auto', 'host', 'webgpu', 'webgl', 'wasm', 'cpu', 'js'] as const) {
    const label = option === 'auto' ? 'Backend: auto' : option === 'host' ? 'extension host' : option;
    const item = element('option', { value: option }, label);
    if (option === state.backend) item.selected = true;
    select.append(item);
  }
  select.addEventListener('change', () => {
    state.backend = select.value as AnalysisPath;
    saveState();
    void render();
  });
  return element('div', { class: 'toolbar' }, select);
}

function callOf(capture: PanelCapture, calls: PanelLossCall[]): PanelLossCall | undefined {
  return calls.find((call) => call.id === capture.callId);
}

/**
 * What an analysis depends on: the capture (its id is unique; the shapes and the source of the bytes tell a
 * sampled inline copy from the folder's whole tensors), the element limit, the backend and the findings.
 */
function analysisKey(capture: PanelCapture, call: PanelLossCall | undefined, maxElements: number): string {
  const tensors = TENSOR_ROLES.map((role) => {
    const tensor = capture.record.tensors[role];
    return tensor ? `${role}:${tensor.dtype}:${tensor.shape.join('x')}:${tensor.sampled ? 'sampled' : 'whole'}` : '';
  });
  return JSON.stringify([capture.record.id, tensors, maxElements, state.backend, call?.findings ?? [], pairingOf(capture)]);
}

/** The last analysis shown: the host sends the same captures again on every notebook edit and diagnostics change. */
let lastAnalysis: { key: string; analysis: ShownAnalysis; note: string | undefined; reason: string | undefined } | undefined;

type HostReply = HostMessage & { type: 'analysis' | 'tensors' };
const hostReplies = new Map<number, (reply: HostReply) => void>();
let nextRequestId = 1;

/** Posts a request to the host and waits for the reply with its id. */
function askHost<T extends HostReply['type']>(message: WebviewMessage & { requestId: number }, replyType: T): Promise<HostMessage & { type: T }> {
  return new Promise((resolve, reject) => {
    hostReplies.set(message.requestId, (reply) => (reply.type === replyType ? resolve(reply as HostMessage & { type: T }) : reject(new Error(`the host answered ${reply.type} to ${message.type}`))));
    vscode.postMessage(message);
  });
}

/**
 * The tensors whose bytes the last `show` left out, asked of the host when this webview computes itself: the whole
 * capture (to the element limit) is kept for a change of backend; a calibration's slice is not.
 */
let heldTensors: { captureId: string; key: string; limited: LimitedTensors } | undefined;

/** The capture's tensors in this webview, cut to `maxElements`: decoded from the message, or asked of the host. */
async function tensorsOf(capture: PanelCapture, maxElements: number): Promise<LimitedTensors> {
  if (!capture.tensorsOnRequest) {
    const decoded = decodeCaptureTensors(capture.record, (file) => {
      const role = TENSOR_ROLES.find((name) => capture.record.tensors[name]?.file === file);
      const bytes = role ? capture.files?.[role] : undefined;
      if (!bytes) throw new Error(`the host sent no bytes for ${file}`);
      return bytes;
    });
    return limitElements(decoded, maxElements);
  }
  const key = JSON.stringify([capture.record.id, capture.record.tensors.input.shape, capture.record.folder ?? null, maxElements]);
  if (heldTensors?.key === key) return heldTensors.limited;
  const reply = await askHost({ type: 'requestTensors', requestId: nextRequestId++, captureId: capture.record.id, maxElements }, 'tensors');
  if (reply.error !== undefined || !reply.files) throw new Error(reply.error ?? 'the host sent no tensors');
  const limited = { tensors: decodeTransferred(capture.record, reply.files), note: reply.note };
  if (maxElements >= (current?.maxElements ?? Infinity)) heldTensors = { captureId: capture.record.id, key, limited };
  return limited;
}

/** The input's element count once cut to the element limit (as `limitElements` cuts it: whole rows). */
function limitedInputElements(capture: PanelCapture, maxElements: number): number {
  const shape = capture.record.tensors.input.shape;
  const elements = shape.reduce((product, size) => product * size, 1);
  if (elements <= maxElements || shape.length < 2) return elements;
  const perRow = elements / Math.max(shape[0], 1);
  return Math.max(1, Math.floor(maxElements / perRow)) * perRow;
}

/** The capture analysed by the extension host (its kernel on every core, on the bytes it holds). */
async function analyseOnHost(capture: PanelCapture, findings: string[], maxElements?: number): Promise<{ analysis: ShownAnalysis; note?: string }> {
  const reply = await askHost({ type: 'analyse', requestId: nextRequestId++, captureId: capture.record.id, findings, ...(maxElements !== undefined ? { maxElements } : {}) }, 'analysis');
  if (reply.error !== undefined || !reply.analysis) throw new Error(reply.error ?? 'the host sent no analysis');
  const { threads, ...analysis } = reply.analysis;
  return {
    analysis: {
      ...analysis,
      // The plots come binned by the host (analysis.histograms): the per-element arrays stay there.
      elementLosses: new Float64Array(0),
      trueClassProbability: new Float64Array(0),
      backend: `extension host (${analysis.backend}${threads ? `, ${threads} threads` : ''})`,
    },
    note: reply.note,
  };
}

/** Started with the page: asking WebGPU for an adapter and creating a WebGL context take a moment on some machines. */
const gpuProbe: Promise<GpuProbe> = timed('probe', probeGpus);

/** Runs `work` under a performance measure `loss-lens:<name>` (what the benchmark reads to say where the time went). */
async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    performance.measure(`loss-lens:${name}`, { start, end: performance.now() });
  }
}

/**
 * The automatic choice (choose-backend.ts): software GPUs are ruled out by their names; a hardware GPU is timed
 * against the CPU path (the host, or this webview's kernel without one) on the capture's first eighth of rows.
 */
async function chooseAutomatically(capture: PanelCapture, elements: number, findings: string[], hostAvailable: boolean): Promise<BackendDecision> {
  const probe = await gpuProbe;
  const gpu = hardwareGpu(probe);
  let calibration: Calibration | undefined;
  if (gpu && elements >= SMALL_CAPTURE_ELEMENTS) {
    const sliceElements = Math.max(SMALL_CAPTURE_ELEMENTS, Math.ceil(elements / 8));
    try {
      // Only the slice's rows come from the host: the whole capture only if the GPU wins.
      const slice = (await timed('tensors', () => tensorsOf(capture, sliceElements))).tensors;
      calibration = { fraction: slice.input.data.length / elements };
      const time = async (run: () => Promise<ShownAnalysis>): Promise<number | undefined> => {
        const start = performance.now();
        try {
          const analysis = await run();
          // A WebGL without float32 textures computes in float16: never chosen automatically.
          return analysis.precision === 'float16' ? undefined : performance.now() - start;
        } catch {
          return undefined;
        }
      };
      calibration.gpu = await time(() => analyseCapture(capture.record, slice, gpu, findings));
      calibration.cpu = await time(async () => (hostAvailable
        ? (await analyseOnHost(capture, findings, slice.input.data.length)).analysis
        : analyseCapture(capture.record, slice, 'js', findings)));
    } catch {
      calibration = undefined; // one row alone is past the slice: no calibration, the CPU path
    }
  }
  return decideBackend({ elements, hostAvailable, probe, calibration });
}

async function analyse(capture: PanelCapture, call: PanelLossCall | undefined, maxElements: number): Promise<{ analysis: ShownAnalysis; note: string | undefined; reason: string | undefined }> {
  const key = analysisKey(capture, call, maxElements);
  if (lastAnalysis?.key === key) return lastAnalysis;
  const findings = call?.findings ?? [];
  const hostAvailable = current?.hostCompute === true;
  let path = state.backend;
  let reason: string | undefined;
  let fallbackNote: string | undefined;
  if (path === 'host' && !hostAvailable) {
    fallbackNote = 'The extension host does not compute here; computed with the automatic choice instead.';
    path = 'auto';
  }
  if (path === 'auto') ({ path, reason } = await timed('choose', () => chooseAutomatically(capture, limitedInputElements(capture, maxElements), findings, hostAvailable)));
  let analysis: ShownAnalysis;
  let sampledNote: string | undefined;
  if (path === 'host') {
    // The host computes on the bytes it holds: none cross to this webview.
    ({ analysis, note: sampledNote } = await timed('host', () => analyseOnHost(capture, findings)));
  } else {
    const limited = await timed('tensors', () => tensorsOf(capture, maxElements));
    sampledNote = limited.note;
    try {
      const chosen = path;
      analysis = await timed('webview', () => analyseCapture(capture.record, limited.tensors, chosen, findings, pairingOf(capture)));
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      // The chosen backend cannot run in this webview: say so and let the engine pick.
      fallbackNote = `${error.message}; computed with the automatic choice instead.`;
      analysis = await analyseCapture(capture.record, limited.tensors, 'auto', findings, pairingOf(capture));
    }
  }
  lastAnalysis = { key, analysis, note: [sampledNote, fallbackNote].filter(Boolean).join(' ') || undefined, reason };
  return lastAnalysis;
}

/** The capture of the same call that the diagnostics go by (the newest, the later one on a tie), when it is not this one. */
function newerCaptureOf(capture: PanelCapture, captures: PanelCapture[]): string | undefined {
  if (capture.callId === undefined) return undefined;
  let latest = capture;
  for (const other of captures) if (other.callId === capture.callId && latest.record.createdAt <= other.record.createdAt) latest = other;
  return latest === capture ? undefined : latest.record.id;
}

async function runOnBestBackend(capture: PanelCapture, call: PanelLossCall | undefined, maxElements: number): Promise<HTMLElement> {
  const { analysis, note, reason } = await analyse(capture, call, maxElements);
  return renderAnalysis(capture.record, analysis, {
    call,
    newerCapture: newerCaptureOf(capture, current?.captures ?? []),
    sampledNote: note,
    backendReason: reason,
    stale: capture.stale,
    onInsert: call ? (insert) => vscode.postMessage({ type: 'insertCode', callId: call.id, keyword: insert.keyword, code: insert.code }) : undefined,
  });
}

function captureList(message: HostMessage & { type: 'show' }): HTMLElement {
  const list = element('ul', { class: 'capture-list', 'data-testid': 'capture-list' });
  for (const capture of message.captures) {
    const call = callOf(capture, message.calls);
    const item = element('li', { 'data-capture-id': capture.record.id, class: capture.record.id === state.selectedCaptureId ? 'selected' : '' },
      element('button', { type: 'button' }, `${call ? `Cell ${call.cell + 1}: ` : ''}${describeCapture(capture.record)}`));
    item.addEventListener('click', () => {
      state.selectedCaptureId = capture.record.id;
      saveState();
      vscode.postMessage({ type: 'selectCapture', captureId: capture.record.id });
      void render();
    });
    list.append(item);
  }
  return list;
}

function uncapturedCalls(message: HostMessage & { type: 'show' }): HTMLElement | null {
  const captured = new Set(message.captures.map((capture) => capture.callId));
  const calls = message.calls.filter((call) => !captured.has(call.id));
  if (calls.length === 0) return null;
  return element('div', { class: 'calls' },
    element('h3', {}, 'Loss calls without a capture'),
    element('ul', {}, ...calls.map((call) => element('li', {}, element('code', {}, call.text), ` (cell ${call.cell + 1}, ${call.loss})`))),
    element('p', { class: 'hint' }, 'Use the "Inspect loss" CodeLens above the call with a running kernel, or call loss_lens.capture(input=..., target=..., loss=...) in the notebook.'));
}

async function render(): Promise<void> {
  const generation = ++renderGeneration;
  const message = current;
  root.replaceChildren(toolbar());
  if (!message || !message.notebook) {
    root.append(element('p', { class: 'empty', 'data-testid': 'empty' }, 'Open a notebook to see its loss calls and captures.'));
    return;
  }
  if (message.notice) root.append(element('p', { class: 'notice' }, message.notice));
  root.append(element('h1', {}, message.notebook.name));
  if (message.captures.length === 0) {
    root.append(element('p', { class: 'empty', 'data-testid': 'empty' }, 'No captures in this notebook yet.'));
  } else {
    root.append(captureList(message));
  }
  const rest = uncapturedCalls(message);
  if (rest) root.append(rest);
  const selected = message.captures.find((capture) => capture.record.id === state.selectedCaptureId) ?? message.captures[0];
  if (!selected) return;
  const slot = element('div', { class: 'analysis', 'data-testid': 'analysis', 'aria-busy': 'true' }, element('p', {}, 'Computing…'));
  root.append(slot);
  try {
    const rendered = await runOnBestBackend(selected, callOf(selected, message.calls), message.maxElements);
    if (generation !== renderGeneration) return;
    slot.replaceChildren(rendered);
  } catch (error) {
    if (generation !== renderGeneration) return;
    slot.replaceChildren(element('p', { class: 'error', 'data-testid': 'analysis-error' }, `Cannot compute this capture: ${error instanceof Error ? error.message : String(error)}`));
    report(error);
  }
  slot.setAttribute('aria-busy', 'false');
}

window.addEventListener('message', (event: MessageEvent) => {
  const message = parseHostMessage(event.data);
  if (!message) return;
  switch (message.type) {
    case 'show':
      current = message;
      // Tensors of a capture the notebook no longer holds are let go.
      if (heldTensors && !message.captures.some((capture) => capture.record.id === heldTensors?.captureId)) heldTensors = undefined;
      void render();
      break;
    case 'focus':
      state.selectedCaptureId = message.captureId;
      saveState();
      void render();
      break;
    case 'analysis':
    case 'tensors':
      hostReplies.get(message.requestId)?.(message);
      hostReplies.delete(message.requestId);
      break;
    case 'status':
      root.prepend(element('p', { class: message.level === 'error' ? 'error' : 'notice', 'data-testid': 'status' }, message.message));
      break;
  }
});

window.addEventListener('error', (event) => report(event.error ?? event.message));
void render();
vscode.postMessage({ type: 'ready' });
