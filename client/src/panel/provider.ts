/**
 * The extension-host side of the notebook panel: a webview view that follows the active notebook,
 * gathers its loss calls (from the language server), the rule IDs reported at each, and its captures
 * (Loss Lens outputs saved in the notebook, and kernel captures made by "Inspect loss"), and sends
 * them to the webview. Acts on validated webview messages only ("Insert into code").
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { LossCallsRequest, type DocumentLossCall } from '../../../server/src/protocol';
import { CAPTURE_MIME_TYPE, CaptureFormatError, parseCaptureRecord, type CaptureRecord } from '../capture/record';
import { readCaptureFolder } from '../capture/kernel';
import * as path from 'node:path';
import type * as HostAnalysisModule from './host-analysis';
import { panelHtml } from './html';
import { withKeywordArgument } from './insert';
import { currentCode, withModuleHashes } from '../../../server/src/captures/match';
import { pairCaptures, panelLossCall } from './match';
import { parseWebviewMessage, type HostMessage, type PanelCapture, type PanelLossCall, type WebviewMessage } from './messages';
import { tensorsForWebview, withoutTensorBytes } from './transfer';

export const PANEL_VIEW_ID = 'lossLens.panel';
export const SHOW_PANEL_COMMAND = 'lossLens.showPanel';
const DEFAULT_MAX_ELEMENTS = 50_000_000;

/** A capture made in the kernel for a notebook, with the bytes of its tensor files. */
export interface KernelCapture {
  notebookUri: string;
  capture: PanelCapture;
}

