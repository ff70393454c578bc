import {
  CodeAction,
  CodeActionKind,
  CodeActionParams,
  Diagnostic,
  OptionalVersionedTextDocumentIdentifier,
  TextDocumentEdit,
  TextEdit as LspTextEdit,
  WorkspaceEdit,
} from 'vscode-languageserver/node';
import type { AnalysisResult, Finding, Position, Range, TextEdit } from '../analysis/types';
import { DIAGNOSTIC_SOURCE, FIX_ALL_CODE_ACTION_KIND } from '../protocol';
import type { ProgramSnapshot } from './documentStore';
import { DiagnosticData, findingFingerprint, toDiagnostic, uriOfLocation } from './diagnostics';

/** A target's analysis together with the snapshot it was computed from. */
export interface AnalysedProgram {
  snapshot: ProgramSnapshot;
  result: AnalysisResult;
}

/** Edits resolved to document URIs. */
interface ResolvedEdit {
  uri: string;
  range: Range;
  newText: string;
}

function comparePositions(a: Position, b: Position): number {
  return a.line !== b.line ? a.line - b.line : a.character - b.character;
}

function sameEdit(a: ResolvedEdit, b: ResolvedEdit): boolean {
  return (
    a.uri === b.uri &&
    a.newText === b.newText &&
    comparePositions(a.range.start, b.range.start) === 0 &&
    comparePositions(a.range.end, b.range.end) === 0
  );
}

/** Two edits conflict when they touch the same text, or insert at the same place (their order would be arbitrary). */
function conflicting(a: ResolvedEdit, b: ResolvedEdit): boolean {
  if (a.uri !== b.uri) return false;
  const aEmpty = comparePositions(a.range.start, a.range.end) === 0;
  const bEmpty = comparePositions(b.range.start, b.range.end) === 0;
  if (aEmpty && bEmpty) return comparePositions(a.range.start, b.range.start) === 0;
  return comparePositions(a.range.start, b.range.end) < 0 && comparePositions(b.range.start, a.range.end) < 0;
}

function resolveEdits(snapshot: ProgramSnapshot, edits: readonly TextEdit[]): ResolvedEdit[] | undefined {
  const resolved: ResolvedEdit[] = [];
  for (const edit of edits) {
    const uri = uriOfLocation(snapshot, edit.location);
    if (!uri) return undefined;
    resolved.push({ uri, range: edit.location.range, newText: edit.newText });
  }
  return resolved;
}

/** One `TextDocumentEdit` per document, versioned so that a client whose text moved on rejects it. */
function workspaceEdit(snapshot: ProgramSnapshot, edits: readonly ResolvedEdit[]): WorkspaceEdit {
  const byUri = new Map<string, LspTextEdit[]>();
  for (const edit of edits) {
    const list = byUri.get(edit.uri) ?? [];
    list.push(LspTextEdit.replace(edit.range, edit.newText));
    byUri.set(edit.uri, list);
  }
  const documentChanges = [...byUri].map(([uri, textEdits]) =>
    TextDocumentEdit.create(OptionalVersionedTextDocumentIdentifier.create(uri, snapshot.documents.get(uri)?.version ?? null), textEdits),
  );
  return { documentChanges };
}

/** Whether the client's `only` filter admits a kind (kinds are hierarchical: `source` admits `source.fixAll.lossLens`). */
function admitted(only: readonly string[] | undefined, kind: string): boolean {
  return only === undefined || only.some((wanted) => kind === wanted || kind.startsWith(`${wanted}.`));
}

const IGNORE_COMMENT = /#\s*loss-lens:\s*ignore\[([^\]]*)\]/;

function lineText(snapshot: ProgramSnapshot, uri: string, line: number): string | undefined {
  const document = snapshot.documents.get(uri);
  if (!document || line >= document.lineCount) return undefined;
  return document.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } }).replace(/\r?\n$/, '');
}

/** "Ignore this rule on this line": extends an existing `# loss-lens: ignore[...]` or appends one. */
function ignoreLineEdit(snapshot: ProgramSnapshot, uri: string, finding: Finding): ResolvedEdit | undefined {
  const line = finding.location.range.start.line;
  const text = lineText(snapshot, uri, line);
  // A comment after a line continuation would break the statement.
  if (text === undefined || text.trimEnd().endsWith('\\')) return undefined;
  const existing = IGNORE_COMMENT.exec(text);
  if (existing) {
    const ids = existing[1].split(',').map((id) => id.trim()).filter((id) => id.length > 0);
    if (ids.includes(finding.rule)) return undefined;
    const listStart = existing.index + existing[0].indexOf('[') + 1;
    const listEnd = listStart + existing[1].length;
    return {
      uri,
      range: { start: { line, character: listStart }, end: { line, character: listEnd } },
      newText: [...ids, finding.rule].join(', '),
    };
  }
  const end = { line, character: text.length };
  const separator = text.trim().length === 0 ? '' : '  ';
  return { uri, range: { start: end, end }, newText: `${separator}# loss-lens: ignore[${finding.rule}]` };
}

