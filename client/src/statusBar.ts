/** The status bar item that shows the server's state and the number of findings in open files. */
import * as vscode from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node';
import { StatusNotification } from '../../server/src/protocol';
import { SHOW_OUTPUT_COMMAND } from './languageClient';
import { ServerStatusModel, type ClientPhase } from './serverStatus';

function phaseOf(state: State): ClientPhase {
  switch (state) {
    case State.Starting:
      return 'starting';
    case State.Running:
      return 'running';
    case State.Stopped:
      return 'stopped';
  }
}

export function createStatusBar(client: LanguageClient | undefined): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('lossLens.status', vscode.StatusBarAlignment.Left, 0);
  item.name = 'Loss Lens';
  item.command = SHOW_OUTPUT_COMMAND;
  const model = new ServerStatusModel((presentation) => {
    item.text = presentation.text;
    item.tooltip = presentation.tooltip;
    item.backgroundColor = presentation.alarming ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  });
  const disposables: vscode.Disposable[] = [item];
  if (client === undefined) {
    model.setPhase('stopped');
  } else {
    model.setPhase(phaseOf(client.state));
    disposables.push(
      client.onDidChangeState((event) => model.setPhase(phaseOf(event.newState))),
      // Registered before the client starts, so it survives restarts and misses no early report.
      client.onNotification(StatusNotification, (status) => model.serverReported(status)),
    );
  }
  item.show();
  return vscode.Disposable.from(...disposables);
}
