/**
 * "Inspect loss" from the running kernel, with no install: runs the capture code (kernel-code.ts)
 * through the Jupyter extension's kernel API and reads the capture folder it writes under the
 * extension's global storage. Says clearly when it cannot (untrusted workspace, no Jupyter
 * extension, no kernel, kernel busy or not Python) and points at the Python helper instead.
 */
import * as vscode from 'vscode';
import type { Jupyter, Kernel } from '@vscode/jupyter-extension';
import type { DocumentLossCall } from '../../../server/src/protocol';
import type { PanelCapture } from '../panel/messages';
import { readFileShared } from '../../../server/src/tensors/read-file';
import { KernelCaptureError, capturedFolder, kernelCaptureCode, notebookCodeHashes } from './kernel-code';
import { TENSOR_ROLES, parseCaptureRecord, type TensorRole } from './record';

const JUPYTER_EXTENSION_ID = 'ms-toolsai.jupyter';
const STDOUT_MIME = 'application/vnd.code.notebook.stdout';
const STDERR_MIME = 'application/vnd.code.notebook.stderr';
const ERROR_MIME = 'application/vnd.code.notebook.error';
const CAPTURE_TIMEOUT_MS = 120_000;

export const HELPER_ALTERNATIVE =
  'Alternative: run `import loss_lens; loss_lens.capture(input=..., target=..., loss=criterion)` in a cell (the helper is in the extension\'s python/ folder).';

async function runningKernel(notebook: vscode.NotebookDocument): Promise<Kernel> {
  if (!vscode.workspace.isTrusted) {
    throw new KernelCaptureError('Loss Lens runs no code in the kernel of an untrusted workspace.');
  }
  const extension = vscode.extensions.getExtension<Jupyter>(JUPYTER_EXTENSION_ID);
  if (!extension) throw new KernelCaptureError('The Jupyter extension (ms-toolsai.jupyter) is not installed, so Loss Lens cannot reach the kernel.');
  let kernel: Kernel | undefined;
  try {
    const api = await extension.activate();
    kernel = await api.kernels.getKernel(notebook.uri);
  } catch (error) {
    throw new KernelCaptureError(`The Jupyter extension refused access to the kernel (${error instanceof Error ? error.message : String(error)}).`);
  }
  if (!kernel) throw new KernelCaptureError('No kernel is running for this notebook: run the cells that define the tensors first.');
  if (kernel.language !== 'python') throw new KernelCaptureError(`The notebook's kernel runs ${kernel.language}, not Python.`);
  if (kernel.status === 'busy' || kernel.status === 'starting' || kernel.status === 'restarting' || kernel.status === 'autorestarting') {
    throw new KernelCaptureError(`The kernel is ${kernel.status}: wait until the running cell finishes, then inspect again.`);
  }
  if (kernel.status === 'dead' || kernel.status === 'terminating') throw new KernelCaptureError(`The kernel is ${kernel.status}.`);
  return kernel;
}

export interface InspectTarget {
  notebook: vscode.NotebookDocument;
  call: DocumentLossCall;
  cell: number;
  callText: string;
  callId: string;
}

/** Captures the call's tensors in the kernel and returns the capture with its tensor files read. */
export async function captureFromKernel(target: InspectTarget, storage: vscode.Uri, helperSource: string): Promise<PanelCapture> {
  const kernel = await runningKernel(target.notebook);
  const capturesFolder = vscode.Uri.joinPath(storage, 'captures');
  await vscode.workspace.fs.createDirectory(capturesFolder);
  const code = kernelCaptureCode({
    call: target.call,
    callText: target.callText,
    cell: target.cell,
    notebook: target.notebook.uri.toString(),
    folder: capturesFolder.fsPath,
    helperSource,
    // The code the tensors depend on: an edit to it later (this call, or a softmax in a cell above) makes the capture stale.
    codeHashes: notebookCodeHashes(target.notebook.getCells().map((cell) => ({
      index: cell.index,
      python: cell.kind === vscode.NotebookCellKind.Code && cell.document.languageId === 'python',
      text: cell.document.getText(),
    })), target.cell),
  });

  const cancellation = new vscode.CancellationTokenSource();
  const timer = setTimeout(() => cancellation.cancel(), CAPTURE_TIMEOUT_MS);
  const decoder = new TextDecoder();
  let stdout = '';
  let failure = '';
  try {
    for await (const output of kernel.executeCode(code, cancellation.token)) {
      for (const item of output.items) {
        if (item.mime === STDOUT_MIME) stdout += decoder.decode(item.data);
        else if (item.mime === ERROR_MIME) {
          const error = JSON.parse(decoder.decode(item.data)) as { name?: string; message?: string };
          failure = `${error.name ?? 'Error'}: ${error.message ?? ''}`;
        } else if (item.mime === STDERR_MIME) failure ||= decoder.decode(item.data).trim();
      }
    }
  } finally {
    clearTimeout(timer);
    cancellation.dispose();
  }
  if (cancellation.token.isCancellationRequested) throw new KernelCaptureError(`The capture did not finish within ${CAPTURE_TIMEOUT_MS / 1000} s.`);
  const folderPath = capturedFolder(stdout);
  if (!folderPath) throw new KernelCaptureError(`Evaluating the loss arguments in the kernel failed${failure ? `: ${failure}` : ''}.`);
  return readCaptureFolder(vscode.Uri.file(folderPath), target.callId);
}

/** Reads a capture folder (manifest + `.npy` files) into a panel capture. */
export async function readCaptureFolder(folder: vscode.Uri, callId?: string): Promise<PanelCapture> {
  const manifest = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder, 'manifest.json'));
  const record = parseCaptureRecord(JSON.parse(new TextDecoder().decode(manifest)));
  const files: Partial<Record<TensorRole, Uint8Array>> = {};
  for (const role of TENSOR_ROLES) {
    const file = record.tensors[role]?.file;
    if (!file) continue;
    const uri = vscode.Uri.joinPath(folder, file);
    // A Uint8Array that owns its whole buffer: readFile returns a Node Buffer (often a view into a shared pool),
    // which the webview message transfer (it sends a view's whole buffer) does not carry over intact. Local files
    // are read straight into a SharedArrayBuffer of their size: the host kernel's worker threads then read the
    // tensors in place, where a copy would hold the tensors twice (docs/panel.md, "Where the panel computes").
    files[role] = uri.scheme === 'file' ? readFileShared(uri.fsPath) : new Uint8Array(await vscode.workspace.fs.readFile(uri));
  }
  // The manifest is written before the helper knows where it lands: the reader names the folder.
  return { record: { ...record, folder: folder.fsPath }, callId, cell: record.source.cell, files };
}
