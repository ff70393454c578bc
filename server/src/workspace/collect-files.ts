import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Turns the paths named on a command line into the files to check: a named file is taken as it is, a folder is
 * searched recursively for `.py` and `.ipynb` files, skipping version-control folders, dependency trees, caches,
 * virtual environments and notebook checkpoints. The order is deterministic: the arguments in the order given,
 * each folder's files sorted by their path under it (code-point order, so identical on every platform).
 */

export interface CollectedFile {
  /** The path to report: the argument as given, joined with the file's place under it (always `/` separated). */
  displayPath: string;
  /** The path to read. */
  fsPath: string;
}

export interface CollectionProblem {
  displayPath: string;
  message: string;
}

export interface Collection {
  files: CollectedFile[];
  problems: CollectionProblem[];
}

/** Folder names never searched (they hold other people's code, caches or copies). */
const SKIPPED_FOLDER_NAMES = new Set([
  '.git', '.hg', '.svn', '.bzr', 'node_modules', '.ipynb_checkpoints', '__pycache__', '__pypackages__',
  'site-packages', '.venv', 'venv', '.tox', '.nox', '.mypy_cache', '.pytest_cache', '.ruff_cache', '.pytype', '.eggs',
]);

/** Files whose presence marks a folder as a Python environment (`venv`/`virtualenv`, conda) whatever its name. */
const ENVIRONMENT_MARKERS = ['pyvenv.cfg', 'conda-meta'];

function isAnalysableFileName(name: string): boolean {
  return name.endsWith('.py') || name.endsWith('.ipynb');
}

export function collectFiles(args: readonly string[]): Collection {
  const files: CollectedFile[] = [];
  const problems: CollectionProblem[] = [];
  const seen = new Set<string>();
  const add = (file: CollectedFile) => {
    const identity = realPathOrResolved(file.fsPath);
    if (seen.has(identity)) return;
    seen.add(identity);
    files.push(file);
  };
  for (const arg of args) {
    let stats: fs.Stats;
    try {
      stats = fs.statSync(arg);
    } catch (error) {
      problems.push({ displayPath: arg, message: describeFsError(error) });
      continue;
    }
    if (stats.isFile()) {
      add({ displayPath: arg, fsPath: arg });
      continue;
    }
    if (!stats.isDirectory()) {
      // A pipe or device would block the read or never end.
      problems.push({ displayPath: arg, message: 'not a regular file or folder' });
      continue;
    }
    const relativePaths: string[] = [];
    walk(arg, '', relativePaths, problems, arg);
    relativePaths.sort(compareCodePoints);
    const prefix = arg.endsWith('/') || arg.endsWith(path.sep) ? arg : `${arg}/`;
    for (const relative of relativePaths) add({ displayPath: prefix + relative, fsPath: path.join(arg, relative) });
  }
  return { files, problems };
}

function walk(root: string, relativeDir: string, found: string[], problems: CollectionProblem[], displayRoot: string): void {
  const dir = path.join(root, relativeDir);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    problems.push({ displayPath: relativeDir ? `${displayRoot.replace(/\/$/, '')}/${relativeDir}` : displayRoot, message: describeFsError(error) });
    return;
  }
  for (const entry of entries) {
    const relative = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
    // Symbolic links to folders are not followed: they can form cycles and usually point outside the project.
    if (entry.isDirectory()) {
      if (!SKIPPED_FOLDER_NAMES.has(entry.name) && !isPythonEnvironment(path.join(root, relative))) {
        walk(root, relative, found, problems, displayRoot);
      }
    } else if ((entry.isFile() || isLinkToFile(path.join(root, relative), entry)) && isAnalysableFileName(entry.name)) {
      found.push(relative);
    }
  }
}

function isLinkToFile(fullPath: string, entry: fs.Dirent): boolean {
  if (!entry.isSymbolicLink()) return false;
  try {
    return fs.statSync(fullPath).isFile();
  } catch {
    return false;
  }
}

function isPythonEnvironment(dir: string): boolean {
  return ENVIRONMENT_MARKERS.some((marker) => fs.existsSync(path.join(dir, marker)));
}

function realPathOrResolved(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A file-system error in words, without Node's syscall noise. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'not a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
