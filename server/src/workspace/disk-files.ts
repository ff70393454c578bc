import * as fs from 'node:fs';
import type { ProjectFiles } from '../analysis/modules';

/**
 * The project as the disk holds it, for the CLI's analyses (`ProjectFiles` of `analysis/modules.ts`). Whether a path
 * is a file or a folder is remembered for the process (a check creates and removes nothing); texts are read each time,
 * since `fix` may have rewritten a module since (the engine caches parses by text, so an unchanged module is not
 * parsed again).
 */
export class DiskProjectFiles implements ProjectFiles {
  private readonly kinds = new Map<string, 'file' | 'directory' | 'none'>();

  readText(path: string): string | undefined {
    try {
      const text = fs.readFileSync(path, 'utf8');
      return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    } catch {
      return undefined;
    }
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

  private kindOf(path: string): 'file' | 'directory' | 'none' {
    let kind = this.kinds.get(path);
    if (kind === undefined) {
      const stat = fs.statSync(path, { throwIfNoEntry: false });
      kind = stat?.isFile() ? 'file' : stat?.isDirectory() ? 'directory' : 'none';
      this.kinds.set(path, kind);
    }
    return kind;
  }
}
