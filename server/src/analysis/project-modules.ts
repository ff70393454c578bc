import * as posix from 'node:path/posix';
import { child, namedChildren, textOf, type ParsedText, type PyNode } from '../parse/tree';
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
/** `from m import *` chains read this deep for the names they bind (a package re-exporting its submodules' names). */
const MAX_STAR_DEPTH = 4;
/**
 * Modules read per analysis for the names `from m import *` binds. A package whose `__init__.py` star-imports every
 * submodule under `if TYPE_CHECKING:` (transformers: hundreds) would otherwise be parsed whole for every file that
 * imports anything from it; past the bound those names are unknown.
 */
const MAX_STAR_MODULES = 128;

export class ProjectModules {
  /** By the module's file (or its folders, for a namespace package): one record, so one evaluation, per module. */
  private readonly byKey = new Map<string, ProjectModule>();
  /** The file each parsed unit comes from, for imports written in imported modules (relative to their own file). */
  readonly fileOfUnit = new Map<ParsedText, string>();
  /** `sys.path.append('..')` / `sys.path.insert(0, 'lib')` with a literal: more roots for absolute imports. */
  private readonly addedRoots: string[] = [];
  /** How many module top levels were evaluated. */
  evaluated = 0;
  /** Each module's parsed text, once read (undefined: unreadable, or a syntax error). */
  private readonly units = new Map<ProjectModule, ParsedText | undefined>();
  /** Why some imports were not followed (a bound), once per reason. */
  readonly limits = new Set<string>();
  /** The names each module's `import *` binds, once read; and how many modules were read for them. */
  private readonly starNamesOf = new Map<ProjectModule, string[]>();
  private starModulesRead = 0;

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

  /**
   * The module's parsed text, registered as its file's; undefined when it cannot be read or does not parse (Python
   * could not import it). Two files with the same text get their own trees: a tree maps back to one file.
   */
  unitOf(module: ProjectModule): ParsedText | undefined {
    if (this.units.has(module)) return this.units.get(module);
    const file = module.resolved.file;
    let unit = file === undefined ? undefined : this.context.parseModule(file);
    if (unit && file !== undefined && this.fileOfUnit.has(unit) && this.fileOfUnit.get(unit) !== file) unit = this.context.parseModule(file, true);
    if (unit?.hasError) unit = undefined;
    if (unit && file !== undefined) this.fileOfUnit.set(unit, file);
    this.units.set(module, unit);
    return unit;
  }

  /**
   * The names `from module import *` binds, read from its text without running it (a package's `__init__.py` that
   * star-imports a hundred submodules must not evaluate them all): a literal `__all__`, else the public names its top
   * level defines, assigns or imports, star imports of project modules followed a few levels.
   */
  starNames(module: ProjectModule, depth = 0): string[] {
    const known = this.starNamesOf.get(module);
    if (known) return known;
    // Past the bound the names are unknown without a note: an unknown name never makes a finding, and in a large
    // package nearly every file would carry one (transformers' `utils` star-imports its helpers).
    if (this.starModulesRead >= MAX_STAR_MODULES) return [];
    this.starModulesRead++;
    const unit = this.unitOf(module);
    if (!unit) return [];
    const names = new Set<string>();
    let exported: string[] | undefined;
    const scan = (block: PyNode) => {
      for (const statement of namedChildren(block)) {
        const definition = statement.type === 'decorated_definition' ? child(statement, 'definition') : statement;
        if (!definition) continue;
        switch (definition.type) {
          case 'function_definition':
          case 'class_definition':
            names.add(textOf(child(definition, 'name')!));
            break;
          case 'expression_statement':
            for (const expression of namedChildren(definition)) {
              if (expression.type !== 'assignment') continue;
              const left = child(expression, 'left');
              const targets = left?.type === 'identifier' ? [left] : left ? namedChildren(left).filter((t) => t.type === 'identifier') : [];
              for (const target of targets) names.add(textOf(target));
              const right = child(expression, 'right');
              if (left && textOf(left) === '__all__' && (right?.type === 'list' || right?.type === 'tuple')) {
                exported = namedChildren(right).flatMap((item) => (item.type === 'string' ? [textOf(item).replace(/^[rbuRBU]*(['"]{1,3})([\s\S]*)\1$/, '$2')] : []));
              }
            }
            break;
          case 'import_statement':
            for (const name of namedChildren(definition)) names.add(name.type === 'aliased_import' ? textOf(child(name, 'alias')!) : textOf(name).split('.')[0]);
            break;
          case 'import_from_statement': {
            if (definition.children.some((c) => c.type === 'wildcard_import')) {
              const moduleNode = child(definition, 'module_name');
              const level = moduleNode?.type === 'relative_import' ? (/^\.+/.exec(textOf(moduleNode))?.[0].length ?? 0) : 0;
              const inner = moduleNode && depth < MAX_STAR_DEPTH ? this.find(unit, textOf(moduleNode).replace(/^\.+/, '').replace(/\s+/g, ''), level) : undefined;
              for (const name of inner ? this.starNames(inner, depth + 1) : []) names.add(name);
            }
            for (const name of definition.children.filter((c) => c.field === 'name')) {
              names.add(textOf(name.type === 'aliased_import' ? child(name, 'alias')! : name).split('.').pop()!);
            }
            break;
          }
          case 'if_statement':
          case 'try_statement':
          case 'with_statement':
            // Definitions under `if TYPE_CHECKING:`, `try: ... except ImportError:` count.
            for (const part of definition.children) {
              if (part.type === 'block') scan(part);
              else for (const inner of part.children) if (inner.type === 'block') scan(inner);
            }
            break;
        }
      }
    };
    scan(unit.root);
    const bound = exported ?? [...names].filter((name) => !name.startsWith('_'));
    this.starNamesOf.set(module, bound);
    return bound;
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
