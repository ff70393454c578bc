import * as fs from 'node:fs';
import type { AnalysisOptions, AnalysisResult } from '../analysis/types';
import { confirmFindings, type ComparisonCache } from '../captures/confirm';
import { capturesInNotebook, capturesOfScript, type CapturesFolderCache } from '../captures/read';
import { ProgramFile, programSourceOf } from './program-file';
import type { CheckReport } from './report';

/**
 * `check` on one file: its saved captures (a notebook's capture outputs, a script's `.loss-lens/captures/` folders)
 * confirm or refute the findings at their loss calls and add the run-time checks' own findings. Captures that cannot
 * be read or recomputed become notes; they never fail the file. `fix` confirms every round's analysis, sharing
 * `comparisons` so that a capture is recomputed once.
 */
export async function withSavedCaptures(
  fsPath: string,
  displayPath: string,
  program: ProgramFile,
  result: AnalysisResult,
  options: AnalysisOptions,
  report: CheckReport,
  foldersRead: CapturesFolderCache,
  comparisons?: ComparisonCache,
): Promise<AnalysisResult> {
  const reading = program.kind === 'notebook' ? capturesInNotebook(program.text) : capturesOfScript(fsPath, process.env, foldersRead);
  const problems = reading.problems.slice();
  let findings = result.findings;
  if (reading.captures.length > 0) {
    const outcome = await confirmFindings(programSourceOf(program), result, reading.captures, options, comparisons, readModuleText);
    findings = outcome.findings;
    problems.push(...outcome.problems.map((problem) => `capture ${problem.capture} could not be recomputed: ${problem.message}`));
  }
  // A capture folder shared by several scripts is noted once.
  for (const message of problems) {
    if (!report.notes.some((note) => note.kind === 'capture' && note.message === message)) report.notes.push({ path: displayPath, kind: 'capture', message });
  }
  return { ...result, findings };
}

/** A project module as it is on disk now (`fix` writes the modules it edits before confirming again). */
function readModuleText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
