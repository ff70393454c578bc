import { Connection, NotebookCellKind, NotebookDocuments, TextDocuments } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { ProgramSource, SourceCell } from '../analysis/types';
import { chunkFile } from './chunks';
import { fileOfUri } from './workspaceFiles';

/**
 * The open programs the server analyses. A program ("target") is either a Python text document or a
 * notebook (all its Python cells, in order, as one program); it is keyed by the document's or the
 * notebook's URI. Every change to a target bumps its generation, which is how stale analyses are told
 * apart from current ones whatever versions the client sends.
 */

const PYTHON = 'python';

/** One analysable state of a target, frozen at the moment it was taken. */
export interface ProgramSnapshot {
  key: string;
  kind: 'file' | 'notebook';
  generation: number;
  /** The text document's or notebook's version as the client numbered it. */
  version: number;
  source: ProgramSource;
  /** The URI of each entry of the notebook's `cells` array (a `.py` file: one entry, its own URI). */
  cellUris: string[];
  /**
   * The text document behind each URI of the program. These are the store's live objects (edits update
   * them in place): code actions read them only after making sure the snapshot is current.
   */
  documents: Map<string, TextDocument>;
  /** A file given to the engine in chunks: the file line where each chunk starts (see chunks.ts). */
  chunkStartLines?: number[];
}

/** A program saved as a file has a path: its imports of the project's modules are then followed. */
function withPath(source: ProgramSource, uri: string): ProgramSource {
  const path = fileOfUri(uri);
  return path === undefined ? source : { ...source, path };
}

export class DocumentStore {
  readonly textDocuments = new TextDocuments(TextDocument);
  readonly notebooks = new NotebookDocuments(TextDocument);
  private readonly generations = new Map<string, number>();
  private changeListener: (key: string) => void = () => undefined;
  private closeListener: (key: string) => void = () => undefined;

  listen(connection: Connection): void {
    this.textDocuments.listen(connection);
    this.notebooks.listen(connection);
    this.textDocuments.onDidChangeContent(({ document }) => {
      if (document.languageId === PYTHON) this.changed(document.uri);
    });
    this.textDocuments.onDidClose(({ document }) => this.closed(document.uri));
    this.notebooks.onDidOpen((notebook) => this.changed(notebook.uri));
    this.notebooks.onDidChange(({ notebookDocument }) => this.changed(notebookDocument.uri));
    this.notebooks.onDidClose((notebook) => this.closed(notebook.uri));
  }

  /** Called after a target was opened or changed. */
  onDidChange(listener: (key: string) => void): void {
    this.changeListener = listener;
  }

  /** Called after a target was closed. */
  onDidClose(listener: (key: string) => void): void {
    this.closeListener = listener;
  }

  /** Keys of all open targets. */
  keys(): string[] {
    return [...this.generations.keys()];
  }

  generation(key: string): number | undefined {
    return this.generations.get(key);
  }

  /** The target a URI belongs to: a Python document's own URI, a notebook's URI, or a cell's notebook. */
  targetOf(uri: string): string | undefined {
    if (this.generations.has(uri)) return uri;
    const notebook = this.notebooks.findNotebookDocumentForCell(uri);
    // Removed cells stay in NotebookDocuments' cell map; only a cell still in the notebook counts.
    if (notebook && notebook.cells.some((cell) => cell.document === uri) && this.generations.has(notebook.uri)) {
      return notebook.uri;
    }
    return undefined;
  }

  snapshot(key: string): ProgramSnapshot | undefined {
    const generation = this.generations.get(key);
    if (generation === undefined) return undefined;
    const notebook = this.notebooks.getNotebookDocument(key);
    if (notebook) {
      const units: SourceCell[] = [];
      const documents = new Map<string, TextDocument>();
      notebook.cells.forEach((cell, index) => {
        const document = this.notebooks.getCellTextDocument(cell);
        if (!document) return;
        documents.set(cell.document, document);
        if (cell.kind === NotebookCellKind.Code && document.languageId === PYTHON) {
          units.push({ cell: index, text: document.getText() });
        }
      });
      return {
        key,
        kind: 'notebook',
        generation,
        version: notebook.version,
        source: withPath({ kind: 'notebook', units }, key),
        cellUris: notebook.cells.map((cell) => cell.document),
        documents,
      };
    }
    const document = this.textDocuments.get(key);
    if (!document) return undefined;
    const chunked = chunkFile(document.getText());
    return {
      key,
      kind: 'file',
      generation,
      version: document.version,
      source: withPath(chunked.source, key),
      cellUris: [key],
      documents: new Map([[key, document]]),
      chunkStartLines: chunked.startLines,
    };
  }

  private changed(key: string): void {
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
    this.changeListener(key);
  }

  private closed(key: string): void {
    if (!this.generations.delete(key)) return;
    this.closeListener(key);
  }
}
