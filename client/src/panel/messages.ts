/**
 * Every message between the extension host and the panel's webview, typed `{ type, ... }`, with the
 * validators each side runs on what it receives (a webview is untrusted content: the host acts only on
 * messages that pass `parseWebviewMessage`). Browser-safe.
 */
import { parseCaptureRecord, TENSOR_ROLES, type CaptureRecord, type TensorRole } from '../capture/record';
import type { AnalysisHistograms, CallPairing, CaptureAnalysis } from './webview/compute';

/** A loss call of the notebook, as the panel lists it. */
export interface PanelLossCall {
  /** Stable within one `show` message: `<cell>:<line>:<character>`. */
  id: string;
  loss: string;
  cell: number;
  line: number;
  /** The call's source text. */
  text: string;
  /** The text of the line where the call starts, trimmed (pairs `loss_lens.watch` captures). */
  lineText?: string;
  inputExpression?: string;
  targetExpression?: string;
  options: Record<string, string>;
  /**
   * Rule IDs of the static findings at this call or its constructor (the language server's `lossLens/lossCalls`),
   * what a capture of the call confirms or refutes.
   */
  findings: string[];
  /** Whether "Insert into code" can edit a constructor or call for this loss. */
  editable: boolean;
}

/** A capture with the loss call it belongs to (when known) and the bytes of the tensors the record keeps in files. */
export interface PanelCapture {
  record: CaptureRecord;
  callId?: string;
  /** How it was paired with that call (`server/src/captures/match.ts`): the call changed since (stale), or it may be of another call of its loss (not certain). */
  stale?: boolean;
  certain?: boolean;
  /** Index of the cell whose output holds it (helper captures) or whose call it inspected (kernel captures). */
  cell?: number;
  /** `.npy` bytes of folder tensors (kernel captures); inline tensors travel inside `record`. */
  files?: Partial<Record<TensorRole, Uint8Array>>;
  /**
   * The bytes are not in this message (`transfer.ts`): the record holds each tensor's dtype and shape and names a
   * file, and the webview asks for the bytes with `requestTensors` when it computes itself.
   */
  tensorsOnRequest?: boolean;
}

/** What a capture's verdicts need from its pairing; undefined for a capture paired with no call (it has no verdicts). */
export function pairingOf(capture: PanelCapture): CallPairing | undefined {
  return capture.callId === undefined ? undefined : { match: { stale: capture.stale === true, certain: capture.certain !== false } };
}

/**
 * An analysis the extension host ran for the webview: everything but the tensors (the webview has them) and the
 * per-element arrays (batch-sized), whose plots' bins travel instead.
 */
export type HostAnalysis = Omit<CaptureAnalysis, 'request' | 'elementLosses' | 'trueClassProbability'> & { histograms: AnalysisHistograms; threads?: number };

export type HostMessage =
  | {
      type: 'show';
      notebook: { uri: string; name: string } | null;
      calls: PanelLossCall[];
      captures: PanelCapture[];
      maxElements: number;
      /** Why the list may be incomplete (no language server, analysis truncated...). */
      notice?: string;
      /** The host answers `analyse` messages (the extension host does; absent means no). */
      hostCompute?: boolean;
    }
  | { type: 'analysis'; requestId: number; analysis?: HostAnalysis; note?: string; error?: string }
  /** The answer to `requestTensors`: `.npy` bytes per tensor (input and target cut to their first rows past the asked limit, and `note` says so). */
  | { type: 'tensors'; requestId: number; files?: Partial<Record<TensorRole, Uint8Array>>; note?: string; error?: string }
  | { type: 'focus'; captureId: string }
  | { type: 'status'; level: 'info' | 'error'; message: string };

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'insertCode'; callId: string; keyword: 'weight' | 'pos_weight'; code: string }
  | { type: 'selectCapture'; captureId: string }
  /**
   * Asks the host to analyse a capture of the last `show` on its own kernel (answered by an `analysis` message);
   * `maxElements` below the setting cuts it to its first rows (the webview's calibration).
   */
  | { type: 'analyse'; requestId: number; captureId: string; findings: string[]; maxElements?: number }
  /**
   * Asks the host for the tensors' bytes of a capture of the last `show` (when the webview computes itself);
   * `maxElements` below the setting asks for the first rows only (a calibration's slice).
   */
  | { type: 'requestTensors'; requestId: number; captureId: string; maxElements?: number }
  | { type: 'error'; message: string };

