import type { ProgressTerminal } from './progress';

/** Where the CLI writes; a parameter so that commands can be driven in-process as well as from a shell. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether text output may use ANSI colors: stdout is a terminal, unless NO_COLOR is set or FORCE_COLOR asks. */
  color?: boolean;
  /** stderr when it is a terminal, for the progress line of long runs; absent otherwise. */
  progress?: ProgressTerminal;
}

export const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  color: wantsColor(process.env, process.stdout.isTTY === true),
  progress: process.stderr.isTTY
    ? {
        write: (text) => process.stderr.write(text),
        get columns() {
          return process.stderr.columns || 80;
        },
      }
    : undefined,
};

/** The NO_COLOR / FORCE_COLOR conventions (no-color.org, force-color.org) over the terminal test. */
function wantsColor(env: NodeJS.ProcessEnv, isTerminal: boolean): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTerminal;
}

/** A bad command line: reported with the usage text, exit status 2. */
export class UsageError extends Error {}
