import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TextDocuments } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { normalizeFilePath } from '../analysis/modules';
import { DiskProjectFiles } from '../workspace/disk-files';

/**
 * The project as the language server sees it, for following imports (`analysis/modules.ts`): an open document's
 * text overrides the disk; a file nobody opened is read from disk on demand (the workspace is never read up front).
 * What was read is remembered (as `DiskProjectFiles` does) until `workspace/didChangeWatchedFiles` says the file changed, and only while some
 * open program depends on it (`retainOnly`), so memory stays bounded by what the open programs import.
 */
export class WorkspaceFiles extends DiskProjectFiles {
  /** The file path of each open document's URI ('' for other schemes), computed once per URI. */
  private readonly fileOfOpenUri = new Map<string, string>();

  constructor(private readonly documents: TextDocuments<TextDocument>) {
    super();
  }

  override readText(path: string): string | undefined {
    return this.openDocument(path)?.getText() ?? super.readText(path);
  }

  override isFile(path: string): boolean {
    return this.openDocument(path) !== undefined || super.isFile(path);
  }

  /** The URI to name a file by: the open document's own URI when it is open (the client's spelling), else its `file:` URI. */
  uriOf(path: string): string {
    return this.openDocument(path)?.uri ?? uriOfFile(path);
  }

  private openDocument(path: string): TextDocument | undefined {
    for (const document of this.documents.all()) {
      let file = this.fileOfOpenUri.get(document.uri);
      if (file === undefined) {
        file = fileOfUri(document.uri) ?? '';
        this.fileOfOpenUri.set(document.uri, file);
      }
      if (file === path) return document;
    }
    return undefined;
  }

  /** A document was closed: its URI's path is no longer remembered. */
  documentClosed(uri: string): void {
    this.fileOfOpenUri.delete(uri);
  }

  /** A file changed on disk: its text is read again on next use. */
  changed(path: string): void {
    this.forget(path);
  }

  /** Files were created or deleted: every remembered existence is forgotten (resolution may change anywhere). */
  createdOrDeleted(path: string): void {
    this.forget(path);
    this.kinds.clear();
  }

  /** Forgets the texts no open program depends on. */
  retainOnly(needed: ReadonlySet<string>): void {
    for (const path of this.texts.keys()) if (!needed.has(path)) this.texts.delete(path);
  }
}

/** The file path of a `file:` URI (forward slashes), or undefined for other schemes (an untitled buffer). */
export function fileOfUri(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return normalizeFilePath(fileURLToPath(uri));
  } catch {
    return undefined;
  }
}

/** The `file:` URI of a path, spelled as VS Code spells it (lower-case drive letter, `:` escaped). */
export function uriOfFile(path: string): string {
  const href = pathToFileURL(path).href;
  return href.replace(/^file:\/\/\/([A-Za-z]):/, (_match, drive: string) => `file:///${drive.toLowerCase()}%3A`);
}
