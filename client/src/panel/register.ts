/**
 * Registers the notebook panel and its companions from `activate`: the webview view, the "Inspect
 * loss" CodeLens and command, the "Show panel" command, and the renderer's messaging (its "Open in
 * the Loss Lens panel" link).
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { INSPECT_LOSS_COMMAND, InspectLossCodeLensProvider, lossCallsOfCell, type InspectLossArguments } from '../capture/codelens';
import { HELPER_ALTERNATIVE, captureFromKernel } from '../capture/kernel';
import { KernelCaptureError } from '../capture/kernel-code';
import { CaptureSync } from '../capture/sync';
import { LossLensPanel, PANEL_VIEW_ID, SHOW_PANEL_COMMAND } from './provider';
import { RENDERER_ID, parseRendererMessage } from '../renderer/messages';

export function registerPanel(context: vscode.ExtensionContext, client: LanguageClient | undefined): LossLensPanel {
  const output = vscode.window.createOutputChannel('Loss Lens Panel');
  const panel = new LossLensPanel(context.extensionUri, client, output);
  const codeLenses = new InspectLossCodeLensProvider(client);
  const captureSync = client ? new CaptureSync(client) : undefined;
  if (captureSync) context.subscriptions.push(captureSync);

  context.subscriptions.push(
    output,
    panel,
    codeLenses,
    vscode.window.registerWebviewViewProvider(PANEL_VIEW_ID, panel, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.languages.registerCodeLensProvider([{ notebookType: 'jupyter-notebook', language: 'python' } as vscode.DocumentFilter], codeLenses),
    vscode.languages.onDidChangeDiagnostics(() => codeLenses.refresh()),
    vscode.commands.registerCommand(SHOW_PANEL_COMMAND, (captureId?: unknown) => panel.reveal(typeof captureId === 'string' ? captureId : undefined)),
    vscode.commands.registerCommand(INSPECT_LOSS_COMMAND, (args?: InspectLossArguments) => inspectLoss(context, client, panel, captureSync, args)),
  );

  const messaging = vscode.notebooks.createRendererMessaging(RENDERER_ID);
  context.subscriptions.push(
    messaging.onDidReceiveMessage((event) => {
      const message = parseRendererMessage(event.message);
      if (message?.type === 'openPanel') void panel.reveal(message.captureId);
    }),
  );
  return panel;
}

/** Finds the call at the CodeLens position (or the cursor) and captures its tensors from the kernel. */
async function inspectLoss(
  context: vscode.ExtensionContext,
  client: LanguageClient | undefined,
  panel: LossLensPanel,
  captureSync: CaptureSync | undefined,
  args?: InspectLossArguments,
): Promise<void> {
  const editor = vscode.window.activeNotebookEditor;
  const cellUri = args ? vscode.Uri.parse(args.cellUri) : vscode.window.activeTextEditor?.document.uri;
  const notebook = vscode.workspace.notebookDocuments.find((document) => document.getCells().some((cell) => cell.document.uri.toString() === cellUri?.toString())) ?? editor?.notebook;
  if (!notebook || !cellUri) {
    void vscode.window.showInformationMessage('Loss Lens: put the cursor on a loss call in a notebook cell to inspect it.');
    return;
  }
  const cell = notebook.getCells().find((candidate) => candidate.document.uri.toString() === cellUri.toString());
  if (!cell) return;
  const position = args ? new vscode.Position(args.line, args.character) : vscode.window.activeTextEditor?.selection.active;
  const calls = await lossCallsOfCell(client, cellUri);
  const call = calls.find((candidate) => {
    const range = new vscode.Range(candidate.location.range.start.line, candidate.location.range.start.character, candidate.location.range.end.line, candidate.location.range.end.character);
    return position !== undefined && range.contains(position);
  });
  if (!call) {
    void vscode.window.showInformationMessage('Loss Lens: no loss call here (the language server reports none at this position).');
    return;
  }
  const range = new vscode.Range(call.location.range.start.line, call.location.range.start.character, call.location.range.end.line, call.location.range.end.character);
  const helperSource = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(context.extensionUri, 'python', 'loss_lens', '__init__.py')));
  try {
    const capture = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Loss Lens: capturing the loss tensors from the kernel…' },
      () => captureFromKernel({
        notebook,
        call,
        cell: cell.index,
        callText: cell.document.getText(range),
        callId: `${cell.index}:${range.start.line}:${range.start.character}`,
      }, context.globalStorageUri, helperSource),
    );
    panel.addKernelCapture({ notebookUri: notebook.uri.toString(), capture });
    captureSync?.addKernelCapture(notebook, cell.index, capture.record);
  } catch (error) {
    const reason = error instanceof KernelCaptureError ? error.message : `Unexpected error: ${error instanceof Error ? error.message : String(error)}`;
    panel.status('error', `${reason} ${HELPER_ALTERNATIVE}`);
    void vscode.window.showWarningMessage(`Loss Lens: ${reason}`, { detail: HELPER_ALTERNATIVE, modal: false });
  }
}
