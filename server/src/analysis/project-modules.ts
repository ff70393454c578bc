import * as posix from 'node:path/posix';
import type { ParsedText } from '../parse/tree';
import type { ModuleResolver } from './modules';
import type { ProjectModule } from './values';

/**
 * What the evaluator needs to follow imports into the project's own files, and the table of the modules one analysis
 * loaded. The evaluator (`evaluate.ts`) runs their top levels; this file decides which module an import names, which
 * are the same module, and the bounds.
 */

/** The analysed program's place in the project and how to read other modules; absent: imports are not followed. */
export interface ProjectContext {
  /** The analysed file or notebook (absolute, forward slashes). */
  file: string;
  resolver: ModuleResolver;
  /**
   * The parsed text of a module file (cached across analyses by text), or undefined when it cannot be read. `fresh`:
   * a tree of its own, for a module whose text another loaded file has too (locations map a tree back to one file).
   */
  parseModule(file: string, fresh?: boolean): ParsedText | undefined;
}

/** Modules loaded (top level evaluated) per analysis; past it further imports are unknown and the result says so. */
export const MAX_MODULES_PER_ANALYSIS = 64;
/** Nesting of module top levels being evaluated (a imports b, whose top level reads c, ...). */
export const MAX_IMPORT_DEPTH = 8;

export class ProjectModules {
  /** By the module's file (or its folders, for a namespace package): one record, so one evaluation, per module. */
  private readonly byKey = new Map<string, ProjectModule>();
  /** The file each parsed unit comes from, for imports written in imported modules (relative to their own file). */
  readonly fileOfUnit = new Map<ParsedText, string>();
  /** `sys.path.append('..')` / `sys.path.insert(0, 'lib')` with a literal: more roots for absolute imports. */
  private readonly addedRoots: string[] = [];
  /** How many module top levels were evaluated. */
  evaluated = 0;
  /** Why some imports were not followed (a bound), once per reason. */
  readonly limits = new Set<string>();

  constructor(readonly context: ProjectContext) {}

  /** The file a statement was written in: the analysed program or one of the modules it loaded. */
  fileOf(unit: ParsedText): string {
    return this.fileOfUnit.get(unit) ?? this.context.file;
  }

  addSysPath(fromUnit: ParsedText, literal: string): void {
    this.addedRoots.push(posix.resolve(posix.dirname(this.fileOf(fromUnit)), literal));
  }

  /** The module `level` dots plus `name` names, imported from `fromUnit`; undefined when it is not the project's. */
  find(fromUnit: ParsedText, name: string, level: number): ProjectModule | undefined {
    const resolved = this.context.resolver.resolve(this.fileOf(fromUnit), name, level, this.addedRoots);
    return resolved && this.record(resolved);
  }

  submodule(parent: ProjectModule, name: string): ProjectModule | undefined {
    const resolved = this.context.resolver.submodule(parent.resolved, name);
    return resolved && this.record(resolved);
  }

  /** Every file loaded by this analysis: what the language server watches for this program. */
  files(): string[] {
    const files: string[] = [];
    for (const module of this.byKey.values()) if (module.resolved.file && module.state !== 'pending') files.push(module.resolved.file);
    return files;
  }

  private record(resolved: ProjectModule['resolved']): ProjectModule {
    const key = resolved.file ?? resolved.searchDirs.join('|');
    let module = this.byKey.get(key);
    if (!module) {
      module = { resolved, state: 'pending' };
      this.byKey.set(key, module);
    }
    return module;
  }
}
