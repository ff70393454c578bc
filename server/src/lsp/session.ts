import {
  CodeActionKind,
  Connection,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  DidChangeWatchedFilesParams,
  FileChangeType,
  InitializeParams,
  InitializeResult,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { ImportIndex } from '../analysis/cross-file-fixes';
import { ModuleResolver } from '../analysis/modules';
import type { AnalysisOptions, AnalysisResult } from '../analysis/types';
import { fileURLToPath } from 'node:url';
import type { ComparisonCache, SavedCapture } from '../captures/confirm';
import { capturesFromEditor, capturesOfScript, type CaptureReading, type CapturesFolderCache } from '../captures/read';
import { codeHash } from '../captures/fingerprint';
import { findingsAtCall } from '../captures/verdict';
import {
  CAPTURE_MANIFEST_GLOB,
  CapturesNotification,
  CONFIGURATION_SECTION,
  DocumentLossCall,
  FIX_ALL_CODE_ACTION_KIND,
  LossCallsRequest,
  LossCallsResult,
  LossLensInitializationOptions,
  NotebookCapture,
  StatusNotification,
  StatusParams,
} from '../protocol';
import { AnalyzerFactory, TargetAnalyzers } from './analyzers';
import { resultInFileLines } from './chunks';
import { AnalysedProgram, codeActions } from './codeActions';
import { diagnosticsByUri, uriOfLocation } from './diagnostics';
import { DocumentStore } from './documentStore';
import { lossHover } from './hover';
import { AnalysisScheduler } from './scheduler';
import { parseSettings } from './settings';
import { fileOfUri, WorkspaceFiles } from './workspaceFiles';

const DEFAULT_DEBOUNCE_MS = 150;
/** Past this an analysis stops and reports partial findings, so one pathological file cannot stall the server. */
const ANALYSIS_TIME_BUDGET_MS = 3000;
/** Recomputed captures kept for re-analyses (each holds a few numbers; the tensors are not kept). */
const MAX_CACHED_COMPARISONS = 256;
/** How long to wait for the client's answer to `workspace/configuration` before going on with what is known. */
const SETTINGS_PULL_TIMEOUT_MS = 5000;

export interface SessionOptions {
  /** Loads the engine (once, during `initialize`) and returns how to make an analyzer with a given parse-cache capacity. */
  loadEngine: () => Promise<AnalyzerFactory>;
  /** The `codeDescription.href` of a rule. */
  ruleDocumentation: (rule: string) => string;
}

interface TargetState extends AnalysedProgram {
  settingsGeneration: number;
  /** The static analysis, before captures confirmed its findings (`result` then holds the confirmed ones). */
  staticResult: AnalysisResult;
  /** What each URI of this target last received (serialised), for URIs whose last list was not empty. */
  published: Map<string, string>;
  /** The project modules the analysis read (files): a change to one makes this analysis stale. */
  modules: ReadonlySet<string>;
}

/** A capture's manifest (`.loss-lens/captures/<id>/manifest.json`), as `CAPTURE_MANIFEST_GLOB` watches. */
function isCaptureManifest(uri: string): boolean {
  return /\/\.loss-lens\/captures\/[^/]+\/manifest\.json$/.test(uri);
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((item) => b.has(item));
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/**
 * One language-server session: wires the document store, the scheduler, the engine and the providers
 * onto a connection. Every handler is guarded: an exception is logged with `connection.console.error`
 * and answered with an empty result, never allowed to end the process.
 */
export class LossLensSession {
  private readonly store = new DocumentStore();
  private readonly states = new Map<string, TargetState>();
  /** The project's files for imports: open documents over the disk. */
  private readonly files = new WorkspaceFiles(this.store.textDocuments);
  /** Which workspace files import what, for the safety of fixes that edit another file. */
  private readonly importIndex = new ImportIndex();
  private readonly resolver = new ModuleResolver(this.files);
  /** Targets whose text did not change but a module they import did: their latest analysis is not current. */
  private readonly staleTargets = new Set<string>();
  private analyzers: TargetAnalyzers | undefined;
  private readonly scheduler = new AnalysisScheduler(DEFAULT_DEBOUNCE_MS, (key) => this.analyzeTarget(key), (key, error) => this.analysisFailed(key, error));
  private analysisOptions: AnalysisOptions = {};
  private settingsGeneration = 0;
  private initializationOptions: LossLensInitializationOptions = {};
  private canPullConfiguration = false;
  private canRegisterConfigurationChange = false;
  private canRegisterFileWatch = false;
  /** The captures each open notebook holds, as its editor last sent them. */
  private readonly notebookCaptures = new Map<string, NotebookCapture[]>();
  /** Recomputed captures (by capture id and the findings at the call), shared by all targets. */
  private comparisons: ComparisonCache = new Map();
  /** Scripts' capture folders as read; dropped when the editor reports a change there (kept only when it can). */
  private captureFolders: CapturesFolderCache = new Map();
  private readonly captureWarnings = new Set<string>();
  /** Confirmations under way, by target: code actions wait for them (a fix the captures refute must not be preferred). */
  private readonly confirming = new Map<string, Promise<void>>();

  constructor(
    private readonly connection: Connection,
    private readonly options: SessionOptions,
  ) {}

  start(): void {
    const { connection } = this;
    this.store.listen(connection);
    this.store.onDidChange((key) => this.scheduleAfterChange(key));
    this.store.onDidClose((key) => this.targetClosed(key));
    connection.onDidChangeWatchedFiles((params) => this.guard('didChangeWatchedFiles', () => this.watchedFilesChanged(params), undefined));

    connection.onInitialize((params) => this.initialize(params));
    connection.onInitialized(() => void this.guardAsync('initialized', () => this.initialized(), undefined));
    connection.onDidChangeConfiguration((params) =>
      void this.guardAsync('didChangeConfiguration', () => this.configurationChanged(params.settings), undefined),
    );
    connection.onCodeAction((params) =>
      this.guardAsync('codeAction', async () => {
        const program = await this.confirmedProgram(params.textDocument.uri);
        return program ? codeActions(program, params, this.options.ruleDocumentation) : [];
      }, []),
    );
    connection.onHover((params) =>
      this.guard('hover', () => {
        const program = this.currentProgram(params.textDocument.uri);
        return program ? lossHover(program, params.textDocument.uri, params.position) : null;
      }, null),
    );
    connection.onRequest(LossCallsRequest, (params) => this.guard('lossLens/lossCalls', () => this.lossCalls(params.uri), null));
    connection.onNotification(CapturesNotification, (params) =>
      this.guard('lossLens/captures', () => {
        this.notebookCaptures.set(params.uri, params.captures);
        this.capturesChanged((key) => key === params.uri);
      }, undefined),
    );
    connection.listen();
  }

  private async initialize(params: InitializeParams): Promise<InitializeResult> {
    const options = (params.initializationOptions ?? {}) as LossLensInitializationOptions;
    this.initializationOptions = options;
    if (typeof options.debounceMs === 'number' && options.debounceMs >= 0) {
      this.scheduler.debounceMs = options.debounceMs;
    }
    this.canPullConfiguration = params.capabilities.workspace?.configuration === true;
    this.canRegisterConfigurationChange = params.capabilities.workspace?.didChangeConfiguration?.dynamicRegistration === true;
    this.canRegisterFileWatch = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    try {
      this.analyzers = new TargetAnalyzers(await this.options.loadEngine(), { resolver: this.resolver, importIndex: this.importIndex });
    } catch (error) {
      // Without the engine the server still answers (with no findings) so the editor is not left hanging.
      this.connection.console.error(`Loss Lens: the analysis engine failed to load: ${errorText(error)}`);
    }
    const pythonCells = [{ language: 'python' }];
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        notebookDocumentSync: {
          notebookSelector: [
            { notebook: { notebookType: 'jupyter-notebook' }, cells: pythonCells },
            { notebook: { notebookType: 'interactive' }, cells: pythonCells },
          ],
        },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_CODE_ACTION_KIND] },
        hoverProvider: true,
      },
      serverInfo: { name: 'loss-lens' },
    };
  }

  private async initialized(): Promise<void> {
    try {
      await this.loadSettings(this.initializationOptions.settings);
    } finally {
      // Documents opened meanwhile waited for the settings (never longer than the pull may take); one
      // already analysed on demand (a hover) was analysed with the defaults: analyse it again.
      for (const key of this.store.keys()) this.scheduler.schedule(key, true);
      this.scheduler.resume();
    }
    if (this.canRegisterConfigurationChange) {
      await this.connection.client.register(DidChangeConfigurationNotification.type, { section: CONFIGURATION_SECTION });
    }
    if (this.canRegisterFileWatch) {
      // A script's captures are written by `loss_lens.watch` while it runs: confirm again when one appears.
      await this.connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: CAPTURE_MANIFEST_GLOB }] });
    }
  }

  /** The `lossLens` section from the client, or `fallback` when it cannot be pulled or does not answer in time. */
  private async pullSettings(fallback: unknown): Promise<unknown> {
    if (!this.canPullConfiguration) return fallback;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), SETTINGS_PULL_TIMEOUT_MS)));
    try {
      const answer = await Promise.race([this.connection.workspace.getConfiguration(CONFIGURATION_SECTION), timeout]);
      if (answer !== 'timeout') return answer;
      this.connection.console.warn(`Loss Lens: the client did not answer workspace/configuration in ${SETTINGS_PULL_TIMEOUT_MS} ms; using defaults`);
      return fallback;
    } finally {
      clearTimeout(timer);
    }
  }

  private async loadSettings(pushed: unknown): Promise<void> {
    const section = await this.pullSettings(pushed);
    const { options, problems } = parseSettings(section);
    for (const problem of problems) this.connection.console.warn(`Loss Lens: ${problem}`);
    this.analysisOptions = { ...options, timeBudgetMs: ANALYSIS_TIME_BUDGET_MS };
    this.settingsGeneration++;
  }

  private async configurationChanged(settings: unknown): Promise<void> {
    const pushed = (settings as Record<string, unknown> | null | undefined)?.[CONFIGURATION_SECTION];
    await this.loadSettings(pushed ?? this.initializationOptions.settings);
    for (const key of this.store.keys()) this.scheduler.schedule(key, true);
  }

  private scheduleAfterChange(key: string): void {
    // A newly opened target is analysed at once; edits wait for the typing to pause.
    this.scheduler.schedule(key, !this.states.has(key));
    // An open module's text replaces the disk's for the programs that import it (opened, edited, closed alike).
    const file = fileOfUri(key);
    if (file !== undefined) this.importIndex.forget(file);
    this.scheduleDependents(file);
  }

  /** Re-analyses the open programs that read `file` as an imported module (after their debounce, like an edit). */
  private scheduleDependents(file: string | undefined): void {
    if (file === undefined) return;
    for (const [key, state] of this.states) {
      if (!state.modules.has(file)) continue;
      this.staleTargets.add(key);
      this.scheduler.schedule(key);
    }
  }

  /** Python modules (the client's `**\/*.py` watcher) and capture manifests (registered in `initialized`) changed on disk. */
  private watchedFilesChanged(params: DidChangeWatchedFilesParams): void {
    if (params.changes.some((change) => isCaptureManifest(change.uri))) {
      this.captureFolders = new Map();
      this.capturesChanged((key) => this.states.get(key)?.snapshot.kind === 'file');
    }
    let resolutionMayChange = false;
    for (const change of params.changes) {
      const file = change.uri.endsWith('.py') ? fileOfUri(change.uri) : undefined;
      if (file === undefined) continue;
      if (change.type === FileChangeType.Changed) {
        this.files.changed(file);
        this.importIndex.forget(file);
        this.scheduleDependents(file);
      } else {
        this.files.createdOrDeleted(file);
        this.importIndex.clear();
        this.resolver.clear();
        resolutionMayChange = true;
      }
    }
    // A created, deleted or renamed file can change what any import resolves to: every open program is analysed again.
    if (!resolutionMayChange) return;
    for (const key of this.store.keys()) {
      this.staleTargets.add(key);
      this.scheduler.schedule(key);
    }
  }

  private targetClosed(key: string): void {
    this.scheduler.cancel(key);
    const state = this.states.get(key);
    this.states.delete(key);
    this.staleTargets.delete(key);
    this.analyzers?.delete(key);
    this.notebookCaptures.delete(key);
    this.files.documentClosed(key);
    this.files.retainOnly(this.neededModules());
    // Closed, the module's text is the disk's again for the programs that import it.
    const file = fileOfUri(key);
    if (file !== undefined) this.importIndex.forget(file);
    this.scheduleDependents(file);
    for (const uri of state?.published.keys() ?? []) this.connection.sendDiagnostics({ uri, diagnostics: [] });
    this.sendStatus({ state: 'ready', uri: key, findings: 0 });
  }

  /** Analyses a target's current text unless its latest analysis is already current, then publishes. */
  private analyzeTarget(key: string): TargetState | undefined {
    const snapshot = this.store.snapshot(key);
    if (!snapshot) return undefined;
    const previous = this.states.get(key);
    const current = previous && previous.snapshot.generation === snapshot.generation && previous.settingsGeneration === this.settingsGeneration;
    if (current && !this.staleTargets.has(key)) return previous;
    this.staleTargets.delete(key);
    this.sendStatus({ state: 'analysing', uri: key });
    const started = performance.now();
    let result: AnalysisResult;
    let failure: string | undefined;
    try {
      if (!this.analyzers) throw new Error('the analysis engine is not loaded');
      result = this.analyzers.for(key, snapshot.source.units.length).analyze(snapshot.source, this.analysisOptions);
      if (snapshot.chunkStartLines) result = resultInFileLines(result, snapshot.chunkStartLines);
    } catch (error) {
      failure = errorText(error);
      this.connection.console.error(`Loss Lens: analysis of ${key} failed: ${failure}`);
      result = { findings: [], lossCalls: [], truncated: false, parseErrors: [] };
    }
    const state: TargetState = { snapshot, result, staticResult: result, settingsGeneration: this.settingsGeneration, published: new Map(), modules: new Set(result.modules) };
    this.publish(state, previous);
    this.states.set(key, state);
    if (previous && !sameSet(previous.modules, state.modules)) this.files.retainOnly(this.neededModules());
    this.confirmWithCaptures(key, state);
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    if (failure !== undefined) {
      this.sendStatus({ state: 'error', uri: key, version: snapshot.version, findings: 0, durationMs, message: failure.split('\n')[0] });
    } else {
      this.sendStatus({
        state: 'ready',
        uri: key,
        version: snapshot.version,
        findings: result.findings.length,
        durationMs,
        message: result.truncated ? `analysis stopped after ${ANALYSIS_TIME_BUDGET_MS} ms; findings are partial` : undefined,
      });
    }
    return state;
  }

  /**
   * Publishes per URI, skipping URIs whose diagnostics are unchanged (an edit in one cell of a large
   * notebook then sends only what it changed); URIs that had findings and have none now (fixed, or
   * their cell removed) get an empty list.
   */
  private publish(state: TargetState, previous: TargetState | undefined): void {
    const byUri = diagnosticsByUri(state.result.findings, state.snapshot, this.options.ruleDocumentation);
    for (const [uri, diagnostics] of byUri) {
      const serialised = JSON.stringify(diagnostics);
      state.published.set(uri, serialised);
      // A document object the client closed and opened again (a moved cell) may have lost its list on the client side.
      const sameDocument = previous?.snapshot.documents.get(uri) === state.snapshot.documents.get(uri);
      if (sameDocument && previous?.published.get(uri) === serialised) continue;
      this.connection.sendDiagnostics({ uri, version: state.snapshot.documents.get(uri)?.version, diagnostics });
    }
    for (const uri of previous?.published.keys() ?? []) {
      if (!byUri.has(uri)) this.connection.sendDiagnostics({ uri, diagnostics: [] });
    }
  }

  /** Captures of some targets changed: confirm their latest static analysis again. */
  private capturesChanged(affected: (key: string) => boolean): void {
    // Capture ids are unique, so recomputed captures stay valid; only their number is bounded.
    if (this.comparisons.size > MAX_CACHED_COMPARISONS) this.comparisons = new Map();
    for (const [key, state] of this.states) if (affected(key)) this.confirmWithCaptures(key, state);
  }

  /** The target's captures: those its editor sent (notebooks), or the capture folders that name it (scripts on disk). */
  private capturesOf(snapshot: TargetState['snapshot']): CaptureReading {
    if (snapshot.kind === 'notebook') {
      const cellIndex = new Map(snapshot.cellUris.map((uri, index) => [uri, index]));
      return capturesFromEditor(this.notebookCaptures.get(snapshot.key) ?? [], (uri) => cellIndex.get(uri));
    }
    if (!snapshot.key.startsWith('file:')) return { captures: [], problems: [] };
    // Without change notifications from the editor, read the folders at every analysis.
    return capturesOfScript(fileURLToPath(snapshot.key), process.env, this.canRegisterFileWatch ? this.captureFolders : new Map());
  }

  /**
   * Confirms the findings of a target's static analysis with its captures, then publishes them again (the static ones
   * went out first: recomputing a capture can take a while). Dropped when the target changed meanwhile.
   */
  private confirmWithCaptures(key: string, state: TargetState): void {
    const reading = this.capturesOf(state.snapshot);
    for (const problem of reading.problems) this.warnOnce(problem);
    if (reading.captures.length === 0 && state.result === state.staticResult) return;
    const pending = this.guardAsync('confirmation', () => this.confirm(key, state, reading.captures), undefined);
    this.confirming.set(key, pending);
    void pending.then(() => {
      if (this.confirming.get(key) === pending) this.confirming.delete(key);
    });
  }

  private async confirm(key: string, state: TargetState, captures: SavedCapture[]): Promise<void> {
    // Loaded on first use: it brings the loss engine, which a server without captures never needs.
    const { confirmFindings } = await import('../captures/confirm.js');
    const { snapshot, staticResult } = state;
    // A large file is analysed in chunks; captures count lines in the whole file.
    const program = snapshot.kind === 'file' ? { kind: 'file' as const, units: [{ text: snapshot.documents.get(snapshot.key)?.getText() ?? '' }] } : snapshot.source;
    const outcome = await confirmFindings(program, staticResult, captures, this.analysisOptions, this.comparisons, (file) => this.files.readText(file));
    for (const problem of outcome.problems) this.warnOnce(`capture ${problem.capture} could not be recomputed: ${problem.message}`);
    const current = this.states.get(key);
    if (current?.snapshot.generation !== snapshot.generation || current.staticResult !== staticResult) return;
    const confirmed: TargetState = { ...current, result: { ...staticResult, findings: outcome.findings }, published: new Map() };
    this.publish(confirmed, current);
    this.states.set(key, confirmed);
    this.sendStatus({ state: 'ready', uri: key, version: snapshot.version, findings: outcome.findings.length });
  }

  /** Logs a capture problem the first time only: every re-analysis meets it again. */
  private warnOnce(problem: string): void {
    if (this.captureWarnings.has(problem)) return;
    this.captureWarnings.add(problem);
    this.connection.console.warn(`Loss Lens: ${problem}`);
  }

  /** Every module some open program imports: the texts worth keeping. */
  private neededModules(): Set<string> {
    const needed = new Set<string>();
    for (const state of this.states.values()) for (const file of state.modules) needed.add(file);
    return needed;
  }

  private analysisFailed(key: string, error: unknown): void {
    this.connection.console.error(`Loss Lens: analysis of ${key} failed: ${errorText(error)}`);
  }

  /**
   * The target's current analysis once its captures confirmed it: right after an edit (fix-on-save) the static
   * findings alone would offer the fix of a finding a capture refutes.
   */
  private async confirmedProgram(uri: string): Promise<TargetState | undefined> {
    const key = this.store.targetOf(uri);
    const state = this.currentProgram(uri);
    if (key === undefined || !state) return state;
    for (let pending = this.confirming.get(key); pending; pending = this.confirming.get(key)) await pending;
    return this.states.get(key);
  }

  /** The analysis of the current text of the target that holds `uri`, computed now if the latest one is stale. */
  private currentProgram(uri: string): TargetState | undefined {
    const key = this.store.targetOf(uri);
    if (key === undefined) return undefined;
    const state = this.analyzeTarget(key);
    // Analysed just now: the pending debounced run would find nothing new.
    this.scheduler.cancel(key);
    return state;
  }

  private lossCalls(uri: string): LossCallsResult | null {
    const state = this.currentProgram(uri);
    if (!state) return null;
    const { snapshot, result, staticResult } = state;
    const calls: DocumentLossCall[] = [];
    for (const call of result.lossCalls) {
      const callUri = uriOfLocation(snapshot, call.location);
      if (!callUri) continue;
      const constructorUri = call.constructorLocation && uriOfLocation(snapshot, call.constructorLocation);
      const findings = [...new Set(findingsAtCall(staticResult.findings, call).map((finding) => finding.rule))].sort();
      calls.push({ ...call, uri: callUri, ...(constructorUri ? { constructorUri } : {}), findings });
    }
    const moduleHashes = (staticResult.modules ?? []).map((file) => {
      const text = this.files.readText(file);
      return text === undefined ? '' : codeHash(text) ?? null;
    });
    return { uri: snapshot.key, kind: snapshot.kind, version: snapshot.version, calls, truncated: result.truncated, moduleHashes };
  }

  private sendStatus(status: Omit<StatusParams, 'totalFindings'>): void {
    let totalFindings = 0;
    for (const state of this.states.values()) totalFindings += state.result.findings.length;
    void this.connection.sendNotification(StatusNotification, { ...status, totalFindings });
  }

  private guard<T>(name: string, handler: () => T, fallback: T): T {
    try {
      return handler();
    } catch (error) {
      this.connection.console.error(`Loss Lens: ${name} failed: ${errorText(error)}`);
      return fallback;
    }
  }

  private async guardAsync<T>(name: string, handler: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await handler();
    } catch (error) {
      this.connection.console.error(`Loss Lens: ${name} failed: ${errorText(error)}`);
      return fallback;
    }
  }
}
