import { findNodeAtLocation, Node as JsonNode, parse, ParseError, ParseErrorCode, parseTree, printParseErrorCode } from 'jsonc-parser';
import type { SourceCell } from '../analysis/types';

/**
 * Reading Jupyter notebooks (nbformat 4) into the code cells the engine analyses, and writing new cell
 * sources back into the original text without disturbing anything else (outputs, metadata, formatting).
 */

export interface NotebookCell {
  /** Index into the notebook's `cells` array (markdown and raw cells count). */
  index: number;
  cellType: string;
  /** The cell's source joined into one string. */
  source: string;
  /** True when the cell holds Python code the engine should analyse. */
  isPython: boolean;
}

export interface Notebook {
  cells: NotebookCell[];
}

/** The text is not a notebook the CLI can read; the message starts with `not a notebook:`. */
export class NotebookFormatError extends Error {}

const PYTHON_NAMES = new Set(['python', 'python3', 'ipython', 'ipython3']);

export function parseNotebook(text: string): Notebook {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new NotebookFormatError(`not a notebook: ${describeJsonError(text, error)}`);
  }
  if (!isObject(json)) throw new NotebookFormatError('not a notebook: the top level is not a JSON object');
  const cells = json.cells;
  if (!Array.isArray(cells)) {
    const hint = Array.isArray(json.worksheets) ? ' (nbformat 3 is not supported; save it again with Jupyter)' : '';
    throw new NotebookFormatError(`not a notebook: no "cells" array${hint}`);
  }
  const notebookLanguage = notebookLanguageOf(json.metadata);
  return {
    cells: cells.map((cell: unknown, index): NotebookCell => {
      if (!isObject(cell)) throw new NotebookFormatError(`not a notebook: cell ${index} is not a JSON object`);
      const cellType = typeof cell.cell_type === 'string' ? cell.cell_type : 'unknown';
      const source = joinSource(cell.source, index);
      const cellLanguage = cellLanguageOf(cell.metadata) ?? notebookLanguage;
      const isPython = cellType === 'code' && PYTHON_NAMES.has(cellLanguage);
      return { index, cellType, source, isPython };
    }),
  };
}

/** The Python code cells as the engine's units (the engine masks IPython syntax such as `%magic` lines itself). */
export function analysisUnitsOf(notebook: Notebook): SourceCell[] {
  return notebook.cells.filter((cell) => cell.isPython).map((cell) => ({ cell: cell.index, text: cell.source }));
}

function notebookLanguageOf(metadata: unknown): string {
  if (!isObject(metadata)) return 'python';
  const kernelLanguage = isObject(metadata.kernelspec) ? metadata.kernelspec.language : undefined;
  const infoName = isObject(metadata.language_info) ? metadata.language_info.name : undefined;
  const language = typeof kernelLanguage === 'string' ? kernelLanguage : typeof infoName === 'string' ? infoName : 'python';
  return language.toLowerCase();
}

function cellLanguageOf(metadata: unknown): string | undefined {
  if (!isObject(metadata) || !isObject(metadata.vscode)) return undefined;
  const languageId = metadata.vscode.languageId;
  return typeof languageId === 'string' ? languageId.toLowerCase() : undefined;
}

function joinSource(source: unknown, index: number): string {
  if (source === undefined) return '';
  if (typeof source === 'string') return source;
  if (Array.isArray(source) && source.every((line) => typeof line === 'string')) return source.join('');
  throw new NotebookFormatError(`not a notebook: the source of cell ${index} is neither a string nor a list of strings`);
}

