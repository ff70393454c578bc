/**
 * A minimal LSP client for the tests and the benchmark: starts the BUILT server
 * (`node server/out/server.js --stdio`), speaks JSON-RPC over the child's stdio, answers the server's
 * `workspace/configuration` and `client/registerCapability` requests, mirrors the documents it opens
 * (so code-action edits can be applied and sent back as edits), and records what the server sends.
 */
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as path from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  CodeAction,
  CodeActionParams,
  ConfigurationParams,
  Diagnostic,
  Hover,
  InitializeParams,
  NotebookCellKind,
  ProtocolConnection,
  PublishDiagnosticsParams,
  StreamMessageReader,
  StreamMessageWriter,
  TextDocumentContentChangeEvent,
  TextDocumentEdit,
  WorkspaceEdit,
  createProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import { LossCallsRequest, LossCallsResult, StatusNotification, StatusParams } from '../../server/src/protocol';

export const REPO_ROOT = path.resolve(__dirname, '../..');
/** The server under test: the build, or another bundle named by LOSS_LENS_SERVER_BUNDLE (to compare builds). */
export const SERVER_BUNDLE = process.env.LOSS_LENS_SERVER_BUNDLE ?? path.join(REPO_ROOT, 'server/out/server.js');

export interface NotebookCellSpec {
  kind: 'code' | 'markdown';
  text: string;
}

interface OpenNotebook {
  version: number;
  cellUris: string[];
}

export interface StartOptions {
  debounceMs?: number;
  /** What the client answers to `workspace/configuration` for the `lossLens` section. */
  settings?: unknown;
}

