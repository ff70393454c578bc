import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AnalysisOptions, RuleInfo } from '../analysis/types';
import { RULES } from '../rules/index';
import { collectFiles, describeFsError } from '../workspace/collect-files';
import { AnalyzeFunction, ConfirmFunction, fixProgram, ModuleFiles } from './apply-fixes';
import { CheckOptions, checkUsage, parseCheckOptions } from './check-options';
import { formatGithub } from './format-github';
import { formatSarif } from './format-sarif';
import { formatText } from './format-text';
import { CliIO } from './io';
import { AnalysisTimeoutError, hardTimeoutFromEnvironment, IsolatedAnalyzer } from './isolated-analyzer';
import { isReadFailure, ProgramFile, programSourceOf, readProgramFile } from './program-file';
import { ProgressLine } from './progress';
import { addAnalysis, CheckReport, emptyReport, exitStatusOf, formatJson } from './report';
import { withSavedCaptures } from './saved-captures';
import type { CapturesFolderCache } from '../captures/read';
import type { ComparisonCache } from '../captures/confirm';

/** `loss-lens check` and `loss-lens fix` (see shared/spec/cli.md and docs/cli.md). */

/** Per file; generous, since the CLI has no keystrokes to keep up with. Past it the report says the file was cut short. */
const CLI_TIME_BUDGET_MS = 10_000;

export async function runCheckCommand(argv: string[], io: CliIO): Promise<number> {
  return runCommand('check', argv, io);
}

export async function runFixCommand(argv: string[], io: CliIO): Promise<number> {
  return runCommand('fix', argv, io);
}

async function runCommand(command: 'check' | 'fix', argv: string[], io: CliIO): Promise<number> {
  const options = parseCheckOptions(argv, RULES);
  if (options.help) {
    io.stdout(checkUsage(command));
    return 0;
  }
  const analysisOptions: AnalysisOptions = { select: options.select, ignore: options.ignore, timeBudgetMs: CLI_TIME_BUDGET_MS };
  const report = emptyReport();
  if (command === 'fix') report.fixed = 0;

  const { files, problems } = collectFiles(options.paths);
  const captureFolders: CapturesFolderCache = new Map();
  // Places in imported modules: the module's path as found under the given paths, else relative to the working directory.
  const displayPaths = new Map(files.map((file) => [path.resolve(file.fsPath), file.displayPath]));
  const displayPathOf = (file: string) => displayPaths.get(path.resolve(file)) ?? path.relative(process.cwd(), file);
  report.errors.push(...problems.map((problem) => ({ path: problem.displayPath, message: problem.message })));
  const progress = new ProgressLine(options.quiet ? undefined : io.progress, command === 'fix' ? 'fixing' : 'checking', files.length);
  // Files are handed out in order to the first free worker; their reports join the main one in file order, as soon as
  // every file before them is done, so that the report is the same for every --jobs and nothing waits longer than it
  // must (a file's report is small: its findings and notes, never its text or trees).
  const workers = Math.min(options.jobs ?? os.availableParallelism(), files.length);
  const analyzers = Array.from({ length: workers }, () => new IsolatedAnalyzer(hardTimeoutFromEnvironment(process.env)));
  // A module that `fix` rewrote is read again by every worker (each keeps its own module cache).
  const moduleRewritten = (module: string) => {
    for (const analyzer of analyzers) analyzer.fileRewritten(module);
  };
  const fileReports: (CheckReport | undefined)[] = new Array(files.length);
  let nextFile = 0;
  let merged = 0;
  const runWorker = async (analyzer: IsolatedAnalyzer): Promise<void> => {
    const analyze: AnalyzeFunction = (source, sourceOptions) => analyzer.analyze(source, sourceOptions);
    const context: FileContext = { analyze, analysisOptions, captureFolders, displayPathOf, moduleRewritten };
    for (let index = nextFile++; index < files.length; index = nextFile++) {
      progress.started(path.dirname(files[index].displayPath));
      fileReports[index] = await checkFile(command, files[index], context);
      progress.finished();
      for (; merged < files.length && fileReports[merged]; merged++) {
        mergeReport(report, fileReports[merged]!);
        fileReports[merged] = undefined;
      }
    }
  };
  try {
    await Promise.all(analyzers.map(runWorker));
  } finally {
    await Promise.all(analyzers.map((analyzer) => analyzer.close()));
    progress.end();
  }
  write(io, command, options, report, RULES);
  return exitStatusOf(report);
}

/** What checking one file needs besides the file: its worker, the options, and the run's shared lookups. */
interface FileContext {
  analyze: AnalyzeFunction;
  analysisOptions: AnalysisOptions;
  captureFolders: CapturesFolderCache;
  displayPathOf: (file: string) => string;
  moduleRewritten: (file: string) => void;
}

