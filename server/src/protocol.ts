/**
 * The Loss Lens language server's custom protocol, shared by the server and the VS Code client.
 *
 * Everything here is plain LSP/JSON-RPC: any editor can use these messages, and an editor that
 * ignores them still gets diagnostics, code actions and hovers through the standard protocol.
 *
 * Settings (configuration section `lossLens`, pulled with `workspace/configuration` at start-up and
 * on every `workspace/didChangeConfiguration`; changes apply live to all open documents):
 *
 * - `lossLens.rules`: object, rule id → `"error" | "warning" | "information" | "hint" | "off"`.
 *   Overrides the catalogue severity of that rule; `"off"` silences it. Unknown ids are ignored.
 * - `lossLens.frameworks`: array of `"pytorch" | "keras" | "tensorflow" | "jax"`: the frameworks
 *   whose loss calls are analysed. Absent or empty: all of them.
 * - `lossLens.trace.server`: `"off" | "messages" | "verbose"`: handled by the client (traces the
 *   LSP traffic in its output channel); the server does not read it.
 *
 * Initialization options (`initialize` → `initializationOptions`, all optional): see
 * {@link LossLensInitializationOptions}.
 */
import type { Framework, LossCallSite, Severity } from './analysis/types';
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';

/** The configuration section the server pulls. */
export const CONFIGURATION_SECTION = 'lossLens';

/** `lossLens.rules` values. */
export type RuleSetting = Severity | 'off';

/** `lossLens.trace.server` values. */
export type TraceSetting = 'off' | 'messages' | 'verbose';

/** The `lossLens` configuration section as the server reads it. */
export interface LossLensSettings {
  rules?: Record<string, RuleSetting>;
  frameworks?: Framework[];
  trace?: { server?: TraceSetting };
}

/** `initializationOptions` the server understands. */
export interface LossLensInitializationOptions {
  /** Delay between an edit and the re-analysis it triggers, in milliseconds (default 150; 0 analyses on the next tick). */
  debounceMs?: number;
  /** Settings to use when the client cannot answer `workspace/configuration`. */
  settings?: LossLensSettings;
}

/** The code action kind of "apply every preferred Loss Lens fix in this file or notebook". */
export const FIX_ALL_CODE_ACTION_KIND = 'source.fixAll.lossLens';

/** `source` of every diagnostic the server publishes. */
export const DIAGNOSTIC_SOURCE = 'loss-lens';

/** A recognised loss call, with the document URIs of its locations (a notebook cell's URI for a notebook). */
export interface DocumentLossCall extends LossCallSite {
  /** The text document or notebook cell that holds `location`. */
  uri: string;
  /** The text document or notebook cell that holds `constructorLocation`, when there is one. */
  constructorUri?: string;
  /**
   * The rule IDs of the static findings at this call or its constructor, sorted and distinct: what a capture of the
   * call confirms or refutes (`server/src/captures/verdict.ts`), before captures changed any (capture-sourced ones
   * are not among them).
   */
  findings: string[];
}

export interface LossCallsParams {
  /** A text document URI, a notebook document URI, or the URI of one of a notebook's cells (the whole notebook is answered). */
  uri: string;
}

export interface LossCallsResult {
  /** The text document or notebook the calls belong to. */
  uri: string;
  kind: 'file' | 'notebook';
  /** The document's (or notebook's) version that was analysed. */
  version: number;
  calls: DocumentLossCall[];
  /** True when the analysis ran out of time and `calls` may be partial. */
  truncated: boolean;
  /**
   * `codeHash` of each project module the analysis followed from this program, as the server reads it now ('' for
   * one it cannot read, null for one that holds no code): the module pieces of a capture's fingerprint, so that the
   * panel judges staleness as the diagnostics do (a softmax removed from `forward` in `model.py` makes a notebook's
   * capture stale).
   */
  moduleHashes: (string | null)[];
}

/**
 * `lossLens/lossCalls`: the loss calls of an open document or notebook, for the notebook panel.
 * Answers from the latest analysis of the current version (analysing first if needed);
 * `null` when the URI is not an open Python document or notebook.
 */
export const LossCallsRequest = new RequestType<LossCallsParams, LossCallsResult | null, void>('lossLens/lossCalls');

export type ServerState = 'analysing' | 'ready' | 'error';

export interface StatusParams {
  state: ServerState;
  /** The text document or notebook this status is about (absent for server-wide states). */
  uri?: string;
  /** The document's (or notebook's) version that was analysed, with state `ready`. */
  version?: number;
  /** Findings in that document or notebook, with state `ready`. */
  findings?: number;
  /** Findings across all open documents and notebooks. */
  totalFindings: number;
  /** How long the analysis took, in milliseconds, with state `ready`. */
  durationMs?: number;
  /** What went wrong, with state `error`; a note (e.g. "analysis truncated") otherwise. */
  message?: string;
}

/**
 * `lossLens/status` (server → client): sent when an analysis starts and when its diagnostics have been
 * published (`ready`), or when it failed (`error`). For the status bar; tests and benchmarks use
 * `ready` as "the diagnostics of this version are out".
 */
export const StatusNotification = new NotificationType<StatusParams>('lossLens/status');

/** A capture saved in a notebook: the record of a Loss Lens output (tensors inline), or of a kernel capture's folder. */
export interface NotebookCapture {
  /** Index of the cell whose output holds it, or whose call it inspected, in the notebook's cells (markdown cells count). */
  cell: number;
  /** That cell's document URI: the server numbers the cells it is sent (Python cells only, for VS Code), and maps by it. */
  cellUri?: string;
  /** The capture record as the output or the folder's `manifest.json` holds it (validated by the server). */
  record: unknown;
  /** The capture folder, for a record whose tensors are files there (kernel captures). */
  folder?: string;
}

export interface CapturesParams {
  /** The notebook document's URI. */
  uri: string;
  /** Every capture the notebook holds now (replaces what was sent before). */
  captures: NotebookCapture[];
}

/**
 * `lossLens/captures` (client → server): the captures of an open notebook, sent when it opens and whenever its
 * capture outputs change. LSP does not carry cell outputs; without this the server confirms only scripts' findings
 * (from `.loss-lens/captures/` folders, which it watches through `workspace/didChangeWatchedFiles`).
 */
export const CapturesNotification = new NotificationType<CapturesParams>('lossLens/captures');

/** The files whose changes make the server read a script's captures again. */
export const CAPTURE_MANIFEST_GLOB = '**/.loss-lens/captures/*/manifest.json';
