import * as posix from 'node:path/posix';
import { child, textOf, type PyNode } from '../parse/tree';
import type { ModuleResolver, ProjectFiles } from './modules';
import type { NodeEdit } from './values';

/**
 * Fix safety across files. A fix that drops the softmax inside `Classifier.forward` in `model.py` changes what every
 * user of that method gets, not only the loss in the analysed program. It is offered only when nothing else can be
 * reading that value: within the module, no other code calls the function (for `forward`/`__call__`/`call`, no
 * other `self(...)` or `.forward(...)`), and no file of the project other than the analysed program imports the
 * module (or a package above it, which may re-export it). Files are matched by their import lines, conservatively:
 * a name that merely appears in an import line counts as an importer, which only withholds a fix.
 */

/** Past this many Python files under the project root, other importers are not searched for and the fix is withheld. */
const MAX_PROJECT_FILES_SEARCHED = 2000;
const SKIPPED_FOLDERS = new Set(['.git', 'node_modules', '.ipynb_checkpoints', '__pycache__', 'site-packages', '.venv', 'venv', '.tox', '.nox', '.mypy_cache', '.pytest_cache', '.eggs']);
const CALL_METHODS = new Set(['forward', '__call__', 'call']);

/**
 * Which files of a project import what: the words of every file's import lines, kept across analyses (a check of a
 * whole project asks it once per cross-file fix; a project of thousands of files must not be re-read each time).
 * The language server forgets a file when it changes (`forget`) and everything when files appear or go (`clear`).
 */
export class ImportIndex {
  /** By project root: each file's import-line words (undefined: not read yet); undefined past the search bound. */
  private readonly byRoot = new Map<string, Map<string, ReadonlySet<string> | undefined> | undefined>();

  forget(path: string): void {
    for (const files of this.byRoot.values()) if (files?.has(path)) files.set(path, undefined);
  }

  clear(): void {
    this.byRoot.clear();
  }

  /** The files under `root` whose import lines mention one of `names` (undefined when the project is too large to search). */
  importersOf(root: string, names: readonly string[], files: ProjectFiles): string[] | undefined {
    if (!this.byRoot.has(root)) this.byRoot.set(root, listProject(root, files));
    const index = this.byRoot.get(root);
    if (!index) return undefined;
    const importers: string[] = [];
    for (const [file, cached] of index) {
      let words = cached;
      if (!words) {
        words = importWords(files.readText(file) ?? '');
        index.set(file, words);
      }
      if (names.some((name) => words.has(name))) importers.push(file);
    }
    return importers;
  }
}

export class CrossFileFixCheck {
  constructor(
    private readonly resolver: ModuleResolver,
    private readonly index: ImportIndex,
    /** The analysed program's file. */
    private readonly programFile: string,
  ) {}

  /** True when every edit of the fix that lands in `file` (another file of the project) is safe to apply. */
  allows(file: string, edits: readonly NodeEdit[]): boolean {
    for (const edit of edits) if (hasOtherCallers(edit.node)) return false;
    return !this.hasOtherImporters(file);
  }

  private hasOtherImporters(file: string): boolean {
    const { names, packageInits } = moduleNames(file, this.resolver);
    const root = this.resolver.projectRootOf(posix.dirname(this.programFile)) ?? posix.dirname(this.programFile);
    const importers = this.index.importersOf(root, names, this.resolver.files);
    if (!importers) return true;
    // The packages' own `__init__.py` re-export the module; their importers are found by the package names.
    const skipped = new Set([file, this.programFile, ...packageInits]);
    return importers.some((other) => !skipped.has(other));
  }
}

/** Every `.py` and `.ipynb` file under a project root, words not read yet (undefined past the search bound). */
function listProject(root: string, files: ProjectFiles): Map<string, ReadonlySet<string> | undefined> | undefined {
  const found = new Map<string, ReadonlySet<string> | undefined>();
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    for (const name of files.listDirectory(dir)) {
      const path = posix.join(dir, name);
      if (name.endsWith('.py') || name.endsWith('.ipynb')) {
        found.set(path, undefined);
        if (found.size > MAX_PROJECT_FILES_SEARCHED) return undefined;
      } else if (!SKIPPED_FOLDERS.has(name) && files.isDirectory(path)) pending.push(path);
    }
  }
  return found;
}

/**
 * The identifiers on a file's import lines. Notebooks are searched in their JSON text (a line there starts with a
 * quote), so a line counts wherever `from`/`import` follows a line start, a quote or a space: more importers than
 * real ones at worst, which only withholds a fix.
 */
function importWords(text: string): ReadonlySet<string> {
  const words = new Set<string>();
  for (const line of text.matchAll(/(?:^|["'\s])(?:from|import)\s[^\n]*/gm)) for (const word of line[0].matchAll(/[A-Za-z_]\w*/g)) words.add(word[0]);
  return words;
}

/**
 * `pkg/sub/model.py` → names `model`, `sub`, `pkg` (every package above it may re-export it) and those packages'
 * `__init__.py` files; `pkg/__init__.py` → `pkg`.
 */
function moduleNames(file: string, resolver: ModuleResolver): { names: string[]; packageInits: string[] } {
  const names: string[] = [];
  const packageInits: string[] = [];
  const base = posix.basename(file, '.py');
  let dir = posix.dirname(file);
  if (base !== '__init__') names.push(base);
  for (let init = posix.join(dir, '__init__.py'); resolver.files.isFile(init); init = posix.join(dir, '__init__.py')) {
    names.push(posix.basename(dir));
    packageInits.push(init);
    const parent = posix.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return { names, packageInits };
}


/** The function an edit lands in is called from elsewhere in its own module (another method's `self(x)`, a helper). */
function hasOtherCallers(node: PyNode): boolean {
  let fn: PyNode | null = node;
  while (fn && fn.type !== 'function_definition') fn = fn.parent;
  if (!fn) return true; // module-level code: its value is read by whoever imports the name
  const name = textOf(child(fn, 'name')!);
  const isCallMethod = CALL_METHODS.has(name);
  const pending: PyNode[] = [node.unit.root];
  while (pending.length > 0) {
    const current = pending.pop()!;
    if (current === fn) continue;
    if (current.type === 'call') {
      const callee = child(current, 'function');
      if (callee?.type === 'identifier' && (textOf(callee) === name || (isCallMethod && textOf(callee) === 'self'))) return true;
      if (callee?.type === 'attribute' && textOf(child(callee, 'attribute')!) === name) return true;
    }
    pending.push(...current.children);
  }
  return false;
}
