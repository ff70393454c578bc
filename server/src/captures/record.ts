/**
 * The capture record: the tensors of one loss call, as the Python helper (`python/loss_lens`) and the
 * kernel capture ("Inspect loss") write it. Format documented in `docs/panel.md`.
 *
 * Browser-safe (the webview and the notebook renderer import it, as do the CLI and the language server): no Node modules.
 */
import type { DType, LossName, Reduction } from '../losses/api';

export const CAPTURE_MIME_TYPE = 'application/vnd.loss-lens.capture+json';
export const CAPTURE_FORMAT = 'loss-lens-capture';
export const CAPTURE_VERSION = 1;

/** The tensor roles a record may hold; `input` and `target` always, the others when the loss has them. */
export type TensorRole = 'input' | 'target' | 'weight' | 'posWeight';
export const TENSOR_ROLES: readonly TensorRole[] = ['input', 'target', 'weight', 'posWeight'];

export interface CapturedTensor {
  dtype: DType;
  /** Shape of the tensor held here (of the kept rows when `sampled`). */
  shape: number[];
  /** The `.npy` file, relative to the capture folder (folder form). */
  file?: string;
  /** The `.npy` bytes, base64 (inline form: notebook outputs). */
  data?: string;
  /** Where it came from: `pytorch`, `tensorflow`, `jax`, `numpy`, ... */
  framework?: string;
  /** Its dtype before conversion to NumPy (`bfloat16` becomes float32). */
  originalDtype?: string;
  device?: string;
  requiresGrad?: boolean;
  /** Present when only the first rows of the batch were kept. */
  sampled?: { originalShape: number[]; rows: number; reason: string };
}

export interface CaptureOptions {
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction?: Reduction;
  fromLogits?: boolean;
}

export interface CaptureSource {
  /** `helper`: `loss_lens.capture(...)` in user code; `kernel`: the "Inspect loss" CodeLens. */
  via: 'helper' | 'kernel';
  /** The notebook's path or URI, when known. */
  notebook?: string;
  /** Index of the cell in the notebook's cells (kernel captures). */
  cell?: number;
  /** The kernel's execution count when the capture ran (helper captures). */
  executionCount?: number;
  /** The loss call's source text, and its argument expressions (kernel captures). */
  call?: string;
  inputExpression?: string;
  targetExpression?: string;
  /** 0-based line of the call in its cell (or, with `file`, in that file). */
  line?: number;
  /** `loss_lens.watch` captures: the absolute path of the file that made the call (an IPython cell's file inside a notebook). */
  file?: string;
  /** `loss_lens.watch` captures: the text of the call's line when it ran (trimmed); a different text there now makes the capture stale. */
  lineText?: string;
  /** Helper captures in IPython: the source of the cell that ran the capture; a different source now makes the capture stale. */
  cellText?: string;
  /**
   * The fingerprint of the code the tensors came from (`fingerprint.ts`: hashes of normalised code): the cells the
   * kernel ran (helper captures in IPython), the notebook's code cells up to the call's (kernel captures), or the calling
   * script (`loss_lens.watch` and the helper outside IPython). When present it alone decides staleness (`match.ts`).
   */
  codeHashes?: string[];
}

export interface CaptureRecord {
  format: typeof CAPTURE_FORMAT;
  version: number;
  id: string;
  createdAt: string;
  /** A PyTorch loss name, or `keras:<name>` for a Keras loss. */
  loss: LossName | `keras:${string}`;
  framework: string;
  options: CaptureOptions;
  source: CaptureSource;
  tensors: { input: CapturedTensor; target: CapturedTensor; weight?: CapturedTensor; posWeight?: CapturedTensor };
  /** Absolute path of the capture folder, when it was written to disk. */
  folder?: string;
}

const LOSS_NAMES: readonly string[] = ['cross_entropy', 'nll_loss', 'binary_cross_entropy', 'binary_cross_entropy_with_logits'];
const DTYPES: readonly string[] = [
  'float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool',
];
const REDUCTIONS: readonly string[] = ['mean', 'sum', 'none'];

export class CaptureFormatError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((n) => Number.isSafeInteger(n) && n >= 0);
}

function optionalType(object: Record<string, unknown>, key: string, type: 'string' | 'number' | 'boolean', where: string): void {
  if (object[key] !== undefined && typeof object[key] !== type) throw new CaptureFormatError(`${where}.${key} must be a ${type}`);
}

