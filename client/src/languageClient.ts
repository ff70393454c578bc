/**
 * Creates the language client that runs the Loss Lens server (`server/out/server.js`) in a Node
 * process over IPC, for Python files and the Python cells of Jupyter notebooks and the
 * interactive window, and restarts it after a crash within limits.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  TransportKind,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { CONFIGURATION_SECTION } from '../../server/src/protocol';
import { RestartPolicy } from './restartPolicy';

/** The port "Attach to Server" in .vscode/launch.json attaches to. */
const SERVER_DEBUG_PORT = 6009;
/** The client id: also makes the client read `lossLens.trace.server`. */
const CLIENT_ID = CONFIGURATION_SECTION;
export const CLIENT_NAME = 'Loss Lens';
export const SHOW_OUTPUT_COMMAND = 'lossLens.showOutput';
export const RESTART_SERVER_COMMAND = 'lossLens.restartServer';

const CRASH_RESTART_LIMIT = { maxRestarts: 4, windowMs: 3 * 60_000 };

/** Python documents on disk and unsaved, and Python cells of notebooks (synchronised as notebooks). */
const DOCUMENT_SELECTOR = [
  { scheme: 'file', language: 'python' },
  { scheme: 'untitled', language: 'python' },
  // Cells: their text reaches the server through notebook synchronisation (the client sends a cell
  // through one channel only), but code actions and hovers are registered for this selector, so the
  // cells must match it for quick fixes to appear in notebooks.
  { notebook: 'jupyter-notebook', language: 'python' },
  { notebook: 'interactive', language: 'python' },
];

function showOutputButton(output: vscode.OutputChannel, choice: string | undefined): void {
  if (choice === 'Show Output') output.show(true);
}

/** Restarts a crashed server up to CRASH_RESTART_LIMIT times, telling the user each time. */
export class CrashRestartHandler implements ErrorHandler {
  readonly policy = new RestartPolicy(CRASH_RESTART_LIMIT);

  constructor(private readonly output: vscode.OutputChannel) {}

  error(_error: Error, _message: unknown, count: number | undefined): ErrorHandlerResult {
    // A few transport errors in a row can be transient; a stream of them means the connection is gone.
    return { action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown };
  }

  closed(): CloseHandlerResult {
    const decision = this.policy.recordCrash(Date.now());
    const minutes = CRASH_RESTART_LIMIT.windowMs / 60_000;
    if (decision.restart) {
      const message = `Loss Lens: the analysis server stopped unexpectedly and is being restarted (restart ${decision.attempt} of ${decision.maxRestarts} allowed in ${minutes} minutes).`;
      this.output.appendLine(message);
      void vscode.window.showWarningMessage(message, 'Show Output').then((choice) => showOutputButton(this.output, choice));
      return { action: CloseAction.Restart, handled: true };
    }
    const message = `Loss Lens: the analysis server crashed ${decision.crashes} times in ${minutes} minutes and will not be restarted. The output has the details; "Loss Lens: Restart Server" starts it again.`;
    this.output.appendLine(message);
    void vscode.window
      .showErrorMessage(message, 'Show Output', 'Restart Server')
      .then((choice) => {
        showOutputButton(this.output, choice);
        if (choice === 'Restart Server') void vscode.commands.executeCommand(RESTART_SERVER_COMMAND);
      });
    return { action: CloseAction.DoNotRestart, handled: true };
  }
}

export function createLanguageClient(
  context: vscode.ExtensionContext,
  output: vscode.OutputChannel,
  errorHandler: ErrorHandler,
): LanguageClient | undefined {
  const serverModule = context.asAbsolutePath('server/out/server.js');
  if (!fs.existsSync(serverModule)) {
    const message = `Loss Lens: the analysis server is missing (${serverModule}). Reinstall the extension, or run "npm run build" in a development checkout.`;
    output.appendLine(message);
    void vscode.window.showErrorMessage(message);
    return undefined;
  }
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: {
      module: serverModule,
      transport: TransportKind.ipc,
      options: { execArgv: ['--nolazy', `--inspect=${SERVER_DEBUG_PORT}`] },
    },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: DOCUMENT_SELECTOR,
    diagnosticCollectionName: CLIENT_ID,
    outputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    errorHandler,
    // Imported modules nobody has open are read from disk: the server hears of their changes, creations and deletions.
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.py') },
  };
  return new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
}
