/** Where the CLI writes; a parameter so that commands can be driven in-process as well as from a shell. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** A bad command line: reported with the usage text, exit status 2. */
export class UsageError extends Error {}
