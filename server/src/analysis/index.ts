import { loadPythonParser } from '../parse/parser';
import * as posix from 'node:path/posix';
import { child, offsetAt, ParseCache, positionAt, rangeOf, textOf, type ParsedText, type PyNode } from '../parse/tree';
import { RULES_IMPLEMENTED } from '../rules/index';
import type { Rule, RuleFinding } from '../rules/rule';
import { Evaluator, type ProgramFacts } from './evaluate';
import { CrossFileFixCheck, ImportIndex } from './cross-file-fixes';
import { ModuleResolver, normalizeFilePath, type ProjectFiles } from './modules';
import { ProjectModules } from './project-modules';
import { isSuppressed } from './suppression';
import type {
  AnalysisOptions,
  AnalysisResult,
  Analyzer,
  Finding,
  Fix,
  LossCallSite,
  ProgramSource,
  Range,
  Severity,
  SourceLocation,
  TextEdit,
} from './types';
import { describeFacts, factsOf, type LossCallFacts, type NodeEdit, type Value } from './values';

/** Default wall-clock budget of one analysis. */
export const DEFAULT_TIME_BUDGET_MS = 2000;

/** The project's files as an analyzer reads them (through the resolver) and which files import what; shareable. */
export interface ProjectSources {
  resolver: ModuleResolver;
  importIndex: ImportIndex;
}

/** How an analyzer reads the project's other files: the sources, and a parse cache for imported modules (may be shared). */
export interface ProjectAccess extends ProjectSources {
  moduleCache: ParseCache;
}

/**
 * The engine's entry: parse (cached per unit text) → evaluate the whole program once (`evaluate.ts`), following imports
 * of the project's own modules when the program has a path and the analyzer can read the project → run every rule on
 * the facts → apply suppression comments and options → findings with related locations and fixes.
 */
export class LossLensAnalyzer implements Analyzer {
  constructor(
    private readonly cache: ParseCache,
    private readonly project?: ProjectAccess,
  ) {}

  /** How many units were actually parsed so far (re-analysis with unchanged cells parses nothing). */
  get parseCount(): number {
    return this.cache.parses;
  }

  analyze(source: ProgramSource, options: AnalysisOptions = {}): AnalysisResult {
    const deadline = Date.now() + (options.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS);
    const units: ParsedText[] = [];
    const cellOf = new Map<ParsedText, number | undefined>();
    const parseErrors: SourceLocation[] = [];
    let truncated = false;
    const unitKind = source.kind === 'notebook' ? 'cell' : 'file';
    for (const unit of source.units) {
      if (Date.now() > deadline) {
        truncated = true;
        break;
      }
      // A file already parsed as another program's imported module is not parsed again.
      let parsed = this.project?.moduleCache.peek(sanitize(unit.text), unitKind) ?? this.cache.get(sanitize(unit.text), unitKind, false, deadline);
      // Two cells with the same text need distinct trees: locations map trees back to cells.
      if (parsed && cellOf.has(parsed)) parsed = this.cache.get(sanitize(unit.text), unitKind, true, deadline);
      if (!parsed) {
        truncated = true;
        break;
      }
      units.push(parsed);
      cellOf.set(parsed, unit.cell);
      if (parsed.hasError) {
        const first = parsed.errorNodes[0];
        parseErrors.push(withCell(unit.cell, first ? rangeOf(first) : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }));
      }
    }
    const modules = this.projectModules(source, new Set(units), deadline);
    const facts = new Evaluator(units, deadline, modules).run();
    truncated ||= facts.truncated;

