/**
 * Tells the language server which captures each open notebook holds (`lossLens/captures`): LSP does not carry cell
 * outputs, and the server confirms the findings at a loss call with its capture. Sent when a notebook opens, when
 * its capture outputs (or cells) change, for kernel captures ("Inspect loss"), and again after a server restart.
 */
import * as vscode from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node';
import { CapturesNotification, type NotebookCapture } from '../../../server/src/protocol';
import { CAPTURE_MIME_TYPE, type CaptureRecord } from './record';

const NOTEBOOK_TYPES = new Set(['jupyter-notebook', 'interactive']);

export class CaptureSync implements vscode.Disposable {
  /** What each notebook's last notification held (cell and id of each capture), to send only changes. */
  private readonly sent = new Map<string, string>();
  private readonly kernelCaptures = new Map<string, NotebookCapture[]>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly client: LanguageClient) {
    this.disposables.push(
      vscode.workspace.onDidOpenNotebookDocument((notebook) => this.send(notebook)),
      vscode.workspace.onDidChangeNotebookDocument((event) => {
        if (event.contentChanges.length > 0 || event.cellChanges.some((change) => change.outputs !== undefined)) this.send(event.notebook);
      }),
      vscode.workspace.onDidCloseNotebookDocument((notebook) => {
        this.sent.delete(notebook.uri.toString());
        this.kernelCaptures.delete(notebook.uri.toString());
      }),
      client.onDidChangeState((event) => {
        if (event.newState !== State.Running) return;
        // A new server process knows nothing of the captures.
        this.sent.clear();
        for (const notebook of vscode.workspace.notebookDocuments) this.send(notebook);
      }),
    );
  }

  /** A kernel capture: its record names its folder, where the server reads the tensors. */
  addKernelCapture(notebook: vscode.NotebookDocument, cell: number, record: CaptureRecord): void {
    const key = notebook.uri.toString();
    const cellUri = notebook.cellAt(cell).document.uri.toString();
    this.kernelCaptures.set(key, [...(this.kernelCaptures.get(key) ?? []), { cell, cellUri, record, folder: record.folder }]);
    this.send(notebook);
  }

  private send(notebook: vscode.NotebookDocument): void {
    if (!NOTEBOOK_TYPES.has(notebook.notebookType) || !this.client.isRunning()) return;
    const key = notebook.uri.toString();
    const captures = [...capturesInOutputs(notebook), ...(this.kernelCaptures.get(key) ?? [])];
    const signature = captures.map((capture) => `${capture.cell}:${(capture.record as { id?: unknown }).id}`).join(',');
    if ((this.sent.get(key) ?? '') === signature) return;
    this.sent.set(key, signature);
    void this.client.sendNotification(CapturesNotification, { uri: key, captures });
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
  }
}

/** The Loss Lens outputs of a notebook's cells, as JSON (the server validates them). */
function capturesInOutputs(notebook: vscode.NotebookDocument): NotebookCapture[] {
  const decoder = new TextDecoder();
  const captures: NotebookCapture[] = [];
  for (const cell of notebook.getCells()) {
    for (const output of cell.outputs) {
      for (const item of output.items) {
        if (item.mime !== CAPTURE_MIME_TYPE) continue;
        try {
          captures.push({ cell: cell.index, cellUri: cell.document.uri.toString(), record: JSON.parse(decoder.decode(item.data)) });
        } catch {
          // Not JSON: the panel reports it; the server has nothing to read.
        }
      }
    }
  }
  return captures;
}
