/**
 * Node-only: the saved captures of a checked file. A notebook's are its outputs of the Loss Lens MIME type
 * (the tensors inline, or, when the inline copy was cut, the capture folder the record names); a script's are the
 * capture folders of `loss_lens.watch` (and `loss_lens.capture`) under `.loss-lens/captures/` in the script's
 * folder or one above it, or under `$LOSS_LENS_CAPTURE_DIR`, whose record names that script.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NotebookCapture } from '../protocol';
import type { SavedCapture } from './confirm';
import { CAPTURE_MIME_TYPE, parseCaptureRecord, TENSOR_ROLES, type CaptureRecord } from './record';
import { decodeCaptureTensors, type CaptureTensors } from './tensors';

export interface CaptureReading {
  captures: SavedCapture[];
  /** Capture outputs or folders that could not be read, with why. */
  problems: string[];
}

/** The helper's default folder, relative to the working directory it ran in. */
export const CAPTURES_FOLDER = path.join('.loss-lens', 'captures');

/** The captures saved in a notebook's outputs. */
export function capturesInNotebook(notebookText: string): CaptureReading {
  const reading: CaptureReading = { captures: [], problems: [] };
  let cells: unknown;
  try {
    cells = (JSON.parse(notebookText) as { cells?: unknown }).cells;
  } catch {
    return reading; // the analysis reports a notebook that is not JSON
  }
  if (!Array.isArray(cells)) return reading;
  cells.forEach((cell: { outputs?: unknown }, index) => {
    if (!Array.isArray(cell?.outputs)) return;
    for (const output of cell.outputs as { data?: Record<string, unknown> }[]) {
      const data = output?.data?.[CAPTURE_MIME_TYPE];
      if (data === undefined) continue;
      try {
        const record = parseCaptureRecord(typeof data === 'string' ? JSON.parse(data) : data);
        reading.captures.push({ record, cell: index, origin: { cell: index }, tensors: () => notebookTensors(record) });
      } catch (error) {
        reading.problems.push(`cell ${index} holds a capture that cannot be read: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  });
  return reading;
}

/**
 * The captures an editor sends for an open notebook (`lossLens/captures`). `cellIndex` maps a cell's URI to the
 * server's index of it (which may count only the cells the editor synchronises); the capture's cell, and a kernel
 * capture's recorded cell, are renumbered with it.
 */
export function capturesFromEditor(entries: readonly NotebookCapture[], cellIndex: (uri: string) => number | undefined = () => undefined): CaptureReading {
  const reading: CaptureReading = { captures: [], problems: [] };
  for (const entry of entries) {
    try {
      const parsed = parseCaptureRecord(entry.record);
      const cell = (entry.cellUri !== undefined ? cellIndex(entry.cellUri) : undefined) ?? entry.cell;
      const record = parsed.source.cell !== undefined && parsed.source.cell === entry.cell ? { ...parsed, source: { ...parsed.source, cell } } : parsed;
      reading.captures.push({ record, cell, origin: { cell }, tensors: () => notebookTensors(record, entry.folder) });
    } catch (error) {
      reading.problems.push(`cell ${entry.cell} holds a capture that cannot be read: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return reading;
}

/**
 * The inline tensors, or the whole ones from the capture folder when the inline copy was cut and that folder is
 * this capture's; `folder` holds the files of a record in folder form (a kernel capture).
 */
function notebookTensors(record: CaptureRecord, folder?: string): CaptureTensors {
  if (folder) return decodeCaptureTensors(record, folderReader(folder));
  const sampled = TENSOR_ROLES.some((role) => record.tensors[role]?.sampled);
  if (sampled && record.folder) {
    const full = readFolderRecord(record.folder);
    const same = full?.id === record.id && (['input', 'target'] as const).every((role) =>
      (record.tensors[role].sampled?.originalShape ?? record.tensors[role].shape).join() === full.tensors[role].shape.join());
    if (full && same) return decodeCaptureTensors(full, folderReader(record.folder));
  }
  return decodeCaptureTensors(record);
}

/** The capture folders of one `.loss-lens/captures` folder: each one's record, or why it could not be read. */
type CapturesFolder = { folder: string; record?: CaptureRecord; problem?: string }[];

/** Capture folders already read, by captures folder: a check of many scripts reads each once. */
export type CapturesFolderCache = Map<string, CapturesFolder>;

/**
 * The captures of a script: capture folders whose record names this file. `cache` keeps what was read of each
 * captures folder (the caller drops it when one changes); without it, every call reads the folders again.
 */
export function capturesOfScript(scriptPath: string, env: NodeJS.ProcessEnv = process.env, cache: CapturesFolderCache = new Map()): CaptureReading {
  const reading: CaptureReading = { captures: [], problems: [] };
  const script = realPath(scriptPath);
  const roots = new Set<string>();
  if (env.LOSS_LENS_CAPTURE_DIR) roots.add(path.resolve(env.LOSS_LENS_CAPTURE_DIR));
  for (let folder = path.dirname(script); ; folder = path.dirname(folder)) {
    roots.add(path.join(folder, CAPTURES_FOLDER));
    if (path.dirname(folder) === folder) break;
  }
  for (const root of roots) {
    let entries = cache.get(root);
    if (!entries) {
      entries = readCapturesFolder(root);
      cache.set(root, entries);
    }
    for (const { folder, record, problem } of entries) {
      if (problem) reading.problems.push(problem);
      if (!record?.source.file || realPath(record.source.file) !== script) continue;
      reading.captures.push({ record, origin: { path: path.join(folder, 'manifest.json') }, tensors: () => decodeCaptureTensors(record, folderReader(folder)) });
    }
  }
  return reading;
}

function readCapturesFolder(root: string): CapturesFolder {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return []; // no captures there
  }
  return entries.filter((entry) => entry.isDirectory()).map((entry) => {
    const folder = path.join(root, entry.name);
    try {
      return { folder, record: readFolderRecord(folder) };
    } catch (error) {
      return { folder, problem: `capture folder ${folder} cannot be read: ${error instanceof Error ? error.message : String(error)}` };
    }
  });
}

/** A capture folder's record; undefined when the folder has no manifest (not a capture, or still being written). */
function readFolderRecord(folder: string): CaptureRecord | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(folder, 'manifest.json'), 'utf8');
  } catch {
    return undefined;
  }
  return parseCaptureRecord(JSON.parse(text));
}

function folderReader(folder: string): (fileName: string) => Uint8Array {
  // parseCaptureRecord admits only plain `.npy` file names, so this stays inside the folder.
  return (fileName) => fs.readFileSync(path.join(folder, fileName));
}

function realPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}