    const locate = (node: PyNode, start = node.start, end = node.end): SourceLocation => {
      const range = { start: positionAt(node.unit, start), end: positionAt(node.unit, end) };
      const file = modules?.fileOfUnit.get(node.unit);
      return file === undefined ? withCell(cellOf.get(node.unit), range) : { file, range };
    };
    const frameworks = options.frameworks ? new Set(options.frameworks) : undefined;
    const crossFile = modules && new CrossFileFixCheck(modules.context.resolver, this.project!.importIndex, modules.context.file);
    // Edits in an imported module must be safe for its other users too (cross-file-fixes.ts).
    const fixIsSafe = (edits: readonly NodeEdit[]): boolean => {
      const byFile = new Map<string, NodeEdit[]>();
      for (const edit of edits) {
        const file = modules?.fileOfUnit.get(edit.node.unit);
        if (file !== undefined) byFile.set(file, [...(byFile.get(file) ?? []), edit]);
      }
      return [...byFile].every(([file, fileEdits]) => crossFile!.allows(file, fileEdits));
    };
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const rule of RULES_IMPLEMENTED) {
      const id = rule.info.id;
      if (options.select && !options.select.includes(id)) continue;
      if (options.ignore?.includes(id)) continue;
      const severity: Severity | 'off' = options.severities?.[id] ?? rule.info.severity;
      if (severity === 'off') continue;
      try {
        this.runRule(rule, id, severity, facts, locate, frameworks, findings, seen, fixIsSafe);
      } catch {
        // A rule that fails on some input must not take the other rules' findings with it.
        truncated = true;
      }
    }
    findings.sort(compareFindings);
    const describe = (value: Value) => (modules ? [...describeFacts(value), ...provenance(value, modules)] : describeFacts(value));
    const result: AnalysisResult = { findings, lossCalls: toLossCallSites(facts.lossCalls, locate, frameworks, describe), truncated, parseErrors };
    if (modules) {
      result.modules = facts.modules;
      if (facts.importLimits.length > 0) result.notes = facts.importLimits.map((message) => ({ kind: 'imports-limited', message }));
    }
    return result;
  }

  /**
   * Where a finding is reported: where the rule puts it, in the program. A finding inside an imported module belongs
   * to that module's own analysis, unless its cause is in the program and the program's call reached the module
   * (`compute_loss(F.softmax(out, 1), y)` with the loss inside `compute_loss` in losses.py): it is then reported at
   * that call, the one place where the program can be fixed; otherwise (undefined) it is not reported here.
   */
  private reportedPlace(
    finding: RuleFinding,
    facts: ProgramFacts,
    locate: (node: PyNode, start?: number, end?: number) => SourceLocation,
  ): { node: PyNode; location: SourceLocation; message: string } | undefined {
    const location = locate(finding.node);
    if (location.file === undefined) return { node: finding.node, location, message: finding.message };
    const entry = facts.programEntries.get(finding.node);
    const causeInProgram = (finding.related ?? []).some((origin) => locate(origin.node).file === undefined);
    if (!entry || !causeInProgram) return undefined;
    const where = `${posix.basename(location.file)}:${location.range.start.line + 1}`;
    return { node: entry, location: locate(entry), message: `${finding.message} (The loss is applied inside this call, in ${where}.)` };
  }

  /** The table of imported modules for a program that is a file of a project the analyzer can read. */
  private projectModules(source: ProgramSource, ownUnits: ReadonlySet<ParsedText>, deadline: number): ProjectModules | undefined {
    if (!this.project || source.path === undefined) return undefined;
    const { resolver, moduleCache } = this.project;
    const files = resolver.files;
    return new ProjectModules({
      file: normalizeFilePath(source.path),
      resolver,
      parseModule: (file, fresh) => {
        const text = files.readText(file);
        if (text === undefined) return undefined;
        const parsed = moduleCache.get(sanitize(text), 'file', fresh, deadline);
        // A module with the same text as one of the program's units (a file importing itself) needs its own tree.
        return parsed && ownUnits.has(parsed) ? moduleCache.get(sanitize(text), 'file', true, deadline) : parsed;
      },
    });
  }

  private runRule(
    rule: Rule,
    id: string,
    severity: Severity,
    facts: ProgramFacts,
    locate: (node: PyNode, start?: number, end?: number) => SourceLocation,
    frameworks: Set<string> | undefined,
    findings: Finding[],
    seen: Set<string>,
    fixIsSafe: (edits: readonly NodeEdit[]) => boolean,
  ): void {
    rule.check({
      facts,
      report: (finding: RuleFinding) => {
        if (frameworks && !frameworks.has(finding.framework)) return;
        const place = this.reportedPlace(finding, facts, locate);
        if (!place) return;
        const { node, location, message } = place;
        if (isSuppressed(node.unit, location.range.start.line, id)) return;
        const key = `${id}|${location.cell ?? ''}|${location.range.start.line}:${location.range.start.character}|${location.range.end.line}:${location.range.end.character}`;
        if (seen.has(key)) return;
        seen.add(key);
        const relatedNodes = new Set<PyNode>();
        const related = (finding.related ?? []).filter((o) => !relatedNodes.has(o.node) && relatedNodes.add(o.node)).map((o) => ({ location: locate(o.node), message: o.message }));
        if (node !== finding.node) related.push({ location: locate(finding.node), message: 'the loss receives it here' });
        const result: Finding = { rule: id, severity, message, location, related };
        const fix = finding.fix && fixIsSafe(finding.fix.edits) ? toFix(finding.fix.title, finding.fix.edits, locate) : undefined;
        if (fix) result.fix = fix;
        findings.push(result);
      },
    });
  }
}

