/**
 * The text tree-sitter parses: the unit's text (after IPython masking) with two length-preserving rewrites, so that
 * every offset in the tree is an offset in the text the user wrote. One linear scan that knows where strings,
 * comments, backslash continuations and brackets are:
 *
 * 1. Whole-line comments become spaces. tree-sitter-python's scanner takes time that grows with the square of a run
 *    of comment lines (a 1,000-line run costs about half a second), while blank lines cost nothing; the analysis never
 *    reads comment nodes (suppressions are matched in the raw text). A line inside a string (a docstring line
 *    `# of the call."""`) or after a backslash continuation is not a comment line and is never touched.
 * 2. A starred operand that starts with a bracket, in an unbracketed tuple or a subscript (`return dx, *([None] * n)`,
 *    `host, *rest = "h", *[]`, `f[*(slice(None) for _ in axes)]`), becomes a call: `*(` → `_(`, `*[...]` → `_(...)`.
 *    tree-sitter-python 0.25 accepts there only `*name`, `*a.b` or `*a[i]`, and reports a syntax error on valid
 *    code. The evaluator reads names from the user's text, where the callee is `*`, a name nothing can bind: the
 *    element is an unknown value, as an unpacked sequence of unknown length is, and the operand is still evaluated.
 *
 * The scan treats an f-string like any string: before Python 3.12 a replacement field cannot hold the f-string's own
 * quote. A 3.12 f-string that does may be mis-scanned; the scan then only fails to blank or rewrite (a line is only
 * blanked when it is known to start outside any string), which costs time, never a correct parse.
 */

const SPACE = 0x20;
const TAB = 0x09;
const FORM_FEED = 0x0c;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const HASH = 0x23;
const BACKSLASH = 0x5c;
const SINGLE_QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const STAR = 0x2a;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const OPEN_SQUARE = 0x5b;
const CLOSE_SQUARE = 0x5d;
const OPEN_CURLY = 0x7b;
const CLOSE_CURLY = 0x7d;

/** What an open bracket is: a starred bracket operand is rewritten only where tree-sitter-python rejects it. */
const enum Bracket {
  /** `(`, `{`, a list display `[`: a starred element there parses. */
  Enclosing,
  /** The `[` of a subscript. */
  Subscript,
  /** The `[` of a rewritten `*[...]` operand: its `]` becomes `)`. */
  RewrittenOperand,
}

/** Character classes for the scan: everything not listed is an ordinary character of code. */
const enum CharClass {
  Code,
  Space,
  Newline,
  Hash,
  Backslash,
  Quote,
  Open,
  Close,
  Star,
}

const CLASS_OF = new Uint8Array(128);
CLASS_OF[SPACE] = CLASS_OF[TAB] = CLASS_OF[FORM_FEED] = CharClass.Space;
CLASS_OF[LINE_FEED] = CLASS_OF[CARRIAGE_RETURN] = CharClass.Newline;
CLASS_OF[HASH] = CharClass.Hash;
CLASS_OF[BACKSLASH] = CharClass.Backslash;
CLASS_OF[SINGLE_QUOTE] = CLASS_OF[DOUBLE_QUOTE] = CharClass.Quote;
CLASS_OF[OPEN_PAREN] = CLASS_OF[OPEN_SQUARE] = CLASS_OF[OPEN_CURLY] = CharClass.Open;
CLASS_OF[CLOSE_PAREN] = CLASS_OF[CLOSE_SQUARE] = CLASS_OF[CLOSE_CURLY] = CharClass.Close;
CLASS_OF[STAR] = CharClass.Star;

/** Keywords after which `[` opens a list display, not a subscript. */
const KEYWORDS_BEFORE_EXPRESSION = new Set([
  'and', 'as', 'assert', 'await', 'case', 'del', 'elif', 'else', 'except', 'for', 'from', 'if', 'import', 'in', 'is',
  'lambda', 'not', 'or', 'raise', 'return', 'while', 'with', 'yield',
]);
/** Keywords after which a `*` starts a starred expression list (`return a, *b` starts with `*b` after `return`). */
const KEYWORDS_BEFORE_STARRED = new Set(['return', 'yield', 'in']);

function isWordChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95 || code > 127;
}

/** The identifier or keyword that ends at `end` (inclusive). */
function wordEndingAt(text: string, end: number): string {
  let start = end;
  while (start > 0 && isWordChar(text.charCodeAt(start - 1))) start--;
  return text.slice(start, end + 1);
}

/** End (exclusive) of the string literal whose opening quote is at `start`; an unterminated one ends at its line's end, or the text's end when triple-quoted. */
function stringEnd(text: string, start: number): number {
  const quote = text.charCodeAt(start);
  if (text.charCodeAt(start + 1) === quote && text.charCodeAt(start + 2) === quote) return tripleQuotedEnd(text, start);
  const length = text.length;
  let index = start + 1;
  while (index < length) {
    const code = text.charCodeAt(index);
    if (code === BACKSLASH) {
      // An escaped character, or a line joined inside the string (also in raw strings: `r'\''` is one string).
      index += text.charCodeAt(index + 1) === CARRIAGE_RETURN && text.charCodeAt(index + 2) === LINE_FEED ? 3 : 2;
    } else if (code === quote) return index + 1;
    else if (code === LINE_FEED || code === CARRIAGE_RETURN) return index;
    else index++;
  }
  return length;
}

/** Docstrings are most of the text inside strings: their closing quotes are searched for, not walked to. */
function tripleQuotedEnd(text: string, start: number): number {
  const closing = text.slice(start, start + 3);
  let from = start + 3;
  for (;;) {
    const found = text.indexOf(closing, from);
    if (found < 0) return text.length;
    // An odd number of backslashes before the quotes escapes the first one.
    let backslashes = 0;
    while (found - backslashes - 1 >= from && text.charCodeAt(found - backslashes - 1) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return found + 3;
    from = found + 1;
  }
}

/** Offset of the line break ending the line that holds `start` (or the text's end). */
function lineEnd(text: string, start: number, hasCarriageReturns: boolean): number {
  if (!hasCarriageReturns) {
    const end = text.indexOf('\n', start);
    return end < 0 ? text.length : end;
  }
  let index = start;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === LINE_FEED || code === CARRIAGE_RETURN) break;
    index++;
  }
  return index;
}

