import * as fs from 'node:fs';
import type { ProjectFiles } from '../analysis/modules';

/**
 * The project as the disk holds it, for the CLI's analyses (`ProjectFiles` of `analysis/modules.ts`). What was read
 * is remembered for the process: a check creates and removes nothing, and a module that `fix` rewrites is announced
 * with `forget` (in a project every module is imported by several files: reading it again for each cost more than
 * analysing them).
 */
export class DiskProjectFiles implements ProjectFiles {
  protected readonly kinds = new Map<string, 'file' | 'directory' | 'none'>();
  protected readonly texts = new Map<string, string | undefined>();

  readText(path: string): string | undefined {
    if (!this.texts.has(path)) {
      let text: string | undefined;
      try {
        text = fs.readFileSync(path, 'utf8');
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      } catch {
        text = undefined;
      }
      this.texts.set(path, text);
    }
    return this.texts.get(path);
  }

  /** The file was rewritten (by `fix`): read it again on next use. */
  forget(path: string): void {
    this.texts.delete(path);
  }

  isFile(path: string): boolean {
    return this.kindOf(path) === 'file';
  }

  isDirectory(path: string): boolean {
    return this.kindOf(path) === 'directory';
  }

  listDirectory(path: string): string[] {
    try {
      return fs.readdirSync(path);
    } catch {
      return [];
    }
  }

  protected kindOf(path: string): 'file' | 'directory' | 'none' {
    let kind = this.kinds.get(path);
    if (kind === undefined) {
      const stat = fs.statSync(path, { throwIfNoEntry: false });
      kind = stat?.isFile() ? 'file' : stat?.isDirectory() ? 'directory' : 'none';
      this.kinds.set(path, kind);
    }
    return kind;
  }
}