function checkTensor(value: unknown, where: string): CapturedTensor {
  if (!isObject(value)) throw new CaptureFormatError(`${where} must be an object`);
  if (typeof value.dtype !== 'string' || !DTYPES.includes(value.dtype)) throw new CaptureFormatError(`${where}.dtype is not a supported dtype`);
  if (!isShape(value.shape)) throw new CaptureFormatError(`${where}.shape must be a list of sizes`);
  if (value.file === undefined && value.data === undefined) throw new CaptureFormatError(`${where} has neither file nor data`);
  if (value.file !== undefined && (typeof value.file !== 'string' || !/^[A-Za-z0-9_.-]+\.npy$/.test(value.file) || value.file.startsWith('.'))) {
    // Only a plain file name inside the capture folder: a record must not point the reader elsewhere.
    throw new CaptureFormatError(`${where}.file must be a .npy file name inside the capture folder`);
  }
  if (value.data !== undefined && (typeof value.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value.data))) {
    throw new CaptureFormatError(`${where}.data must be base64`);
  }
  for (const key of ['framework', 'originalDtype', 'device']) optionalType(value, key, 'string', where);
  optionalType(value, 'requiresGrad', 'boolean', where);
  if (value.sampled !== undefined) {
    const sampled = value.sampled;
    if (!isObject(sampled) || !isShape(sampled.originalShape) || !Number.isSafeInteger(sampled.rows) || typeof sampled.reason !== 'string') {
      throw new CaptureFormatError(`${where}.sampled must hold originalShape, rows and reason`);
    }
  }
  return value as unknown as CapturedTensor;
}

/** Checks that a value (a parsed manifest or a notebook output's JSON) is a capture record, and returns it typed. */
export function parseCaptureRecord(value: unknown): CaptureRecord {
  if (!isObject(value)) throw new CaptureFormatError('a capture record must be a JSON object');
  if (value.format !== CAPTURE_FORMAT) throw new CaptureFormatError(`not a Loss Lens capture (format ${JSON.stringify(value.format)})`);
  if (value.version !== CAPTURE_VERSION) throw new CaptureFormatError(`capture version ${String(value.version)} is not supported (expected ${CAPTURE_VERSION})`);
  if (typeof value.id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value.id)) throw new CaptureFormatError('capture id must be a short identifier');
  if (typeof value.createdAt !== 'string') throw new CaptureFormatError('createdAt must be a string');
  if (typeof value.loss !== 'string' || !(LOSS_NAMES.includes(value.loss) || value.loss.startsWith('keras:'))) {
    throw new CaptureFormatError(`unknown loss ${JSON.stringify(value.loss)}`);
  }
  if (typeof value.framework !== 'string') throw new CaptureFormatError('framework must be a string');
  const options = value.options;
  if (!isObject(options)) throw new CaptureFormatError('options must be an object');
  optionalType(options, 'ignoreIndex', 'number', 'options');
  optionalType(options, 'labelSmoothing', 'number', 'options');
  optionalType(options, 'fromLogits', 'boolean', 'options');
  if (options.reduction !== undefined && !REDUCTIONS.includes(options.reduction as string)) throw new CaptureFormatError('options.reduction must be mean, sum or none');
  const source = value.source;
  if (!isObject(source) || (source.via !== 'helper' && source.via !== 'kernel')) throw new CaptureFormatError('source.via must be helper or kernel');
  for (const key of ['notebook', 'call', 'inputExpression', 'targetExpression', 'file', 'lineText', 'cellText']) optionalType(source, key, 'string', 'source');
  for (const key of ['cell', 'executionCount', 'line']) optionalType(source, key, 'number', 'source');
  if (source.codeHashes !== undefined && !(Array.isArray(source.codeHashes) && source.codeHashes.every((hash) => typeof hash === 'string'))) {
    throw new CaptureFormatError('source.codeHashes must be a list of strings');
  }
  const tensors = value.tensors;
  if (!isObject(tensors)) throw new CaptureFormatError('tensors must be an object');
  for (const role of Object.keys(tensors)) {
    if (!(TENSOR_ROLES as readonly string[]).includes(role)) throw new CaptureFormatError(`unknown tensor role ${JSON.stringify(role)}`);
    checkTensor(tensors[role], `tensors.${role}`);
  }
  if (tensors.input === undefined || tensors.target === undefined) throw new CaptureFormatError('a capture needs an input and a target tensor');
  if (value.folder !== undefined && typeof value.folder !== 'string') throw new CaptureFormatError('folder must be a string');
  return value as unknown as CaptureRecord;
}

/** Decodes a base64 string (the inline `.npy` bytes) without Node's Buffer, for the browser. */
export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** One line describing a capture: loss and shapes. */
export function describeCapture(record: CaptureRecord): string {
  const shapes = TENSOR_ROLES.flatMap((role) => {
    const tensor = record.tensors[role];
    return tensor ? [`${role} ${tensor.dtype}[${tensor.shape.join(', ')}]`] : [];
  });
  return `${record.loss}: ${shapes.join(', ')}`;
}
