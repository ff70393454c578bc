/**
 * "Inspect loss" CodeLens above each loss call in a notebook cell (calls as the language server
 * reports them), running the `lossLens.inspectLoss` command with the call's position.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { LossCallsRequest, type DocumentLossCall } from '../../../server/src/protocol';

export const INSPECT_LOSS_COMMAND = 'lossLens.inspectLoss';

/** Arguments of `lossLens.inspectLoss`: the cell document and the call's start. */
export interface InspectLossArguments {
  cellUri: string;
  line: number;
  character: number;
}

export class InspectLossCodeLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly client: LanguageClient | undefined) {}

  refresh(): void {
    this.changed.fire();
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const calls = await lossCallsOfCell(this.client, document.uri);
    return calls.map((call) => {
      const start = new vscode.Position(call.location.range.start.line, call.location.range.start.character);
      const args: InspectLossArguments = { cellUri: document.uri.toString(), line: start.line, character: start.character };
      return new vscode.CodeLens(new vscode.Range(start, start), {
        title: 'Inspect loss',
        tooltip: `Capture the tensors of this ${call.loss} call from the running kernel and open them in the Loss Lens panel`,
        command: INSPECT_LOSS_COMMAND,
        arguments: [args],
      });
    });
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** The loss calls the server reports in one cell (it answers for the whole notebook). */
export async function lossCallsOfCell(client: LanguageClient | undefined, cellUri: vscode.Uri): Promise<DocumentLossCall[]> {
  if (!client?.isRunning()) return [];
  try {
    const result = await client.sendRequest(LossCallsRequest, { uri: cellUri.toString() });
    return (result?.calls ?? []).filter((call) => call.uri === cellUri.toString());
  } catch {
    return [];
  }
}
