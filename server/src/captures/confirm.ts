/**
 * Captured tensors confirm or refute the static findings at their loss call, and add the run-time checks the
 * static analysis could not see as findings of their own. Shared by the CLI and the language server; the panel
 * computes its numbers with the same `compareCapture`, pairs captures with the same `matchCapture` and judges them
 * with the same `judgeCapture` (`verdict.ts`).
 *
 * Browser-safe apart from the engine's backends (the default `run` is the host kernel `js`).
 */
import type { AnalysisOptions, AnalysisResult, CaptureOrigin, Finding, ProgramSource, Severity, SourceLocation } from '../analysis/types';
import type { LossRequest, LossResult } from '../losses/api';
import { computeLoss } from '../losses/engine';
import { currentCode, matchCapture, type MatchableCall } from './match';
import { compareCapture, requestFor, type CaptureComparison } from './recompute';
import type { CaptureRecord } from './record';
import type { CaptureTensors } from './tensors';
import { findingsAtCall, judgeCapture, type CaptureJudgement } from './verdict';

/** A capture as read from a notebook output or a capture folder. */
export interface SavedCapture {
  record: CaptureRecord;
  /** The notebook cell whose output holds it. */
  cell?: number;
  /** Where it is: the output's cell, or the folder's `manifest.json`. */
  origin: CaptureOrigin;
  /** Decodes its tensors (inline data, or the folder's files); throws when they cannot be read. */
  tensors(): CaptureTensors;
}

export interface ConfirmationOutcome {
  findings: Finding[];
  /** Captures that matched a call but could not be recomputed, with why. */
  problems: { capture: string; message: string }[];
}

/** Recomputed captures (figures only), by capture id and the findings that select a correction (the language server keeps one). */
export type ComparisonCache = Map<string, Promise<Omit<CaptureComparison, 'correction'>>>;

const IGNORE_COMMENT = /#\s*loss-lens:\s*ignore(?:\[([^\]]*)\])?\s*(?:#.*)?$/;

/**
 * The findings of `result` with a `confirmation` where a (fresh or stale) capture matches their loss call, refuted
 * ones lowered to information, plus one finding per failed run-time check with no static counterpart (`source: capture`).
 */
export async function confirmFindings(
  program: ProgramSource,
  result: AnalysisResult,
  captures: readonly SavedCapture[],
  options: AnalysisOptions = {},
  cache: ComparisonCache = new Map(),
  /** The current text of a project module the analysis followed (`result.modules`): a capture's fingerprint covers them. */
  moduleText?: (file: string) => string | undefined,
  run: (request: LossRequest) => Promise<LossResult> = (request) => computeLoss(request, { backend: 'js' }),
): Promise<ConfirmationOutcome> {
  const findings = result.findings.map((finding) => ({ ...finding }));
  const problems: ConfirmationOutcome['problems'] = [];
  if (captures.length === 0) return { findings, problems };
  const unitText = new Map(program.units.map((unit) => [unit.cell, unit.text]));
  const lineOf = (location: SourceLocation): string => (unitText.get(location.cell)?.split('\n')[location.range.start.line] ?? '').replace(/\r$/, '');
  const calls = result.lossCalls.map((call, index): MatchableCall => ({
    id: String(index),
    loss: call.loss,
    cell: call.location.cell,
    line: call.location.range.start.line,
    text: textIn(unitText.get(call.location.cell) ?? '', call.location),
    lineText: lineOf(call.location).trim(),
  }));

  // The latest capture of each call speaks for it.
  const code = currentCode(program.units, result.modules, moduleText);
  const latest = new Map<string, { capture: SavedCapture; stale: boolean; certain: boolean }>();
  for (const capture of captures) {
    const match = matchCapture(capture, calls, code);
    if (!match) continue;
    const previous = latest.get(match.callId);
    if (!previous || previous.capture.record.createdAt <= capture.record.createdAt) latest.set(match.callId, { capture, stale: match.stale, certain: match.certain });
  }

  for (const [callId, { capture, stale, certain }] of latest) {
    const call = result.lossCalls[Number(callId)];
    const atCall = findingsAtCall(findings, call);
    const id = capture.record.id;
    const rules = [...new Set(atCall.map((finding) => finding.rule))].sort();
    let judgement: CaptureJudgement;
    try {
      if (stale) {
        judgement = judgeCapture({ rules, capture: id, origin: capture.origin, match: { stale, certain } });
      } else {
        const request = requestFor(capture.record, capture.tensors());
        const key = `${id}|${rules.join(',')}`;
        let pending = cache.get(key);
        if (!pending) {
          // The correction's request holds input-sized arrays: the cache keeps the figures only.
          pending = compareCapture(request, rules, run).then(({ correction: _correction, ...figures }) => figures);
          cache.set(key, pending);
        }
        judgement = judgeCapture({ rules, capture: id, origin: capture.origin, match: { stale, certain }, request, comparison: await pending });
      }
    } catch (error) {
      problems.push({ capture: id, message: error instanceof Error ? error.message : String(error) });
      continue;
    }
    const verdicts = new Map(judgement.verdicts.map(({ rule, confirmation }) => [rule, confirmation]));
    for (const finding of atCall) {
      finding.confirmation = verdicts.get(finding.rule);
      if (finding.confirmation?.verdict === 'refuted') finding.severity = 'information';
    }
    const inputLocation = call.inputLocation ?? call.location;
    for (const check of judgement.runtimeFindings) {
      if (!reported(check.rule, options)) continue;
      if (suppressed(lineOf(inputLocation), check.rule)) continue;
      const severity = options.severities?.[check.rule];
      findings.push({
        rule: check.rule,
        severity: severity && severity !== 'off' ? severity : (check.severity as Severity),
        message: `${check.message} (on the tensors of capture ${id})`,
        location: inputLocation,
        related: capture.origin.cell !== undefined ? [{ location: { cell: capture.origin.cell, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } }, message: 'the capture' }] : [],
        source: 'capture',
      });
    }
  }
  findings.sort(compareFindings);
  return { findings, problems };
}

function reported(rule: string, options: AnalysisOptions): boolean {
  if (options.select && !options.select.includes(rule)) return false;
  if (options.ignore?.includes(rule)) return false;
  return options.severities?.[rule] !== 'off';
}

function suppressed(line: string, rule: string): boolean {
  const match = IGNORE_COMMENT.exec(line);
  return match !== null && (match[1] === undefined || match[1].split(',').map((id) => id.trim()).includes(rule));
}

function textIn(text: string, location: SourceLocation): string {
  const lines = text.split('\n');
  const { start, end } = location.range;
  if (start.line === end.line) return (lines[start.line] ?? '').slice(start.character, end.character);
  return [(lines[start.line] ?? '').slice(start.character), ...lines.slice(start.line + 1, end.line), (lines[end.line] ?? '').slice(0, end.character)].join('\n');
}

function compareFindings(a: Finding, b: Finding): number {
  return (
    (a.location.cell ?? -1) - (b.location.cell ?? -1) ||
    a.location.range.start.line - b.location.range.start.line ||
    a.location.range.start.character - b.location.range.start.character ||
    (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0)
  );
}