/**
 * The edits of the fixes that captured tensors refute (the finding's `confirmation` is `refuted`: the captured input is
 * raw logits after all). Such a fix would edit working code: fix-all leaves it out, with any fix that edits the
 * same text, and its quick fix is not preferred.
 */
function refutedEdits(program: AnalysedProgram): ResolvedEdit[] {
  const refuted: ResolvedEdit[] = [];
  for (const finding of program.result.findings) {
    if (!finding.fix || finding.confirmation?.verdict !== 'refuted') continue;
    refuted.push(...(resolveEdits(program.snapshot, finding.fix.edits) ?? []));
  }
  return refuted;
}

function touchesAny(edits: readonly ResolvedEdit[], others: readonly ResolvedEdit[]): boolean {
  return edits.some((edit) => others.some((other) => sameEdit(edit, other) || conflicting(edit, other)));
}

/**
 * Every preferred fix of the program that can be applied together: fixes are taken in finding order
 * and one whose edits conflict with an already chosen edit is left for a later run (identical edits,
 * such as one softmax removal that fixes two findings, are merged). Fixes that captures refute are left out.
 */
export function fixAllEdits(program: AnalysedProgram): ResolvedEdit[] {
  const refuted = refutedEdits(program);
  const chosen: ResolvedEdit[] = [];
  for (const finding of program.result.findings) {
    if (!finding.fix) continue;
    const edits = resolveEdits(program.snapshot, finding.fix.edits);
    if (!edits || touchesAny(edits, refuted)) continue;
    const fresh = edits.filter((edit) => !chosen.some((other) => sameEdit(edit, other)));
    if (fresh.some((edit) => chosen.some((other) => conflicting(edit, other)))) continue;
    chosen.push(...fresh);
  }
  return chosen;
}

export function codeActions(
  program: AnalysedProgram,
  params: CodeActionParams,
  ruleDocumentation: (rule: string) => string,
): CodeAction[] {
  const { snapshot, result } = program;
  const uri = params.textDocument.uri;
  const only = params.context.only;
  const actions: CodeAction[] = [];

  const refuted = refutedEdits(program);
  const findingsByFingerprint = new Map<string, Finding>();
  for (const finding of result.findings) {
    const findingUri = uriOfLocation(snapshot, finding.location);
    if (findingUri) findingsByFingerprint.set(findingFingerprint(finding.rule, findingUri, finding.location.range), finding);
  }

  if (admitted(only, CodeActionKind.QuickFix)) {
    for (const diagnostic of params.context.diagnostics) {
      if (diagnostic.source !== DIAGNOSTIC_SOURCE) continue;
      const fingerprint = (diagnostic.data as Partial<DiagnosticData> | undefined)?.fingerprint;
      const finding = fingerprint === undefined ? undefined : findingsByFingerprint.get(fingerprint);
      if (!finding) continue; // stale: the finding is gone or has moved since this diagnostic was published
      const current: Diagnostic = toDiagnostic(finding, uri, snapshot, ruleDocumentation);
      const fixEdits = finding.fix && resolveEdits(snapshot, finding.fix.edits);
      if (finding.fix && fixEdits && fixEdits.length > 0) {
        actions.push({
          title: finding.fix.title,
          kind: CodeActionKind.QuickFix,
          // Offered on demand, but never applied by "auto fix" or fix-on-save when a capture refutes it.
          isPreferred: !touchesAny(fixEdits, refuted),
          diagnostics: [current],
          edit: workspaceEdit(snapshot, fixEdits),
        });
      }
      const ignoreEdit = ignoreLineEdit(snapshot, uri, finding);
      if (ignoreEdit) {
        actions.push({
          title: `Ignore ${finding.rule} on this line`,
          kind: CodeActionKind.QuickFix,
          diagnostics: [current],
          edit: workspaceEdit(snapshot, [ignoreEdit]),
        });
      }
    }
  }

  if (admitted(only, FIX_ALL_CODE_ACTION_KIND)) {
    const edits = fixAllEdits(program);
    if (edits.length > 0) {
      actions.push({
        title: snapshot.kind === 'notebook' ? 'Fix all Loss Lens findings in this notebook' : 'Fix all Loss Lens findings in this file',
        kind: FIX_ALL_CODE_ACTION_KIND,
        edit: workspaceEdit(snapshot, edits),
      });
    }
  }
  return actions;
}
