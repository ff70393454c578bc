// The VS Code client starts the server with --node-ipc (a forked Node process): the same protocol over IPC.
import * as assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { describe, it } from 'node:test';
import { IPCMessageReader, IPCMessageWriter, PublishDiagnosticsParams, createProtocolConnection } from 'vscode-languageserver-protocol/node';
import { REPO_ROOT, SERVER_BUNDLE } from './harness';
import { TRAIN_PY, rulesOf } from './sources';

describe('LSP: node IPC transport', () => {
  it('initializes over --node-ipc and publishes diagnostics, with the settings of the initialization options', async () => {
    const child = fork(SERVER_BUNDLE, ['--node-ipc'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const connection = createProtocolConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    try {
      const published = new Promise<PublishDiagnosticsParams>((resolve) =>
        connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => resolve(params)),
      );
      connection.listen();
      // No workspace/configuration capability: the settings come from the initialization options.
      const initializationOptions = { settings: { rules: { 'float-class-index-target': 'off' } } };
      const result = (await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions })) as {
        capabilities: { notebookDocumentSync?: unknown; hoverProvider?: boolean };
        serverInfo?: { name: string };
      };
      assert.equal(result.serverInfo?.name, 'loss-lens');
      assert.ok(result.capabilities.notebookDocumentSync, 'notebook sync is announced');
      assert.equal(result.capabilities.hoverProvider, true);
      await connection.sendNotification('initialized', {});
      const uri = 'file:///work/ipc.py';
      await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text: TRAIN_PY } });
      const diagnostics = await published;
      assert.equal(diagnostics.uri, uri);
      assert.deepEqual(rulesOf(diagnostics.diagnostics), ['softmax-before-cross-entropy']);
      await connection.sendRequest('shutdown');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await connection.sendNotification('exit');
      await exited;
    } finally {
      connection.dispose();
      child.kill();
    }
  });
});