export function prepareForParsing(text: string): string {
  const length = text.length;
  const hasCarriageReturns = text.includes('\r');
  const parts: string[] = [];
  /** Everything before this offset is in `parts` already. */
  let copied = 0;
  const replace = (start: number, end: number, replacement: string): void => {
    parts.push(text.slice(copied, start), replacement);
    copied = end;
  };
  const brackets: Bracket[] = [];
  /** Offset of the last character of the last token of code in this statement; -1 at a statement's start. */
  let lastToken = -1;
  let atLineStart = true;
  let index = 0;
  while (index < length) {
    if (atLineStart) {
      atLineStart = false;
      let first = index;
      while (first < length && CLASS_OF[text.charCodeAt(first)] === CharClass.Space) first++;
      if (text.charCodeAt(first) === HASH) {
        const end = lineEnd(text, first, hasCarriageReturns);
        replace(index, end, ' '.repeat(end - index));
        index = end;
        continue;
      }
      index = first;
      if (index >= length) break;
    }
    const code = text.charCodeAt(index);
    switch (code < 128 ? CLASS_OF[code] : CharClass.Code) {
      case CharClass.Code: {
        // A run of names, numbers, operators and spaces: the bulk of code, walked in a tight loop.
        lastToken = index;
        let next = index + 1;
        for (; next < length; next++) {
          const nextCode = text.charCodeAt(next);
          const nextClass = nextCode < 128 ? CLASS_OF[nextCode] : CharClass.Code;
          if (nextClass === CharClass.Code) lastToken = next;
          else if (nextClass !== CharClass.Space) break;
        }
        index = next;
        break;
      }
      case CharClass.Space:
        index++;
        break;
      case CharClass.Newline:
        index += code === CARRIAGE_RETURN && text.charCodeAt(index + 1) === LINE_FEED ? 2 : 1;
        atLineStart = true;
        if (brackets.length === 0) lastToken = -1;
        break;
      case CharClass.Hash:
        index = lineEnd(text, index, hasCarriageReturns);
        break;
      case CharClass.Backslash: {
        // A continuation: the next line continues this one, so it is not a line start.
        const next = text.charCodeAt(index + 1);
        index += next === CARRIAGE_RETURN && text.charCodeAt(index + 2) === LINE_FEED ? 3 : next === LINE_FEED || next === CARRIAGE_RETURN ? 2 : 1;
        break;
      }
      case CharClass.Quote:
        index = stringEnd(text, index);
        lastToken = index - 1;
        break;
      case CharClass.Open:
        if (code !== OPEN_SQUARE) brackets.push(Bracket.Enclosing);
        else brackets.push(followsOperand(text, lastToken) ? Bracket.Subscript : Bracket.Enclosing);
        lastToken = index++;
        break;
      case CharClass.Close:
        if (brackets.pop() === Bracket.RewrittenOperand && code === CLOSE_SQUARE) replace(index, index + 1, ')');
        lastToken = index++;
        break;
      case CharClass.Star: {
        if (text.charCodeAt(index + 1) === STAR) {
          lastToken = index + 1;
          index += 2;
          break;
        }
        const operand = bracketOperandOfStar(text, index, lastToken, brackets);
        if (operand < 0) {
          lastToken = index++;
          break;
        }
        replace(index, index + 1, '_');
        if (text.charCodeAt(operand) === OPEN_SQUARE) {
          replace(operand, operand + 1, '(');
          brackets.push(Bracket.RewrittenOperand);
        } else brackets.push(Bracket.Enclosing);
        lastToken = operand;
        index = operand + 1;
        break;
      }
    }
  }
  if (parts.length === 0) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}

/** Whether the token ending at `lastToken` ends an operand, so that a `[` after it opens a subscript. */
function followsOperand(text: string, lastToken: number): boolean {
  if (lastToken < 0) return false;
  const code = text.charCodeAt(lastToken);
  if (code === CLOSE_PAREN || code === CLOSE_SQUARE || code === CLOSE_CURLY || code === SINGLE_QUOTE || code === DOUBLE_QUOTE) return true;
  return isWordChar(code) && !KEYWORDS_BEFORE_EXPRESSION.has(wordEndingAt(text, lastToken));
}

/**
 * For a `*` at `star` that tree-sitter-python would reject, the offset of its operand's opening bracket; -1 otherwise.
 * The `*` must start a starred element (after `,`, `[`, `=`, `return`, `yield` or `in`: a multiplication follows an
 * operand) in an unbracketed tuple or a subscript (in a call's arguments or a display it parses), and its operand
 * must start with `(` or `[`.
 */
function bracketOperandOfStar(text: string, star: number, lastToken: number, brackets: Bracket[]): number {
  const innermost = brackets.length === 0 ? undefined : brackets[brackets.length - 1];
  if (innermost !== undefined && innermost !== Bracket.Subscript) return -1;
  if (lastToken < 0) return -1;
  let operand = star + 1;
  while (text.charCodeAt(operand) === SPACE || text.charCodeAt(operand) === TAB) operand++;
  const opening = text.charCodeAt(operand);
  if (opening !== OPEN_PAREN && opening !== OPEN_SQUARE) return -1;
  const before = text.charCodeAt(lastToken);
  if (before === COMMA || before === OPEN_SQUARE || before === EQUALS) return operand;
  // `return*(a)` would become the name `return_`: a keyword must be followed by a space.
  if (isWordChar(before) && lastToken < star - 1 && KEYWORDS_BEFORE_STARRED.has(wordEndingAt(text, lastToken))) return operand;
  return -1;
}