/** Tree-sitter reads NUL as end of input in some paths; binary bytes are kept as-is otherwise (same length). */
function sanitize(text: string): string {
  return text.includes('\0') ? text.replace(/\0/g, ' ') : text;
}

function withCell(cell: number | undefined, range: Range): SourceLocation {
  return cell === undefined ? { range } : { cell, range };
}

function compareFindings(a: Finding, b: Finding): number {
  return (
    (a.location.cell ?? -1) - (b.location.cell ?? -1) ||
    a.location.range.start.line - b.location.range.start.line ||
    a.location.range.start.character - b.location.range.start.character ||
    a.rule.localeCompare(b.rule)
  );
}

/** Edits of one fix: duplicates dropped; overlapping edits make the fix unsafe, so it is not offered. */
function toFix(title: string, edits: readonly NodeEdit[], locate: (node: PyNode, start: number, end: number) => SourceLocation): Fix | undefined {
  const unique: NodeEdit[] = [];
  for (const edit of edits) {
    if (unique.some((u) => u.node.unit === edit.node.unit && u.start === edit.start && u.end === edit.end && u.newText === edit.newText)) continue;
    if (unique.some((u) => u.node.unit === edit.node.unit && u.start < edit.end && edit.start < u.end)) return undefined;
    unique.push(edit);
  }
  if (unique.length === 0) return undefined;
  const textEdits: TextEdit[] = unique.map((edit) => ({ location: locate(edit.node, edit.start, edit.end), newText: edit.newText }));
  return { title, edits: textEdits };
}

/**
 * Where the facts of a value that came from imported modules were introduced, for the hover: `from Classifier.forward
 * in model.py:11` (the path relative to the analysed program's folder, the line 1-based).
 */
function provenance(value: Value, modules: ProjectModules): string[] {
  const facts = factsOf(value);
  const words = new Set<string>();
  for (const fact of [facts.score, facts.encoding, facts.dtype, facts.trailingOne]) {
    for (const origin of fact?.origins ?? []) {
      const file = modules.fileOfUnit.get(origin.node.unit);
      if (file === undefined) continue;
      const place = `${posix.relative(posix.dirname(modules.context.file), file)}:${positionAt(origin.node.unit, origin.node.start).line + 1}`;
      const where = enclosingDefinition(origin.node);
      words.add(where ? `from ${where} in ${place}` : `from ${place}`);
    }
  }
  return [...words];
}

