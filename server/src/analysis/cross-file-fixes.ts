import * as posix from 'node:path/posix';
import { child, textOf, type PyNode } from '../parse/tree';
import type { ModuleResolver } from './modules';
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

export class CrossFileFixCheck {
  private projectFiles: string[] | undefined | null = null;

  constructor(
    private readonly resolver: ModuleResolver,
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
    const pattern = new RegExp(`^\\s*(from|import)\\s[^\\n]*\\b(${names.map(escape).join('|')})\\b`, 'm');
    const files = this.listProject();
    if (!files) return true;
    // The packages' own `__init__.py` re-export the module; their importers are found by the package names.
    const skipped = new Set([file, this.programFile, ...packageInits]);
    return files.some((other) => !skipped.has(other) && pattern.test(this.resolver.files.readText(other) ?? ''));
  }

  /** Every `.py` and `.ipynb` file of the analysed program's project (undefined past the search bound). */
  private listProject(): string[] | undefined {
    if (this.projectFiles !== null) return this.projectFiles;
    const root = this.resolver.projectRootOf(posix.dirname(this.programFile)) ?? posix.dirname(this.programFile);
    const found: string[] = [];
    const pending = [root];
    while (pending.length > 0 && found.length <= MAX_PROJECT_FILES_SEARCHED) {
      const dir = pending.pop()!;
      for (const name of this.resolver.files.listDirectory(dir)) {
        const path = posix.join(dir, name);
        if (name.endsWith('.py') || name.endsWith('.ipynb')) found.push(path);
        else if (!SKIPPED_FOLDERS.has(name) && this.resolver.files.isDirectory(path)) pending.push(path);
      }
    }
    this.projectFiles = found.length > MAX_PROJECT_FILES_SEARCHED ? undefined : found;
    return this.projectFiles;
  }
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

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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
