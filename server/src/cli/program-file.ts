import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ProgramSource } from '../analysis/types';
import { analysisUnitsOf, Notebook, NotebookFormatError, parseNotebook } from '../notebook/ipynb';
import { describeFsError } from '../workspace/collect-files';

/**
 * One file the CLI checks, read into the engine's `ProgramSource`, with what `fix` needs to write it back.
 * Reading never throws: a file that cannot be read becomes a `ReadFailure` with a message for the user.
 */

/** Larger files are reported as unreadable rather than risking the process's memory (notebooks with big outputs fit). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface ProgramFile {
  kind: 'file' | 'notebook';
  /** The decoded text: the Python source, or the notebook's JSON. */
  text: string;
  /** The Python source of each analysed unit, keyed by cell index (`undefined` for a `.py` file). */
  units: Map<number | undefined, string>;
  /** The file began with a UTF-8 byte order mark, which `fix` keeps. */
  hasByteOrderMark: boolean;
  /** The bytes were valid UTF-8; `fix` does not rewrite a file it could only decode lossily. */
  isValidUtf8: boolean;
}

export interface ReadFailure {
  error: string;
}

export function readProgramFile(fsPath: string): ProgramFile | ReadFailure {
  let bytes: Buffer;
  try {
    const size = fs.statSync(fsPath).size;
    if (size > MAX_FILE_BYTES) {
      return { error: `too large to check (${(size / 1024 / 1024).toFixed(1)} MiB; the limit is ${MAX_FILE_BYTES / 1024 / 1024} MiB)` };
    }
    bytes = fs.readFileSync(fsPath);
  } catch (error) {
    return { error: describeFsError(error) };
  }
  const isValidUtf8 = isUtf8(bytes);
  const hasByteOrderMark = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const text = bytes.toString('utf8', hasByteOrderMark ? 3 : 0);
  return programFileFromText(fsPath.endsWith('.ipynb') ? 'notebook' : 'file', text, hasByteOrderMark, isValidUtf8);
}

/** Builds the program from already decoded text (used again by `fix` after editing). */
export function programFileFromText(
  kind: 'file' | 'notebook',
  text: string,
  hasByteOrderMark = false,
  isValidUtf8 = true,
): ProgramFile | ReadFailure {
  if (kind === 'file') return { kind, text, units: new Map([[undefined, text]]), hasByteOrderMark, isValidUtf8 };
  let notebook: Notebook;
  try {
    notebook = parseNotebook(text);
  } catch (error) {
    if (error instanceof NotebookFormatError) return { error: error.message };
    throw error;
  }
  const units = new Map<number | undefined, string>(analysisUnitsOf(notebook).map((unit) => [unit.cell, unit.text]));
  return { kind, text, units, hasByteOrderMark, isValidUtf8 };
}

/** The engine's input; with `fsPath`, the imports of the project's modules beside it are followed. */
export function programSourceOf(file: ProgramFile, fsPath?: string): ProgramSource {
  const source: ProgramSource = { kind: file.kind, units: [...file.units].map(([cell, text]) => (cell === undefined ? { text } : { cell, text })) };
  if (fsPath !== undefined) source.path = path.resolve(fsPath);
  return source;
}

export function isReadFailure(value: ProgramFile | ReadFailure): value is ReadFailure {
  return 'error' in value;
}