const JSON_ERROR_WORDS: Partial<Record<ParseErrorCode, string>> = {
  [ParseErrorCode.InvalidSymbol]: 'unexpected character',
  [ParseErrorCode.InvalidNumberFormat]: 'invalid number',
  [ParseErrorCode.PropertyNameExpected]: 'property name expected',
  [ParseErrorCode.ValueExpected]: 'value expected',
  [ParseErrorCode.ColonExpected]: "':' expected",
  [ParseErrorCode.CommaExpected]: "',' expected",
  [ParseErrorCode.CloseBraceExpected]: "'}' expected",
  [ParseErrorCode.CloseBracketExpected]: "']' expected",
  [ParseErrorCode.EndOfFileExpected]: 'unexpected text after the end of the JSON value',
  [ParseErrorCode.InvalidCommentToken]: 'comments are not allowed in JSON',
  [ParseErrorCode.UnexpectedEndOfString]: 'unterminated string',
  [ParseErrorCode.InvalidEscapeCharacter]: 'invalid escape sequence in a string',
  [ParseErrorCode.InvalidCharacter]: 'invalid character in a string',
};

/**
 * Why the JSON did not parse, with a line and column a user can go to. V8's own messages carry no position for
 * most errors, so the first error of a strict scan with jsonc-parser gives the place.
 */
function describeJsonError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  if (/end of JSON input/.test(message)) return `${message} at line ${lineOf(text.length)}`;
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return message;
  const column = first.offset - text.lastIndexOf('\n', first.offset - 1);
  const words = JSON_ERROR_WORDS[first.error] ?? printParseErrorCode(first.error);
  return `${words} at line ${lineOf(first.offset)} column ${column}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Writes new sources for some cells into the notebook's original text. Only the `source` values of those cells
 * change; every other byte (outputs, metadata, key order, indentation, line endings, final newline) stays as it was.
 * A cell whose source was a string stays a string; a list becomes Jupyter's list of lines, laid out like the
 * original list (one line per element at the same indentation, or on one line if it was written inline).
 */
export function rewriteCellSources(text: string, newSources: ReadonlyMap<number, string>): string {
  if (newSources.size === 0) return text;
  const root = parseTree(text);
  if (!root) throw new NotebookFormatError('not a notebook: the JSON could not be read for rewriting');
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const splices: { offset: number; length: number; replacement: string }[] = [];
  for (const [index, source] of newSources) {
    const node = findNodeAtLocation(root, ['cells', index, 'source']);
    if (!node) throw new NotebookFormatError(`not a notebook: cell ${index} has no "source" to rewrite`);
    splices.push({ offset: node.offset, length: node.length, replacement: serialiseSource(text, node, source, eol) });
  }
  splices.sort((a, b) => b.offset - a.offset);
  let result = text;
  for (const splice of splices) {
    result = result.slice(0, splice.offset) + splice.replacement + result.slice(splice.offset + splice.length);
  }
  return result;
}

function serialiseSource(text: string, node: JsonNode, source: string, eol: string): string {
  if (node.type === 'string') return JSON.stringify(source);
  const lines = splitJupyterLines(source).map((line) => JSON.stringify(line));
  if (lines.length === 0) return '[]';
  const original = text.slice(node.offset, node.offset + node.length);
  const firstElement = node.children?.[0];
  const writtenInline = !/[\r\n]/.test(original) && firstElement !== undefined;
  if (writtenInline) return `[${lines.join(', ')}]`;
  const closingIndent = indentOfLineAt(text, node.offset + node.length - 1);
  const elementIndent = firstElement
    ? indentOfLineAt(text, firstElement.offset)
    : closingIndent + detectIndentUnit(text);
  return `[${eol}${lines.map((line) => elementIndent + line).join(`,${eol}`)}${eol}${closingIndent}]`;
}

/** Jupyter's list form: every line keeps its `\n`, the last one has none unless the source ends with a newline. */
function splitJupyterLines(source: string): string[] {
  return source === '' ? [] : source.split(/(?<=\n)/);
}

/** The whitespace at the start of the line holding `offset`, when only whitespace precedes `offset` on it; else ''. */
function indentOfLineAt(text: string, offset: number): string {
  const lineStart = Math.max(text.lastIndexOf('\n', offset - 1) + 1, 0);
  const leading = /^[ \t]*/.exec(text.slice(lineStart, offset))![0];
  return leading;
}

function detectIndentUnit(text: string): string {
  const secondLine = /\n([ \t]+)\S/.exec(text);
  return secondLine ? secondLine[1] : ' ';
}