export class LspTestClient {
  readonly connection: ProtocolConnection;
  /** The latest diagnostics the server published per URI. */
  readonly diagnostics = new Map<string, Diagnostic[]>();
  readonly statuses: StatusParams[] = [];
  readonly logs: string[] = [];
  readonly documents = new Map<string, TextDocument>();
  readonly notebooks = new Map<string, OpenNotebook>();
  /** Answered to every `workspace/configuration` item for the `lossLens` section. */
  settings: unknown;
  configurationRequests = 0;
  private exited = false;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly child: ChildProcessWithoutNullStreams, settings: unknown) {
    this.settings = settings;
    this.connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    child.stderr.on('data', (chunk: Buffer) => {
      this.logs.push(`stderr: ${chunk.toString()}`);
      this.notify();
    });
    child.on('exit', () => {
      this.exited = true;
      this.notify();
    });
    this.connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
      this.diagnostics.set(params.uri, params.diagnostics);
      this.notify();
    });
    this.connection.onNotification(StatusNotification, (params) => {
      this.statuses.push(params);
      this.notify();
    });
    this.connection.onNotification('window/logMessage', (params: { message: string }) => {
      this.logs.push(params.message);
      this.notify();
    });
    this.connection.onRequest('workspace/configuration', (params: ConfigurationParams) => {
      this.configurationRequests++;
      return params.items.map((item) => (item.section === 'lossLens' ? this.settings : null));
    });
    this.connection.onRequest('client/registerCapability', () => null);
    this.connection.listen();
  }

  static async start(options: StartOptions = {}): Promise<LspTestClient> {
    const child = spawn(process.execPath, [SERVER_BUNDLE, '--stdio'], { cwd: REPO_ROOT, stdio: 'pipe' });
    const client = new LspTestClient(child, options.settings ?? {});
    const params: InitializeParams = {
      processId: process.pid,
      rootUri: null,
      capabilities: {
        workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true }, workspaceEdit: { documentChanges: true } },
        textDocument: {
          publishDiagnostics: { relatedInformation: true, versionSupport: true, codeDescriptionSupport: true, dataSupport: true },
          codeAction: { dataSupport: true, isPreferredSupport: true },
          hover: { contentFormat: ['markdown'] },
        },
        notebookDocument: { synchronization: {} },
      },
      initializationOptions: { debounceMs: options.debounceMs ?? 20 },
    };
    await client.connection.sendRequest('initialize', params);
    await client.connection.sendNotification('initialized', {});
    return client;
  }

  get alive(): boolean {
    return !this.exited;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /**
   * Resolves once `condition` holds (checked after every message from the server). Fails once the server has sent
   * nothing for `quietMs` while the condition still fails: a loaded machine makes a busy server slower, never silent
   * for long (it reports each analysis it starts and ends), so the bound only catches a server that stopped working.
   */
  waitFor<T>(describe: string, condition: () => T | undefined | false, quietMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        if (this.exited) return finish(() => reject(new Error(`server exited while waiting for ${describe}\n${this.logs.join('\n')}`)));
        const value = condition();
        if (value !== undefined && value !== false) return finish(() => resolve(value));
        clearTimeout(timer);
        timer = setTimeout(
          () => finish(() => reject(new Error(`the server sent nothing for ${quietMs} ms while waiting for ${describe}\n${this.logs.join('\n')}`))),
          quietMs,
        );
      };
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for the `ready` status of a target at (at least) the given version, arriving after status number `after`. */
  waitForReady(uri: string, version: number, after = 0, quietMs = 10_000): Promise<StatusParams> {
    return this.waitFor(
      `analysis of ${uri} v${version}`,
      () => this.statuses.slice(after).find((status) => status.uri === uri && status.state !== 'analysing' && (status.version ?? -1) >= version),
      quietMs,
    );
  }

  // --- text documents ------------------------------------------------------------------------------

  async openText(uri: string, text: string, languageId = 'python'): Promise<void> {
    this.documents.set(uri, TextDocument.create(uri, languageId, 1, text));
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
  }

  async changeText(uri: string, changes: TextDocumentContentChangeEvent[]): Promise<number> {
    const document = this.documents.get(uri);
    if (!document) throw new Error(`not open: ${uri}`);
    const updated = TextDocument.update(document, changes, document.version + 1);
    this.documents.set(uri, updated);
    await this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: updated.version }, contentChanges: changes });
    return updated.version;
  }

  async closeText(uri: string): Promise<void> {
    this.documents.delete(uri);
    await this.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  // --- notebooks -----------------------------------------------------------------------------------

  async openNotebook(uri: string, cells: NotebookCellSpec[]): Promise<string[]> {
    const cellUris = cells.map((_, index) => `${uri}#cell${index}`);
    const cellTextDocuments = cells.map((cell, index) => {
      const languageId = cell.kind === 'code' ? 'python' : 'markdown';
      this.documents.set(cellUris[index], TextDocument.create(cellUris[index], languageId, 1, cell.text));
      return { uri: cellUris[index], languageId, version: 1, text: cell.text };
    });
    this.notebooks.set(uri, { version: 1, cellUris: [...cellUris] });
    await this.connection.sendNotification('notebookDocument/didOpen', {
      notebookDocument: {
        uri,
        notebookType: 'jupyter-notebook',
        version: 1,
        cells: cells.map((cell, index) => ({
          kind: cell.kind === 'code' ? NotebookCellKind.Code : NotebookCellKind.Markup,
          document: cellUris[index],
        })),
      },
      cellTextDocuments,
    });
    return cellUris;
  }

  /** Edits one cell's text; returns the notebook's new version. */
  async changeCell(notebookUri: string, cellUri: string, changes: TextDocumentContentChangeEvent[]): Promise<number> {
    const notebook = this.notebook(notebookUri);
    const document = this.documents.get(cellUri);
    if (!document) throw new Error(`not open: ${cellUri}`);
    const updated = TextDocument.update(document, changes, document.version + 1);
    this.documents.set(cellUri, updated);
    notebook.version++;
    await this.connection.sendNotification('notebookDocument/didChange', {
      notebookDocument: { uri: notebookUri, version: notebook.version },
      change: { cells: { textContent: [{ document: { uri: cellUri, version: updated.version }, changes }] } },
    });
    return notebook.version;
  }

  /** Removes `count` cells at `start`; returns the notebook's new version. */
  async removeCells(notebookUri: string, start: number, count: number): Promise<number> {
    const notebook = this.notebook(notebookUri);
    const removed = notebook.cellUris.splice(start, count);
    for (const uri of removed) this.documents.delete(uri);
    notebook.version++;
    await this.connection.sendNotification('notebookDocument/didChange', {
      notebookDocument: { uri: notebookUri, version: notebook.version },
      change: { cells: { structure: { array: { start, deleteCount: count }, didClose: removed.map((uri) => ({ uri })) } } },
    });
    return notebook.version;
  }

  private notebook(uri: string): OpenNotebook {
    const notebook = this.notebooks.get(uri);
    if (!notebook) throw new Error(`notebook not open: ${uri}`);
    return notebook;
  }

  /** The notebook that holds a cell URI, if any. */
  notebookOf(cellUri: string): string | undefined {
    for (const [uri, notebook] of this.notebooks) if (notebook.cellUris.includes(cellUri)) return uri;
    return undefined;
  }

  // --- requests ------------------------------------------------------------------------------------

  codeActions(uri: string, diagnostics: Diagnostic[], only?: string[]): Promise<CodeAction[]> {
    const range = diagnostics[0]?.range ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    const params: CodeActionParams = { textDocument: { uri }, range, context: { diagnostics, ...(only ? { only } : {}) } };
    return this.connection.sendRequest('textDocument/codeAction', params) as Promise<CodeAction[]>;
  }

  hover(uri: string, line: number, character: number): Promise<Hover | null> {
    return this.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line, character } }) as Promise<Hover | null>;
  }

  lossCalls(uri: string): Promise<LossCallsResult | null> {
    return this.connection.sendRequest(LossCallsRequest, { uri });
  }

  async setSettings(settings: unknown): Promise<void> {
    this.settings = settings;
    await this.connection.sendNotification('workspace/didChangeConfiguration', { settings: null });
  }

  /**
   * Applies a workspace edit to the mirrored documents the way an editor would (checking versions), and
   * sends each touched document's change to the server. Returns the targets that changed, with their new versions.
   */
  async applyEdit(edit: WorkspaceEdit): Promise<Map<string, number>> {
    const changed = new Map<string, number>();
    for (const change of edit.documentChanges ?? []) {
      if (!TextDocumentEdit.is(change)) throw new Error('unexpected resource operation in a Loss Lens edit');
      const uri = change.textDocument.uri;
      const document = this.documents.get(uri);
      if (!document) throw new Error(`edit for a document that is not open: ${uri}`);
      if (change.textDocument.version !== null && change.textDocument.version !== document.version) {
        throw new Error(`stale edit for ${uri}: v${change.textDocument.version}, document at v${document.version}`);
      }
      const text = TextDocument.applyEdits(document, change.edits);
      const full = { range: { start: { line: 0, character: 0 }, end: document.positionAt(document.getText().length) }, text };
      const notebook = this.notebookOf(uri);
      if (notebook) changed.set(notebook, await this.changeCell(notebook, uri, [full]));
      else changed.set(uri, await this.changeText(uri, [full]));
    }
    return changed;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      await this.connection.sendRequest('shutdown');
      await this.connection.sendNotification('exit');
    } catch {
      this.child.kill();
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
    if (!this.exited) this.child.kill();
    this.connection.dispose();
  }
}
