/**
 * The Loss Lens extension: starts the language server (diagnostics, quick fixes and hovers come
 * from it through the language client) and shows its state in the status bar.
 * Features that need the running client (the notebook panel) are registered from `activate` with it.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { CLIENT_NAME, CrashRestartHandler, RESTART_SERVER_COMMAND, SHOW_OUTPUT_COMMAND, createLanguageClient } from './languageClient';
import { createStatusBar } from './statusBar';
import { registerPanel } from './panel/register';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel(CLIENT_NAME);
  const crashHandler = new CrashRestartHandler(output);
  const languageClient = createLanguageClient(context, output, crashHandler);
  client = languageClient;

  context.subscriptions.push(
    output,
    createStatusBar(languageClient),
    vscode.commands.registerCommand(SHOW_OUTPUT_COMMAND, () => output.show(true)),
    vscode.commands.registerCommand(RESTART_SERVER_COMMAND, async () => {
      if (languageClient === undefined) return;
      crashHandler.policy.reset();
      // A client that gave up after crashes is stopped: start it; a running one is restarted.
      await startOrReport(output, () => (languageClient.isRunning() ? languageClient.restart() : languageClient.start()));
    }),
  );

  registerPanel(context, languageClient);

  if (languageClient !== undefined) await startOrReport(output, () => languageClient.start());
}

/** Runs a start or restart, turning a failure (a server that dies while starting) into a visible message. */
async function startOrReport(output: vscode.OutputChannel, start: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    output.appendLine(`Loss Lens: the analysis server could not be started: ${reason}`);
    const choice = await vscode.window.showErrorMessage(`Loss Lens: the analysis server could not be started (${reason}).`, 'Show Output');
    if (choice === 'Show Output') output.show(true);
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
