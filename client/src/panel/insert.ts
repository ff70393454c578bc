/**
 * "Insert into code": sets one keyword argument of a loss constructor or call in its source text
 * (`nn.CrossEntropyLoss()` → `nn.CrossEntropyLoss(weight=torch.tensor([...]))`), replacing the
 * argument when it is already there. Pure text, so the host applies it as one workspace edit.
 */

/** The call's argument list: offsets of its parentheses, of each top-level argument, and just after its last code character. */
interface ArgumentList {
  open: number;
  close: number;
  args: { start: number; end: number }[];
  /** Just after the last character inside the parentheses that is not blank or a comment. */
  codeEnd: number;
}

/** Finds the argument list of the call that starts the text (the first top-level `(...)`), skipping strings, comments and nesting. */
function argumentList(text: string): ArgumentList | undefined {
  const open = text.indexOf('(');
  if (open < 0) return undefined;
  const args: { start: number; end: number }[] = [];
  let depth = 0;
  let argStart = open + 1;
  let argHasCode = false;
  let codeEnd = open + 1;
  for (let i = open; i < text.length; i++) {
    const char = text[i];
    if (char === '"' || char === "'") {
      // Skip a string literal (triple-quoted included) so brackets and commas inside do not count.
      const quote = text.startsWith(char.repeat(3), i) ? char.repeat(3) : char;
      let j = i + quote.length;
      while (j < text.length && !text.startsWith(quote, j)) j += text[j] === '\\' ? 2 : 1;
      i = j + quote.length - 1;
      codeEnd = i + 1;
      argHasCode = true;
      continue;
    }
    if (char === '#') {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
      continue;
    }
    if (/\s/.test(char)) continue;
    if (char === '(' || char === '[' || char === '{') depth++;
    else if (char === ')' || char === ']' || char === '}') {
      depth--;
      if (depth === 0) {
        if (argHasCode) args.push({ start: argStart, end: i });
        return { open, close: i, args, codeEnd };
      }
    } else if (char === ',' && depth === 1) {
      args.push({ start: argStart, end: i });
      argStart = i + 1;
      argHasCode = false;
      codeEnd = i + 1;
      continue;
    }
    if (i > open) {
      codeEnd = i + 1;
      argHasCode = true;
    }
  }
  return undefined;
}

/** The text with `keyword=value` set in the call's arguments; undefined when the text holds no complete call. */
export function withKeywordArgument(callText: string, keyword: string, value: string): string | undefined {
  const list = argumentList(callText);
  if (!list) return undefined;
  const pattern = new RegExp(`^\\s*${keyword}\\s*=`);
  for (const arg of list.args) {
    const argText = callText.slice(arg.start, arg.end);
    if (pattern.test(argText)) {
      // Replace the value: from after `keyword=` up to the argument's last code character.
      const valueStart = arg.start + (/^\s*\w+\s*=\s*/.exec(argText)?.[0].length ?? 0);
      const valueEnd = Math.min(arg.end, list.codeEnd > arg.start && list.codeEnd <= arg.end ? list.codeEnd : arg.end - (/\s*$/.exec(argText)?.[0].length ?? 0));
      return callText.slice(0, valueStart) + value + callText.slice(valueEnd);
    }
  }
  // Append right after the last argument (or its trailing comma), before any comment on that line.
  const before = callText[list.codeEnd - 1];
  const separator = list.args.length === 0 ? '' : before === ',' ? ' ' : ', ';
  return callText.slice(0, list.codeEnd) + `${separator}${keyword}=${value}` + callText.slice(list.codeEnd);
}
