import type { AnalysisResult, Finding, LossCallSite, ProgramSource, SourceLocation } from '../analysis/types';

/**
 * Large Python files are handed to the engine as a sequence of top-level chunks, the way a notebook is
 * a sequence of cells, so that an edit re-parses only the chunk it touches (the engine caches parses by
 * unit text; a file given whole is re-parsed, and its tree re-copied, on every keystroke).
 *
 * A chunk starts only where a new top-level statement starts for certain: a line at column 0 that
 * begins with a name or a decorator, outside any bracket, string or backslash continuation, that does
 * not continue a compound statement (`else`, `elif`, `except`, `finally`) and does not follow a
 * decorator. The program is then the same statements in the same order, and the engine's results
 * (in chunk coordinates) are shifted back to file lines. Which candidates become chunk starts is decided
 * by the line's own text (a hash), not by its position, so an edit changes at most the chunk it is in
 * (and its neighbour when it creates or removes a start): the other chunks keep their text and their
 * cached parse even when lines are inserted above them.
 */

export interface ChunkingOptions {
  /** Files with fewer lines are analysed whole: parsing them is cheap, and results match the CLI's to the letter. */
  minLines: number;
  /** On average one chunk start per this many statement starts (1: every statement start begins a chunk). */
  startsPerChunk: number;
}

export const DEFAULT_CHUNKING: ChunkingOptions = { minLines: 1000, startsPerChunk: 16 };

const CONTINUATION = /^(else|elif|except|finally)\b/;

/** FNV-1a over the line's text: a stable, position-independent choice among candidates. */
function lineHash(line: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < line.length; index++) {
    hash ^= line.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const BACKSLASH = 0x5c;
const HASH = 0x23;
const AT = 0x40;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const CARRIAGE_RETURN = 0x0d;
/** A line with code: something other than whitespace before any comment (`\s` is what `trim` strips). */
const CODE_LINE = /^\s*[^\s#]/;

function isStatementStartChar(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f || code === AT;
}

/**
 * The lines where a top-level statement certainly starts (0-based; line 0 excluded). Returns undefined
 * when the scan does not end in a clean state (an unclosed bracket or string): the file is then not split.
 * Runs on every edit of a large file, hence character codes rather than one-character strings.
 */
export function statementStartLines(text: string): number[] | undefined {
  const starts: number[] = [];
  let depth = 0;
  /** The open string's quote character code (0: not inside a string) and whether it is a triple quote. */
  let quote = 0;
  let tripleQuote = false;
  let continued = false;
  /** Whether the last line with code began with a decorator's `@`. */
  let afterDecorator = false;
  let lineStart = 0;
  let line = 0;
  while (lineStart <= text.length) {
    const newline = text.indexOf('\n', lineStart);
    let lineEnd = newline < 0 ? text.length : newline;
    if (lineEnd > lineStart && text.charCodeAt(lineEnd - 1) === CARRIAGE_RETURN) lineEnd--;
    const content = text.slice(lineStart, lineEnd);
    if (line > 0 && depth === 0 && quote === 0 && !continued && isStatementStartChar(content.charCodeAt(0)) && !CONTINUATION.test(content) && !afterDecorator) {
      starts.push(line);
    }
    continued = false;
    for (let index = 0; index < content.length; index++) {
      const code = content.charCodeAt(index);
      if (quote !== 0) {
        if (code === BACKSLASH) {
          index++;
        } else if (code === quote && (!tripleQuote || (content.charCodeAt(index + 1) === quote && content.charCodeAt(index + 2) === quote))) {
          if (tripleQuote) index += 2;
          quote = 0;
        }
        continue;
      }
      if (code === HASH) break;
      if (code === DOUBLE_QUOTE || code === SINGLE_QUOTE) {
        quote = code;
        tripleQuote = content.charCodeAt(index + 1) === code && content.charCodeAt(index + 2) === code;
        if (tripleQuote) index += 2;
      } else if (code === 0x28 || code === 0x5b || code === 0x7b) {
        depth++;
      } else if (code === 0x29 || code === 0x5d || code === 0x7d) {
        depth = Math.max(0, depth - 1);
      } else if (code === BACKSLASH && index === content.length - 1) {
        continued = true;
      }
    }
    // A one-quote string cannot span lines (without a continuation): recover as the tokenizer would.
    if (quote !== 0 && !tripleQuote && content.charCodeAt(content.length - 1) !== BACKSLASH) quote = 0;
    if (quote === 0 && CODE_LINE.test(content)) afterDecorator = content.charCodeAt(0) === AT;
    if (newline < 0) break;
    lineStart = newline + 1;
    line++;
  }
  return depth === 0 && quote === 0 ? starts : undefined;
}

/** A file's program as the engine gets it: the units and the file line each starts at. */
export interface ChunkedFile {
  source: ProgramSource;
  /** File line of the first line of each unit (`cell` k ↔ `startLines[k]`); one 0 for a file given whole. */
  startLines: number[];
}

/** Splits a file into chunks at content-chosen statement starts. */
export function chunkFile(text: string, options: ChunkingOptions = DEFAULT_CHUNKING): ChunkedFile {
  const lines = text.split('\n');
  const whole: ChunkedFile = { source: { kind: 'file', units: [{ text }] }, startLines: [0] };
  // `# loss-lens: ignore-file` on the first line skips the whole file; in chunks it would skip only the first.
  if (lines.length < options.minLines || /loss-lens:\s*ignore-file/.test(lines[0])) return whole;
  const starts = statementStartLines(text);
  if (!starts) return whole;
  const chosen = [0, ...starts.filter((line) => lineHash(lines[line]) % options.startsPerChunk === 0)];
  if (chosen.length === 1) return whole;
  const units = chosen.map((start, index) => ({ cell: index, text: lines.slice(start, chosen[index + 1] ?? lines.length).join('\n') + (index + 1 < chosen.length ? '\n' : '') }));
  return { source: { kind: 'file', units }, startLines: chosen };
}

function toFileLocation(location: SourceLocation, startLines: readonly number[]): SourceLocation {
  // A place in an imported module is in that file's own lines.
  if (location.file !== undefined) return location;
  const offset = startLines[location.cell ?? 0] ?? 0;
  const { start, end } = location.range;
  return { range: { start: { line: start.line + offset, character: start.character }, end: { line: end.line + offset, character: end.character } } };
}

/** The engine's result on chunks, in file coordinates (as if the file had been analysed whole). */
export function resultInFileLines(result: AnalysisResult, startLines: readonly number[]): AnalysisResult {
  if (startLines.length === 1) return result;
  const locate = (location: SourceLocation) => toFileLocation(location, startLines);
  const findings = result.findings.map((finding): Finding => ({
    ...finding,
    location: locate(finding.location),
    related: finding.related.map((related) => ({ ...related, location: locate(related.location) })),
    ...(finding.fix ? { fix: { ...finding.fix, edits: finding.fix.edits.map((edit) => ({ ...edit, location: locate(edit.location) })) } } : {}),
  }));
  const lossCalls = result.lossCalls.map((call): LossCallSite => ({
    ...call,
    location: locate(call.location),
    ...(call.constructorLocation ? { constructorLocation: locate(call.constructorLocation) } : {}),
    ...(call.inputLocation ? { inputLocation: locate(call.inputLocation) } : {}),
  }));
  return { ...result, findings, lossCalls, parseErrors: result.parseErrors.map(locate) };
}
