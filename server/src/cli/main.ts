import { runCheckCommand, runFixCommand } from './check-command';
import { runLossCommand } from './loss-command';
import { CliIO, processIO, UsageError } from './io';

const USAGE = `Usage: loss-lens <command> [options]

Commands:
  check [--format text|json|sarif|github] [--select ID,...] [--ignore ID,...] [--jobs N] [--quiet] PATH...
                 report classification-loss misuse in .py files, notebooks and folders
  fix [--format text|json|sarif|github] [--select ID,...] [--ignore ID,...] [--jobs N] [--quiet] PATH...
                 apply every preferred fix in place, then report what remains
  loss --loss NAME --input FILE --target FILE [options]
                 recompute a loss on saved tensors with PyTorch's semantics

Run 'loss-lens <command> --help' for a command's options.`;

/** Exit status: 0 clean, 1 findings (or a PyTorch error case for 'loss'), 2 usage error or unreadable input. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'check':
        return await runCheckCommand(rest, io);
      case 'fix':
        return await runFixCommand(rest, io);
      case 'loss':
        return await runLossCommand(rest, io);
      case '--help':
      case '-h':
      case 'help':
        io.stdout(USAGE + '\n');
        return 0;
      case '--version':
        io.stdout(`${require('../../../package.json').version}\n`);
        return 0;
      default:
        throw new UsageError(command ? `unknown command '${command}'` : 'no command given');
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`loss-lens: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
}

/**
 * The process entry: `bin/loss-lens.js` and `node server/out/cli.js` both call this.
 *
 * Writes to a pipe are asynchronous: `process.exit()` after the last write cuts the report off at what the reader
 * had taken so far. So the status goes to `process.exitCode` and the process ends when its event loop does, after
 * stdout and stderr have been drained; every command closes what it opened (workers, backends) for that. Should a
 * library leave a handle open all the same, the process exits a second after both streams are drained.
 */
export function main(): void {
  // A reader that goes away (`loss-lens check . | head`) is not an internal error: stop quietly, as other CLIs do.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  runCli(process.argv.slice(2), processIO).then(
    (code) => exitWhenDrained(code),
    (error: unknown) => {
      process.stderr.write(`loss-lens: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
      exitWhenDrained(2);
    },
  );
}

function exitWhenDrained(code: number): void {
  process.exitCode = code;
  void Promise.all([drained(process.stdout), drained(process.stderr)]).then(() => {
    // Unreferenced: it never keeps the process alive, it only ends one that something else keeps alive.
    setTimeout(() => process.exit(code), LINGERING_HANDLE_GRACE_MS).unref();
  });
}

const LINGERING_HANDLE_GRACE_MS = 1000;

/**
 * Resolves once everything written to `stream` has been handed to the operating system ('drain' is not enough: it is
 * emitted only after a write that filled the buffer). The timers are unreferenced, like the exit's.
 */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (stream.writableLength === 0 ? resolve() : setTimeout(check, 50).unref());
    check();
  });
}

if (require.main === module) main();
