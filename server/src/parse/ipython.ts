/**
 * IPython syntax in notebook cells (`%magic`, `%%cell_magic`, `!shell`, `x = !ls`, `?help`, `obj?`, pasted `>>>`
 * prompts) is not Python. Only notebook cells are masked: a `.py` file is Python, and a line of it that starts with `%`
 * or `!=` is a continuation line (`"... %d"` newline `% (a, b)`), never a magic.
 *
 * Masked text has the same length as the input so every offset stays valid: an IPython line becomes `0#...` (a no-op
 * statement and a comment), the continuation lines of a `!cmd \` become spaces, and doctest prompts become spaces
 * (tree-sitter accepts a module indented as a whole, and `>>> ` and `... ` have the same width).
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
/** `obj?`, `obj.method??`, `torch.*Loss?` (wildcard search): a trailing question mark is never Python. */
const HELP_SUFFIX = /^[\w.\[\]()*]+\?{1,2}\s*$/;
/** IPython's `classic_prompt` transform: the cell is a pasted interactive session when its first line has a `>>>` prompt or its second line any prompt. */
const PROMPT = /^(>>>|\.\.\.)( |$)/;
const FIRST_PROMPT = /^>>>( |$)/;

/** Only called on a line that starts a logical line (not inside brackets, a string, or after a backslash). */
function isIPythonLine(line: string): boolean {
  const trimmed = line.trimStart();
  if (trimmed === '' || trimmed.startsWith('#')) return false;
  const first = trimmed[0];
  if (first === '%' || first === '!' || first === '?') return true;
  if (ASSIGNED_SHELL_OR_MAGIC.test(line)) return true;
  return HELP_SUFFIX.test(trimmed);
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

/** Spaces of the same length (a `\r` kept): a blank line, valid at any indentation. */
function blankLine(line: string): string {
  const body = line.replace(/\r$/, '');
  return ' '.repeat(body.length) + line.slice(body.length);
}

function endsWithBackslash(line: string): boolean {
  return /\\\r?$/.test(line);
}

/**
 * Where a line leaves Python's tokenizer: open brackets, an open string (a triple-quoted one spans lines, a
 * single-quoted one only after a backslash), a backslash continuation. A line starts a logical line, and may be IPython
 * syntax, only when none is pending.
 */
class LogicalLines {
  private depth = 0;
  private openQuote: string | undefined;
  private continued = false;

  atLogicalStart(): boolean {
    return this.depth === 0 && this.openQuote === undefined && !this.continued;
  }

  /** A masked line's continuation lines are masked too; the tokenizer state after them is that of a fresh line. */
  reset(): void {
    this.depth = 0;
    this.openQuote = undefined;
    this.continued = false;
  }

  read(line: string): void {
    const body = line.replace(/\r$/, '');
    this.continued = false;
    let i = 0;
    while (i < body.length) {
      const c = body[i];
      if (this.openQuote !== undefined) {
        if (c === '\\') {
          if (i === body.length - 1) this.continued = true;
          i += 2;
          continue;
        }
        if (body.startsWith(this.openQuote, i)) {
          i += this.openQuote.length;
          this.openQuote = undefined;
          continue;
        }
        i++;
        continue;
      }
      if (c === '#') break;
      if (c === '"' || c === "'") {
        const triple = body.startsWith(c.repeat(3), i);
        this.openQuote = triple ? c.repeat(3) : c;
        i += triple ? 3 : 1;
        continue;
      }
      if (c === '(' || c === '[' || c === '{') this.depth++;
      else if ((c === ')' || c === ']' || c === '}') && this.depth > 0) this.depth--;
      else if (c === '\\' && i === body.length - 1) this.continued = true;
      i++;
    }
    // An unterminated single-quoted string ends with its line (a syntax error the parser reports), unless continued.
    if (this.openQuote !== undefined && this.openQuote.length === 1 && !this.continued) this.openQuote = undefined;
  }
}

/** Strips pasted `>>> ` / `... ` prompts as IPython does; the lines without a prompt are a session's output, not code. */
function stripPrompts(lines: string[]): boolean {
  const code = lines.filter((line) => line.trim() !== '');
  if (code.length === 0 || !(FIRST_PROMPT.test(code[0]) || (code.length > 1 && PROMPT.test(code[1])))) return false;
  for (let i = 0; i < lines.length; i++) {
    const prompt = PROMPT.exec(lines[i]);
    lines[i] = prompt ? ' '.repeat(prompt[0].length) + lines[i].slice(prompt[0].length) : blankLine(lines[i]);
  }
  return true;
}

/** Masks one notebook code cell. */
export function maskIPython(text: string): MaskedText {
  // Fast path: most cells hold none of these characters.
  if (!/[%!?]|^>>>/m.test(text)) return { text, skip: false };
  const lines = text.split('\n');
  const firstCode = lines.findIndex((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  if (firstCode >= 0) {
    const cellMagic = /^\s*%%([A-Za-z_][\w]*)/.exec(lines[firstCode]);
    if (cellMagic && !PYTHON_BODY_CELL_MAGICS.has(cellMagic[1])) return { text, skip: true };
  }
  let changed = stripPrompts(lines);
  const tokenizer = new LogicalLines();
  for (let i = 0; i < lines.length; i++) {
    if (!tokenizer.atLogicalStart() || !isIPythonLine(lines[i])) {
      tokenizer.read(lines[i]);
      continue;
    }
    // `!pip install a \` newline `  b`: IPython joins the lines before running the command.
    let last = i;
    while (endsWithBackslash(lines[last]) && last + 1 < lines.length) last++;
    lines[i] = maskLine(lines[i]);
    for (let k = i + 1; k <= last; k++) lines[k] = blankLine(lines[k]);
    i = last;
    tokenizer.reset();
    changed = true;
  }
  return { text: changed ? lines.join('\n') : text, skip: false };
}