export class LossLensPanel implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private readonly kernelCaptures: KernelCapture[] = [];
  private calls = new Map<string, { call: DocumentLossCall; panel: PanelLossCall }>();
  private pendingFocus: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * The capture folders read for sampled saved captures, by capture id and folder: a refresh comes with every
   * notebook edit and diagnostics change, and the folder (named by the capture's unique id) holds the largest
   * bytes the panel reads. Only the active notebook's are kept.
   */
  private fullCaptures = new Map<string, PanelCapture>();
  /** The captures of the last `show` message: what the webview may ask the host to analyse. */
  private shownCaptures: PanelCapture[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly client: LanguageClient | undefined,
    private readonly output: vscode.OutputChannel,
  ) {
    this.disposables.push(
      vscode.window.onDidChangeActiveNotebookEditor(() => this.scheduleRefresh()),
      vscode.workspace.onDidChangeNotebookDocument((event) => {
        if (event.notebook === vscode.window.activeNotebookEditor?.notebook) this.scheduleRefresh();
      }),
      vscode.languages.onDidChangeDiagnostics(() => this.scheduleRefresh()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('lossLens.panel')) this.scheduleRefresh();
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const outFolder = vscode.Uri.joinPath(this.extensionUri, 'client', 'out');
    view.webview.options = { enableScripts: true, localResourceRoots: [outFolder] };
    view.webview.html = panelHtml({
      cspSource: view.webview.cspSource,
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(outFolder, 'panel.js')).toString(),
      wasmFolderUri: `${view.webview.asWebviewUri(outFolder).toString()}/`,
    });
    view.webview.onDidReceiveMessage((message: unknown) => this.receive(message), undefined, this.disposables);
    view.onDidChangeVisibility(() => view.visible && this.scheduleRefresh(), undefined, this.disposables);
    view.onDidDispose(() => { this.view = undefined; this.ready = false; }, undefined, this.disposables);
  }

  /** Shows the panel and selects a capture (the renderer's "Open in Loss Lens panel" link). */
  async reveal(captureId?: string): Promise<void> {
    this.pendingFocus = captureId;
    await vscode.commands.executeCommand(`${PANEL_VIEW_ID}.focus`);
    if (this.ready) await this.refresh();
  }

  addKernelCapture(entry: KernelCapture): void {
    this.kernelCaptures.push(entry);
    void this.reveal(entry.capture.record.id);
  }

  status(level: 'info' | 'error', message: string): void {
    void this.post({ type: 'status', level, message });
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), 200);
  }

  private async post(message: HostMessage): Promise<void> {
    if (this.view && this.ready) await this.view.webview.postMessage(message);
  }

  private async receive(raw: unknown): Promise<void> {
    const message = parseWebviewMessage(raw);
    if (!message) {
      this.output.appendLine(`Loss Lens panel: ignored a malformed message from the webview`);
      return;
    }
    await this.handle(message);
  }

  private async handle(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        await this.refresh();
        break;
      case 'error':
        this.output.appendLine(`Loss Lens panel: ${message.message}`);
        break;
      case 'selectCapture':
        break;
      case 'analyse':
        await this.analyseForWebview(message);
        break;
      case 'requestTensors':
        await this.sendTensors(message);
        break;
      case 'insertCode':
        await this.insertCode(message.callId, message.keyword, message.code);
        break;
    }
  }

  /** Runs a capture's analysis here, on the host kernel and every core, and sends it back (the webview chose this path). */
  private async analyseForWebview(message: WebviewMessage & { type: 'analyse' }): Promise<void> {
    const capture = this.shownCaptures.find((shown) => shown.record.id === message.captureId);
    let reply: HostMessage;
    if (!capture) {
      reply = { type: 'analysis', requestId: message.requestId, error: 'that capture is no longer in the notebook' };
    } else {
      try {
        const { analysis, note } = await hostAnalysisModule().analyseOnHost(capture, message.findings, Math.min(maxElements(), message.maxElements ?? Infinity));
        reply = { type: 'analysis', requestId: message.requestId, analysis, note };
      } catch (error) {
        reply = { type: 'analysis', requestId: message.requestId, error: error instanceof Error ? error.message : String(error) };
      }
    }
    await this.post(reply);
  }

  /** Sends a capture's tensors to the webview, which computes it itself (up to the element limit, or the first rows it asks for). */
  private async sendTensors(message: WebviewMessage & { type: 'requestTensors' }): Promise<void> {
    const capture = this.shownCaptures.find((shown) => shown.record.id === message.captureId);
    let reply: HostMessage;
    if (!capture) {
      reply = { type: 'tensors', requestId: message.requestId, error: 'that capture is no longer in the notebook' };
    } else {
      try {
        reply = { type: 'tensors', requestId: message.requestId, ...tensorsForWebview(capture, Math.min(maxElements(), message.maxElements ?? Infinity)) };
      } catch (error) {
        reply = { type: 'tensors', requestId: message.requestId, error: error instanceof Error ? error.message : String(error) };
      }
    }
    await this.post(reply);
  }

  /** Sets `keyword=code` in the loss's constructor (module losses) or in the call (functional losses). */
  private async insertCode(callId: string, keyword: string, code: string): Promise<void> {
    const entry = this.calls.get(callId);
    if (!entry) {
      void vscode.window.showWarningMessage('Loss Lens: that loss call is no longer in the notebook.');
      return;
    }
    const { call } = entry;
    const uri = vscode.Uri.parse(call.constructorLocation && call.constructorUri ? call.constructorUri : call.uri);
    const location = call.constructorLocation ?? call.location;
    const document = await vscode.workspace.openTextDocument(uri);
    const range = new vscode.Range(location.range.start.line, location.range.start.character, location.range.end.line, location.range.end.character);
    const updated = withKeywordArgument(document.getText(range), keyword, code);
    if (updated === undefined) {
      void vscode.window.showWarningMessage(`Loss Lens: could not find the argument list of ${document.getText(range)}.`);
      return;
    }
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, range, updated);
    if (!(await vscode.workspace.applyEdit(edit))) void vscode.window.showWarningMessage('Loss Lens: the edit could not be applied.');
  }

  async refresh(): Promise<void> {
    if (!this.view || !this.ready) return;
    const notebook = vscode.window.activeNotebookEditor?.notebook;
    if (!notebook) {
      await this.post({ type: 'show', notebook: null, calls: [], captures: [], maxElements: maxElements() });
      return;
    }
    const { calls, moduleHashes, notice } = await this.lossCalls(notebook);
    const readFolders = this.fullCaptures;
    this.fullCaptures = new Map();
    const saved = await Promise.all(capturesInOutputs(notebook, this.output).map((capture) => withFullTensors(capture, this.output, readFolders, this.fullCaptures)));
    // The notebook's Python code cells as the editor holds them, as the language server has them, and the project
    // modules the server followed from them, by their hashes.
    const code = withModuleHashes(currentCode(notebook.getCells()
      .filter((cell) => cell.kind === vscode.NotebookCellKind.Code && cell.document.languageId === 'python')
      .map((cell) => ({ cell: cell.index, text: cell.document.getText() }))), moduleHashes);
    const kernelCaptures = this.kernelCaptures.filter((entry) => entry.notebookUri === notebook.uri.toString()).map((entry) => entry.capture);
    // Paired as the language server pairs them for the diagnostics, so the panel's verdicts are theirs.
    const captures = pairCaptures([...saved, ...kernelCaptures], calls, code);
    this.shownCaptures = captures;
    if (captures.length > 0) {
      try {
        hostAnalysisModule().prepareHostAnalysis();
      } catch (error) {
        // The analysis request will report it; the panel still shows the captures.
        this.output.appendLine(`Loss Lens: the host analysis could not start: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    await this.post({
      type: 'show',
      notebook: { uri: notebook.uri.toString(), name: notebook.uri.path.split('/').pop() ?? notebook.uri.toString() },
      calls,
      // Records and shapes only: the webview asks for the bytes (requestTensors) when it computes itself.
      captures: captures.map(withoutTensorBytes),
      maxElements: maxElements(),
      notice,
      hostCompute: true,
    });
    if (this.pendingFocus) {
      await this.post({ type: 'focus', captureId: this.pendingFocus });
      this.pendingFocus = undefined;
    }
  }

  private async lossCalls(notebook: vscode.NotebookDocument): Promise<{ calls: PanelLossCall[]; moduleHashes: (string | null)[]; notice?: string }> {
    this.calls = new Map();
    if (!this.client?.isRunning()) return { calls: [], moduleHashes: [], notice: 'The Loss Lens language server is not running: captures are shown without their loss calls.' };
    let result;
    try {
      result = await this.client.sendRequest(LossCallsRequest, { uri: notebook.uri.toString() });
    } catch (error) {
      return { calls: [], moduleHashes: [], notice: `The language server did not list the loss calls: ${error instanceof Error ? error.message : String(error)}` };
    }
    const cellIndexOf = new Map(notebook.getCells().map((cell) => [cell.document.uri.toString(), cell.index]));
    const calls: PanelLossCall[] = [];
    for (const call of result?.calls ?? []) {
      // The cell document the server names is authoritative (its `location.cell` counts the cells it analysed).
      const cell = cellIndexOf.get(call.uri) ?? call.location.cell ?? 0;
      const panel = panelLossCall(call, cell, notebook.cellAt(cell).document.getText());
      this.calls.set(panel.id, { call, panel });
      calls.push(panel);
    }
    return { calls, moduleHashes: result?.moduleHashes ?? [], notice: result?.truncated ? 'The analysis ran out of time: some loss calls may be missing.' : undefined };
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const disposable of this.disposables) disposable.dispose();
  }
}

let loadedHostAnalysis: typeof HostAnalysisModule | undefined;

/**
 * The host's analysis, from its own bundle beside this one (`host-analysis.js`: the loss engine with TensorFlow.js's
 * backends, 2 MB), loaded when the panel first shows captures rather than at activation. A computed path keeps
 * esbuild from inlining it.
 */
function hostAnalysisModule(): typeof HostAnalysisModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loadedHostAnalysis ??= require(path.join(__dirname, 'host-analysis.js')) as typeof HostAnalysisModule;
  return loadedHostAnalysis;
}

export function maxElements(): number {
  const value = vscode.workspace.getConfiguration('lossLens.panel').get<number>('maxElements', DEFAULT_MAX_ELEMENTS);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_MAX_ELEMENTS;
}

/**
 * A saved capture whose inline copy was cut to its first rows, with the whole tensors when its capture
 * folder is still on this machine (the helper wrote it there) and the workspace is trusted; else as is.
 */
async function withFullTensors(
  capture: PanelCapture,
  output: vscode.OutputChannel,
  readBefore: ReadonlyMap<string, PanelCapture>,
  readNow: Map<string, PanelCapture>,
): Promise<PanelCapture> {
  const { record } = capture;
  const sampled = Object.values(record.tensors).some((tensor) => tensor?.sampled);
  if (!sampled || !record.folder || !vscode.workspace.isTrusted) return capture;
  const key = `${record.id}\0${record.folder}`;
  const known = readBefore.get(key);
  if (known) {
    readNow.set(key, known);
    return { ...known, cell: capture.cell };
  }
  try {
    const full = await readCaptureFolder(vscode.Uri.file(record.folder));
    // The folder must be this capture's: same id, and it must hold the shapes the inline copy was cut from.
    const matches = full.record.id === record.id && (['input', 'target'] as const).every((role) =>
      (record.tensors[role].sampled?.originalShape ?? record.tensors[role].shape).join() === full.record.tensors[role].shape.join());
    if (matches) {
      readNow.set(key, full);
      return { ...full, cell: capture.cell };
    }
    output.appendLine(`Loss Lens: the folder of capture ${record.id} holds other tensors; using the inline copy`);
  } catch (error) {
    if (!(error instanceof vscode.FileSystemError)) {
      output.appendLine(`Loss Lens: capture folder ${record.folder} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return capture;
}

/** The Loss Lens outputs saved in the notebook's cells (what `loss_lens.capture` displayed). */
function capturesInOutputs(notebook: vscode.NotebookDocument, output: vscode.OutputChannel): PanelCapture[] {
  const captures: PanelCapture[] = [];
  const decoder = new TextDecoder();
  for (const cell of notebook.getCells()) {
    for (const cellOutput of cell.outputs) {
      for (const item of cellOutput.items) {
        if (item.mime !== CAPTURE_MIME_TYPE) continue;
        try {
          const record: CaptureRecord = parseCaptureRecord(JSON.parse(decoder.decode(item.data)));
          captures.push({ record, cell: cell.index });
        } catch (error) {
          const reason = error instanceof CaptureFormatError || error instanceof SyntaxError ? error.message : String(error);
          output.appendLine(`Loss Lens: cell ${cell.index + 1} holds a capture that cannot be read: ${reason}`);
        }
      }
    }
  }
  return captures;
}
