/**
 * IPython syntax in notebook cells (`%magic`, `%%cell_magic`, `!shell`, `x = !ls`, `?help`, `obj?`) is not Python.
 * Such lines are masked into `0#...` (a no-op statement and a comment) of the same length so every offset after them stays valid,
 * and the rest of the cell is analysed as usual.
 */

/** Cell magics whose body is Python: the body is kept, only the magic line is masked. Every other cell magic skips the cell. */
const PYTHON_BODY_CELL_MAGICS = new Set(['time', 'timeit', 'capture', 'prun', 'debug', 'python', 'python3', 'ipython', 'memit', 'tensorflow_version']);

export interface MaskedText {
  /** The text with IPython-only lines turned into comments; same length as the input. */
  text: string;
  /** True when the cell's body is not Python (`%%bash`, `%%html`, ...) and must not be analysed. */
  skip: boolean;
}

const ASSIGNED_SHELL_OR_MAGIC = /^\s*[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[!%]/;

function isIPythonLine(line: string): boolean {
  const trimmed = line.trimStart();
  if (trimmed === '' || trimmed.startsWith('#')) return false;
  const first = trimmed[0];
  if (first === '%' || first === '!' || first === '?') return true;
  if (ASSIGNED_SHELL_OR_MAGIC.test(line) && !/^\s*[\w.]+\s*==/.test(line)) return true;
  // `obj?` / `obj??` help: a trailing question mark is never valid Python outside strings and comments.
  return /^[\w.\[\]()]+\?{1,2}\s*$/.test(trimmed);
}

/**
 * `0#...`: a no-op statement and a comment, same length as the line. A bare comment would leave a block whose only
 * statement was the magic (`for f in files:` / `    !cp $f out/`) empty, which does not parse.
 */
function maskLine(line: string): string {
  const indent = line.length - line.trimStart().length;
  const code = line.slice(indent).replace(/\r$/, '');
  const masked = code.length === 1 ? '0' : '0#' + code.slice(2);
  return line.slice(0, indent) + masked + line.slice(indent + code.length);
}

export function maskIPython(text: string): MaskedText {
  // Fast path: plain Python files rarely contain any of these characters at a line start.
  if (!/^[ \t]*[%!?]|[!%][^\n]*$|\?\s*$/m.test(text)) return { text, skip: false };
  const lines = text.split('\n');
  const firstCode = lines.findIndex((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  if (firstCode >= 0) {
    const cellMagic = /^\s*%%([A-Za-z_][\w]*)/.exec(lines[firstCode]);
    if (cellMagic && !PYTHON_BODY_CELL_MAGICS.has(cellMagic[1])) return { text, skip: true };
  }
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    if (isIPythonLine(lines[i])) {
      lines[i] = maskLine(lines[i]);
      changed = true;
    }
  }
  return { text: changed ? lines.join('\n') : text, skip: false };
}
