/**
 * The progress line of a long `check`/`fix` on a terminal: `checking 120/1200 files  src/models/vision`, rewritten in
 * place on stderr (so that stdout holds only the report) and erased before the report is written. It appears only
 * once the run has taken a second, so that a quick run never flickers, and at most ten times a second.
 */

/** What the progress line needs of stderr: the CLI passes the process's when it is a terminal. */
export interface ProgressTerminal {
  write(text: string): void;
  /** Width of the terminal; the line is cut to it so that it never wraps (a wrapped line cannot be erased with `\r`). */
  columns: number;
}

const SHOW_AFTER_MS = 1000;
const REDRAW_EVERY_MS = 100;
const ERASE_LINE = '\r\x1b[K';

export class ProgressLine {
  private readonly startedAt: number;
  private lastDrawnAt = -Infinity;
  private shown = false;
  private done = 0;
  private folder = '';

  constructor(
    private readonly terminal: ProgressTerminal | undefined,
    private readonly verb: string,
    private readonly total: number,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  /** A file was started: its folder is the one shown. */
  started(folder: string): void {
    this.folder = folder;
    this.redraw();
  }

  finished(): void {
    this.done++;
    this.redraw();
  }

  /** Erases the line (the report follows on the same terminal). */
  end(): void {
    if (this.shown) this.terminal?.write(ERASE_LINE);
    this.shown = false;
  }

  private redraw(): void {
    if (!this.terminal) return;
    const now = this.now();
    if (now - this.startedAt < SHOW_AFTER_MS || now - this.lastDrawnAt < REDRAW_EVERY_MS) return;
    this.lastDrawnAt = now;
    this.shown = true;
    this.terminal.write(`${ERASE_LINE}${progressText(this.verb, this.done, this.total, this.folder, this.terminal.columns)}`);
  }
}

/** `checking 120/1200 files  src/models`, cut to `columns - 1` characters (the folder keeps its end: `…/models/vision`). */
export function progressText(verb: string, done: number, total: number, folder: string, columns: number): string {
  const head = `${verb} ${done}/${total} files`;
  const room = Math.max(0, columns - 1 - head.length - 2);
  if (folder === '' || room < 4) return head.slice(0, Math.max(0, columns - 1));
  const shownFolder = folder.length <= room ? folder : `…${folder.slice(folder.length - room + 1)}`;
  return `${head}  ${shownFolder}`;
}