/** `Classifier.forward`, `make_head`: the function (and class) a node is written in. */
function enclosingDefinition(node: PyNode): string | undefined {
  const names: string[] = [];
  for (let current = node.parent; current; current = current.parent) {
    if (current.type === 'function_definition' || current.type === 'class_definition') {
      const name = child(current, 'name');
      if (name) names.unshift(textOf(name));
    }
  }
  return names.length > 0 ? names.join('.') : undefined;
}

function toLossCallSites(
  sites: LossCallFacts[],
  locate: (node: PyNode) => SourceLocation,
  frameworks: Set<string> | undefined,
  describe: (value: Value) => string[],
): LossCallSite[] {
  // A loss call inside a function is evaluated once per call of the function: keep the most informed evaluation.
  const byCall = new Map<PyNode, LossCallSite>();
  for (const site of sites) {
    if (frameworks && !frameworks.has(site.spec.framework)) continue;
    const location = locate(site.call);
    if (location.file !== undefined) continue;
    const options: Record<string, string> = {};
    for (const [name, argument] of site.options) if (argument.node) options[name] = textOf(argument.node);
    const converted: LossCallSite = {
      loss: site.spec.canonical,
      framework: site.spec.framework,
      location,
      options,
      inputFacts: site.input ? describe(site.input.value) : [],
      targetFacts: site.target ? describe(site.target.value) : [],
    };
    if (site.lossObject && site.style !== 'function') converted.constructorLocation = locate(site.lossObject.node);
    if (site.input?.node) {
      converted.inputExpression = textOf(site.input.node);
      converted.inputLocation = locate(site.input.node);
    }
    if (site.target?.node) converted.targetExpression = textOf(site.target.node);
    const previous = byCall.get(site.call);
    if (!previous || previous.inputFacts.length + previous.targetFacts.length < converted.inputFacts.length + converted.targetFacts.length) byCall.set(site.call, converted);
  }
  return [...byCall.values()];
}

/** Imported modules' parses an analyzer keeps by default: in a project the same few are imported by most files. */
const DEFAULT_MODULE_CACHE_CAPACITY = 128;

/**
 * Loads the parser once per process and returns the analyzer (each analyzer keeps its own parse cache). With
 * `project`, imports of the project's modules are followed; their parses are kept in a second cache of
 * `moduleCacheCapacity` entries, which programs are looked up in too (a file checked after being imported is parsed
 * once) but never added to (memory stays bounded by the modules, however many programs are checked).
 */
export async function createAnalyzer(project?: { files: ProjectFiles; moduleCacheCapacity?: number }): Promise<LossLensAnalyzer> {
  const parser = await loadPythonParser();
  const moduleCache = project && new ParseCache(parser, project.moduleCacheCapacity ?? DEFAULT_MODULE_CACHE_CAPACITY);
  return new LossLensAnalyzer(new ParseCache(parser), project && moduleCache && { resolver: new ModuleResolver(project.files), importIndex: new ImportIndex(), moduleCache });
}

/**
 * Applies edits to one unit's text: ranges in the text's own coordinates, non-overlapping; applied from the end so that
 * earlier offsets stay valid.
 */
export function applyTextEdits(text: string, edits: { range: Range; newText: string }[]): string {
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const unit = { lineStarts, text } as ParsedText;
  const resolved = edits
    .map((edit) => ({ start: offsetAt(unit, edit.range.start), end: offsetAt(unit, edit.range.end), newText: edit.newText }))
    .sort((a, b) => b.start - a.start || b.end - a.end);
  let result = text;
  let limit = Infinity;
  for (const edit of resolved) {
    if (edit.end > limit) throw new Error('overlapping text edits');
    result = result.slice(0, edit.start) + edit.newText + result.slice(edit.end);
    limit = edit.start;
  }
  return result;
}

export type { AnalysisOptions, AnalysisResult, Analyzer, Finding, ProgramSource } from './types';
export type { ProjectFiles } from './modules';
export { ImportIndex } from './cross-file-fixes';
export { ModuleResolver } from './modules';
