import * as posix from 'node:path/posix';

/**
 * Module resolution with Python's rules, restricted to the project's own files: which file `import a.b`,
 * `from ..pkg import X` or `from model import Net` loads, when that file belongs to the project. Anything else
 * (installed packages, the standard library) is not resolved here and keeps the evaluator's library treatment.
 *
 * Pure and synchronous over `ProjectFiles`, so that the CLI reads the disk and the language server overlays its open
 * documents. Paths are absolute with forward slashes (`C:/work/model.py` on Windows); callers convert at their edge.
 */

/** The file system as the resolver sees it. Implementations cache as they see fit; the resolver caches nothing it reads. */
export interface ProjectFiles {
  /** The text of a file, or undefined when it does not exist or cannot be read. */
  readText(path: string): string | undefined;
  isFile(path: string): boolean;
  isDirectory(path: string): boolean;
  /** Names of a folder's entries (empty when it cannot be read): to find the other importers of a module a fix would edit. */
  listDirectory(path: string): string[];
}

/** A module that resolved to the project: a `.py` file, a package's `__init__.py`, or a namespace package (folders only). */
export interface ResolvedModule {
  /** Dotted name as imported (`pkg.sub`), or the relative spelling (`..pkg.sub`). */
  name: string;
  /** The file whose top level is the module; undefined for a namespace package. */
  file?: string;
  /** Folders searched for submodules: the package's folder(s); empty for a plain module. */
  searchDirs: string[];
}

/** Top-level names the evaluator models as libraries: a same-named local file is not followed (it would break the models). */
const MODELLED_LIBRARIES = new Set(['torch', 'torchvision', 'tensorflow', 'keras', 'tf_keras', 'jax', 'jaxlib', 'flax', 'optax', 'numpy', 'scipy', 'sklearn', 'pytorch_lightning', 'lightning', 'sys', 'os', 'math']);

const PROJECT_MARKERS = ['pyproject.toml', 'setup.py', 'setup.cfg', '.git'];

/** `/a/b/c.py` → `/a/b`; forward slashes in and out. */
export function normalizeFilePath(path: string): string {
  return posix.normalize(path.replace(/\\/g, '/'));
}

/**
 * Resolution with its answers remembered (a project's files import the same modules from the same folders over and
 * over): `clear` when files appear or disappear (the language server does on `workspace/didChangeWatchedFiles`).
 */
export class ModuleResolver {
  private readonly projectRoots = new Map<string, string | undefined>();
  private readonly roots = new Map<string, string[]>();
  private readonly found = new Map<string, Omit<ResolvedModule, 'name'> | undefined>();

  constructor(readonly files: ProjectFiles) {}

  clear(): void {
    this.projectRoots.clear();
    this.roots.clear();
    this.found.clear();
  }

  /** The nearest folder upward from `dir` (itself included) holding `pyproject.toml`, `setup.py`, `setup.cfg` or `.git`. */
  projectRootOf(dir: string): string | undefined {
    if (this.projectRoots.has(dir)) return this.projectRoots.get(dir);
    let root: string | undefined;
    if (PROJECT_MARKERS.some((marker) => this.files.isFile(posix.join(dir, marker)) || this.files.isDirectory(posix.join(dir, marker)))) root = dir;
    else {
      const parent = posix.dirname(dir);
      root = parent === dir ? undefined : this.projectRootOf(parent);
    }
    this.projectRoots.set(dir, root);
    return root;
  }

  /**
   * Where absolute imports of `importingFile` are searched, in Python's order: the file's own folder (a script run as
   * `python train.py`, a notebook's working directory), folders the program added with `sys.path.append/insert`, then
   * the project root, its `src/` and the `[tool.setuptools.packages.find] where` folders.
   */
  rootsFor(importingFile: string, addedRoots: readonly string[] = []): string[] {
    const own = posix.dirname(importingFile);
    const key = addedRoots.length === 0 ? own : `${own}\0${addedRoots.join('\0')}`;
    let found = this.roots.get(key);
    if (found) return found;
    const roots = [own, ...addedRoots.map((added) => posix.resolve(own, added))];
    const project = this.projectRootOf(own);
    if (project) {
      roots.push(project);
      for (const where of this.setuptoolsWhere(project)) roots.push(posix.resolve(project, where));
      roots.push(posix.join(project, 'src'));
    }
    found = [...new Set(roots)].filter((root) => this.files.isDirectory(root));
    this.roots.set(key, found);
    return found;
  }