/** One file's part of the report: read, analysed (or fixed), never throwing. */
async function checkFile(command: 'check' | 'fix', file: { fsPath: string; displayPath: string }, context: FileContext): Promise<CheckReport> {
  const { analyze, analysisOptions, captureFolders, displayPathOf } = context;
  const report = emptyReport();
  const program = readProgramFile(file.fsPath);
  if (isReadFailure(program)) {
    report.errors.push({ path: file.displayPath, message: program.error });
    return report;
  }
  try {
    if (command === 'fix') await fixFile(analyze, file.fsPath, file.displayPath, program, analysisOptions, report, context);
    else {
      const result = await analyze(programSourceOf(program, file.fsPath), analysisOptions);
      addAnalysis(report, file.displayPath, await withSavedCaptures(file.fsPath, file.displayPath, program, result, analysisOptions, report, captureFolders), CLI_TIME_BUDGET_MS, displayPathOf);
    }
    report.checked++;
  } catch (error) {
    // An engine failure (or a stopped analysis) on one file must not hide the results of the others.
    const reason = error instanceof AnalysisTimeoutError ? error.message : `internal error while analysing: ${error instanceof Error ? error.message : String(error)}`;
    report.errors.push({ path: file.displayPath, message: reason });
  }
  return report;
}

/** Appends one file's report (every field a file can add) to the run's. */
function mergeReport(into: CheckReport, part: CheckReport): void {
  into.checked += part.checked;
  into.errors.push(...part.errors);
  into.diagnostics.push(...part.diagnostics);
  into.notes.push(...part.notes);
  if (part.fixed !== undefined) into.fixed = (into.fixed ?? 0) + part.fixed;
}

async function fixFile(
  analyze: AnalyzeFunction,
  fsPath: string,
  displayPath: string,
  program: ProgramFile,
  options: AnalysisOptions,
  report: CheckReport,
  { captureFolders, displayPathOf, moduleRewritten }: FileContext,
): Promise<void> {
  // The captures `check` reads decide here too: a refuted finding's fix is not applied, and what remains shows the
  // verdicts. Each round confirms again (the captures of a notebook move with its text); the figures are computed once.
  const comparisons: ComparisonCache = new Map();
  const confirm: ConfirmFunction = (current, result) => withSavedCaptures(fsPath, displayPath, current, result, options, report, captureFolders, comparisons);
  // Fixes that edit an imported module (cross-file-fixes.ts decided they are safe): its byte order mark is kept.
  const withByteOrderMark = new Set<string>();
  const modules: ModuleFiles = {
    read: (file) => {
      try {
        const text = fs.readFileSync(file, 'utf8');
        if (text.charCodeAt(0) !== 0xfeff) return text;
        withByteOrderMark.add(file);
        return text.slice(1);
      } catch {
        return undefined;
      }
    },
    write: (file, text) => {
      try {
        writeFileAtomically(file, (withByteOrderMark.has(file) ? '\ufeff' : '') + text);
        moduleRewritten(file);
      } catch (error) {
        throw new ModuleWriteError(`could not write the fixed module ${displayPathOf(file)}: ${describeFsError(error)}`);
      }
    },
  };
  let outcome: Awaited<ReturnType<typeof fixProgram>>;
  try {
    outcome = await fixProgram(analyze, program, options, fsPath, modules, confirm);
  } catch (error) {
    if (!(error instanceof ModuleWriteError)) throw error;
    report.errors.push({ path: displayPath, message: error.message });
    return;
  }
  if (outcome.fixed > 0 && !program.isValidUtf8) {
    // Rewriting would replace the bytes that are not UTF-8 with U+FFFD: report instead of damaging the file.
    report.notes.push({ path: displayPath, kind: 'not-fixed', message: 'not valid UTF-8: fixes were not applied' });
    addAnalysis(report, displayPath, await confirm(program, await analyze(programSourceOf(program, fsPath), options)), CLI_TIME_BUDGET_MS, displayPathOf);
    return;
  }
  if (outcome.program.text !== program.text) {
    try {
      writeFileAtomically(fsPath, (outcome.program.hasByteOrderMark ? '\ufeff' : '') + outcome.program.text);
    } catch (error) {
      report.errors.push({ path: displayPath, message: `could not write the fixed file: ${describeFsError(error)}` });
      return;
    }
  }
  report.fixed = (report.fixed ?? 0) + outcome.fixed;
  addAnalysis(report, displayPath, outcome.result, CLI_TIME_BUDGET_MS, displayPathOf);
}

class ModuleWriteError extends Error {}

/** Writes next to the file and renames over it, so that a crash or a full disk never leaves a half-written file. */
function writeFileAtomically(fsPath: string, text: string): void {
  const target = fs.realpathSync(fsPath); // a symbolic link stays a link; its target gets the new text
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.loss-lens-${process.pid}.tmp`);
  const mode = fs.statSync(target).mode;
  try {
    fs.writeFileSync(temporary, text);
    fs.chmodSync(temporary, mode);
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

function write(io: CliIO, command: 'check' | 'fix', options: CheckOptions, report: CheckReport, rules: readonly RuleInfo[]): void {
  switch (options.format) {
    case 'json':
      io.stdout(formatJson(report));
      return;
    case 'sarif':
      io.stdout(formatSarif(report, rules, process.cwd()));
      return;
    case 'github':
      io.stdout(formatGithub(report, command));
      return;
    case 'text': {
      const text = formatText(report, { color: io.color === true, command });
      io.stdout(text.stdout);
      if (text.stderr) io.stderr(text.stderr);
    }
  }
}
