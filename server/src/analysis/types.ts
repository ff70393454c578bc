/**
 * The engine's public vocabulary, shared by the CLI, the language server and the panel.
 * Positions are 0-based, columns in UTF-16 code units, ranges end-exclusive (LSP's convention);
 * the CLI converts to the 1-based form of `shared/spec/cli.md` at its edge.
 */

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** A place in a program: `cell` is the index into the notebook's `cells` array (markdown cells count); absent for a `.py` file. */
export interface SourceLocation {
  cell?: number;
  /**
   * Another file of the project (absolute path, forward slashes) when the place is not in the analysed program: where an
   * imported module applied the softmax that reaches a loss here. Absent for the program's own places.
   */
  file?: string;
  range: Range;
}

export interface RelatedInformation {
  location: SourceLocation;
  message: string;
}

export interface TextEdit {
  location: SourceLocation;
  newText: string;
}

export interface Fix {
  title: string;
  edits: TextEdit[];
}

export interface Finding {
  rule: string;
  severity: Severity;
  message: string;
  location: SourceLocation;
  related: RelatedInformation[];
  fix?: Fix;
  /** `capture`: a run-time check on captured tensors found it (no static finding at that call); absent: the static analysis. */
  source?: 'static' | 'capture';
  /** What captured tensors of the finding's loss call say about it (`server/src/captures/confirm.ts`). */
  confirmation?: Confirmation;
}

export type Verdict = 'confirmed' | 'refuted' | 'inconclusive' | 'stale';

/** The verdict of a capture on a finding, with the figures behind it (`shared/spec/cli.md`). */
export interface Confirmation {
  verdict: Verdict;
  /** The capture's id. */
  capture: string;
  /** The loss as configured on the captured tensors; null when PyTorch raises (or the capture is stale). */
  configured: number | null;
  /** The loss as corrected; null where no corrected variant applies. */
  corrected: number | null;
  /** ||d loss/d logits|| as configured over the same as corrected; null where no corrected variant applies. */
  gradientNormRatio: number | null;
  /** The run-time checks that decided. */
  checks: string[];
  /** The verdict in words, with the figures ("confirmed on captured tensors: loss 3.527, on the logits 2.675; ..."). */
  message: string;
  /** Where the capture is: its notebook output cell, or its capture folder's manifest. */
  origin?: CaptureOrigin;
}

/** A saved capture's place: a notebook cell (`cell`) or a file (`path`, absolute). */
export interface CaptureOrigin {
  cell?: number;
  path?: string;
}

/** One unit of source: the whole `.py` file, or one code cell of a notebook. */
export interface SourceCell {
  /** Index into the notebook's `cells` array; absent for a `.py` file. */
  cell?: number;
  text: string;
}

/** What the engine analyses: a file (one unit) or a notebook (its code cells, in order, as one program). */
export interface ProgramSource {
  kind: 'file' | 'notebook';
  units: SourceCell[];
  /**
   * The program's file (absolute; forward slashes or the platform's). With it, and an analyzer that can read the project
   * (`createAnalyzer({ files })`), imports of the project's own modules are followed (`modules.ts`).
   */
  path?: string;
}

export interface AnalysisOptions {
  /** Rule IDs to report (all when absent). */
  select?: readonly string[];
  /** Rule IDs never to report. */
  ignore?: readonly string[];
  /** Per-rule severity overrides; 'off' silences the rule. */
  severities?: Readonly<Record<string, Severity | 'off'>>;
  /** Frameworks to analyse (all when absent). */
  frameworks?: readonly Framework[];
  /** Wall-clock budget for one analysis; past it the analysis stops and says so. */
  timeBudgetMs?: number;
}

export type Framework = 'pytorch' | 'keras' | 'tensorflow' | 'jax';

/** A loss call the analysis recognised: used by hovers and by the notebook panel. */
export interface LossCallSite {
  /** Canonical loss name: cross_entropy | nll_loss | binary_cross_entropy | binary_cross_entropy_with_logits | keras:<name> | optax:<name> | tf:<name>. */
  loss: string;
  framework: Framework;
  /** The whole call expression. */
  location: SourceLocation;
  /** Where the loss object was constructed, for module losses (`criterion = nn.CrossEntropyLoss(...)`). */
  constructorLocation?: SourceLocation;
  /** The input argument expression (where findings on captured tensors are reported). */
  inputLocation?: SourceLocation;
  /** Source text of the input and target argument expressions, as written at the call. */
  inputExpression?: string;
  targetExpression?: string;
  /** Options given at construction or call, as source text: weight, pos_weight, ignore_index, label_smoothing, reduction, from_logits. */
  options: Record<string, string>;
  /** What the analysis knows of the arguments, in words (for the hover). */
  inputFacts: string[];
  targetFacts: string[];
}

export interface AnalysisResult {
  findings: Finding[];
  lossCalls: LossCallSite[];
  /** True when the time budget ran out before the analysis finished; findings are then partial. */
  truncated: boolean;
  /** Units that did not parse cleanly (the rest of the program is still analysed). */
  parseErrors: SourceLocation[];
  /** The project files (absolute, forward slashes) whose top level this analysis evaluated: it is stale when one changes. */
  modules?: string[];
  /** What limited the analysis short of a time-budget stop: imports not followed past a bound. */
  notes?: AnalysisNote[];
}

export interface AnalysisNote {
  kind: 'imports-limited';
  message: string;
}

/** One entry of the rule registry (`server/src/rules/index.ts`): the catalogue row, as data. */
export interface RuleInfo {
  id: string;
  severity: Severity;
  /** Catalogue section: scores, targets, configuration, or run-time. */
  category: 'scores' | 'targets' | 'configuration' | 'runtime';
  /** One line: the misuse. */
  description: string;
  /** A short snippet that triggers the rule. */
  example: string;
  /** The preferred fix in words, when the catalogue names one. */
  fix?: string;
}

/**
 * The engine: `createAnalyzer()` in `server/src/analysis/index.ts` loads the parser (async, once) and returns this.
 * `analyze` is synchronous and keeps per-unit caches (parse trees keyed by text), so re-analysing a
 * notebook after one cell changed re-parses only that cell.
 */
export interface Analyzer {
  analyze(source: ProgramSource, options?: AnalysisOptions): AnalysisResult;
}