const KEYWORDS = ['weight', 'pos_weight'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shortString(value: unknown, limit: number): value is string {
  return typeof value === 'string' && value.length <= limit;
}

/**
 * The code "Insert into code" may write: one constructor argument value built from numbers, as the
 * engine's suggestions are (`torch.tensor([0.25, 1.5, 3.0])`). Anything else is refused, so a
 * compromised webview cannot make the host write arbitrary code into the notebook.
 */
export const INSERTABLE_CODE = /^torch\.tensor\(\[[-+0-9.eE, ]*\](, *dtype *= *torch\.float(32|64))?\)(\.view\(-1(, *1)*\))?$/;

/** Validates a message from the webview; undefined for anything malformed. */
export function parseWebviewMessage(value: unknown): WebviewMessage | undefined {
  if (!isObject(value)) return undefined;
  switch (value.type) {
    case 'ready':
      return { type: 'ready' };
    case 'insertCode':
      if (!shortString(value.callId, 64) || !KEYWORDS.includes(value.keyword as (typeof KEYWORDS)[number])) return undefined;
      if (!shortString(value.code, 20000) || !INSERTABLE_CODE.test(value.code)) return undefined;
      return { type: 'insertCode', callId: value.callId, keyword: value.keyword as 'weight' | 'pos_weight', code: value.code };
    case 'selectCapture':
      return shortString(value.captureId, 64) ? { type: 'selectCapture', captureId: value.captureId } : undefined;
    case 'analyse': {
      const findings = value.findings;
      if (!Number.isSafeInteger(value.requestId) || !shortString(value.captureId, 64)) return undefined;
      if (!Array.isArray(findings) || findings.length > 64 || !findings.every((rule) => shortString(rule, 100))) return undefined;
      const limit = value.maxElements;
      if (limit !== undefined && !(typeof limit === 'number' && limit >= 1)) return undefined;
      return { type: 'analyse', requestId: value.requestId as number, captureId: value.captureId, findings: findings as string[], ...(limit !== undefined ? { maxElements: limit } : {}) };
    }
    case 'requestTensors': {
      if (!Number.isSafeInteger(value.requestId) || !shortString(value.captureId, 64)) return undefined;
      const limit = value.maxElements;
      if (limit !== undefined && !(typeof limit === 'number' && limit >= 1)) return undefined;
      return { type: 'requestTensors', requestId: value.requestId as number, captureId: value.captureId, ...(limit !== undefined ? { maxElements: limit } : {}) };
    }
    case 'error':
      return shortString(value.message, 4000) ? { type: 'error', message: value.message } : undefined;
    default:
      return undefined;
  }
}

/** Validates a message from the host (the webview checks too: a record inside must be a well-formed capture). */
export function parseHostMessage(value: unknown): HostMessage | undefined {
  if (!isObject(value)) return undefined;
  switch (value.type) {
    case 'show': {
      if (!Array.isArray(value.calls) || !Array.isArray(value.captures) || typeof value.maxElements !== 'number') return undefined;
      const captures: PanelCapture[] = [];
      for (const entry of value.captures) {
        if (!isObject(entry) || (entry.stale !== undefined && typeof entry.stale !== 'boolean')) return undefined;
        try {
          captures.push({ ...(entry as unknown as PanelCapture), record: parseCaptureRecord(entry.record) });
        } catch {
          return undefined;
        }
      }
      return { ...(value as unknown as HostMessage & { type: 'show' }), captures };
    }
    case 'focus':
      return typeof value.captureId === 'string' ? { type: 'focus', captureId: value.captureId } : undefined;
    case 'analysis':
      if (!Number.isSafeInteger(value.requestId)) return undefined;
      if (value.error !== undefined ? typeof value.error !== 'string' : !isObject(value.analysis)) return undefined;
      return value as unknown as HostMessage & { type: 'analysis' };
    case 'tensors': {
      if (!Number.isSafeInteger(value.requestId)) return undefined;
      if (value.error !== undefined) return typeof value.error === 'string' ? { type: 'tensors', requestId: value.requestId as number, error: value.error } : undefined;
      const files = value.files;
      if (!isObject(files) || !Object.entries(files).every(([role, bytes]) => TENSOR_ROLES.includes(role as TensorRole) && bytes instanceof Uint8Array)) return undefined;
      if (value.note !== undefined && typeof value.note !== 'string') return undefined;
      return { type: 'tensors', requestId: value.requestId as number, files: files as Partial<Record<TensorRole, Uint8Array>>, ...(value.note !== undefined ? { note: value.note as string } : {}) };
    }
    case 'status':
      return typeof value.message === 'string' && (value.level === 'info' || value.level === 'error')
        ? { type: 'status', level: value.level, message: value.message }
        : undefined;
    default:
      return undefined;
  }
}