  /**
   * Resolves `level` dots plus `name` (`from ..pkg.mod import X`: level 2, name `pkg.mod`; `import a.b`: level 0) as
   * imported from `importingFile`. Undefined when the module is not one of the project's (or does not exist).
   */
  resolve(importingFile: string, name: string, level: number, addedRoots: readonly string[] = []): ResolvedModule | undefined {
    const parts = name === '' ? [] : name.split('.');
    if (level > 0) {
      let base = posix.dirname(importingFile);
      for (let i = 1; i < level; i++) base = posix.dirname(base);
      const spelled = '.'.repeat(level) + name;
      if (parts.length === 0) {
        const init = posix.join(base, '__init__.py');
        return { name: spelled, file: this.files.isFile(init) ? init : undefined, searchDirs: [base] };
      }
      const found = this.resolveIn([base], parts);
      return found && { ...found, name: spelled };
    }
    if (parts.length === 0 || MODELLED_LIBRARIES.has(parts[0])) return undefined;
    const found = this.resolveIn(this.rootsFor(importingFile, addedRoots), parts);
    return found && { ...found, name };
  }

  /** A submodule of an already resolved package (`pkg` then `.sub`), as attribute access or `from pkg import sub` reach it. */
  submodule(parent: ResolvedModule, name: string): ResolvedModule | undefined {
    if (parent.searchDirs.length === 0) return undefined;
    const found = this.findOne(parent.searchDirs, name);
    return found && { ...found, name: `${parent.name}.${name}` };
  }

  private resolveIn(searchDirs: readonly string[], parts: readonly string[]): ResolvedModule | undefined {
    let current: Omit<ResolvedModule, 'name'> | undefined;
    let dirs = searchDirs;
    for (const part of parts) {
      current = this.findOne(dirs, part);
      if (!current) return undefined;
      dirs = current.searchDirs;
    }
    return current && { name: parts.join('.'), ...current };
  }

  /**
   * One name in a list of folders: a regular package (`name/__init__.py`) or a module (`name.py`) in the first folder
   * that has one; otherwise a namespace package made of every `name/` folder found (PEP 420).
   */
  private findOne(dirs: readonly string[], name: string): Omit<ResolvedModule, 'name'> | undefined {
    const key = `${dirs.join('\0')}\0\0${name}`;
    if (this.found.has(key)) return this.found.get(key);
    const result = this.findOneUncached(dirs, name);
    this.found.set(key, result);
    return result;
  }

  private findOneUncached(dirs: readonly string[], name: string): Omit<ResolvedModule, 'name'> | undefined {
    const namespaceDirs: string[] = [];
    for (const dir of dirs) {
      const packageDir = posix.join(dir, name);
      const init = posix.join(packageDir, '__init__.py');
      if (this.files.isFile(init)) return { file: init, searchDirs: [packageDir] };
      const file = `${packageDir}.py`;
      if (this.files.isFile(file)) return { file, searchDirs: [] };
      if (this.files.isDirectory(packageDir)) namespaceDirs.push(packageDir);
    }
    return namespaceDirs.length > 0 ? { searchDirs: namespaceDirs } : undefined;
  }

  /** `where = ["src", "lib"]` under `[tool.setuptools.packages.find]` in pyproject.toml (read with a pattern: nothing else is needed from TOML). */
  private setuptoolsWhere(project: string): string[] {
    const text = this.files.readText(posix.join(project, 'pyproject.toml'));
    if (!text) return [];
    const section = /^\[tool\.setuptools\.packages\.find\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(text);
    const where = section && /^\s*where\s*=\s*\[([^\]]*)\]/m.exec(section[1]);
    if (!where) return [];
    return [...where[1].matchAll(/["']([^"']+)["']/g)].map((match) => match[1]);
  }
}
