/** Capture records built in tests (inline `.npy` data, as the helper writes them), and the reference maths to check the figures against. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostTensor } from '../../server/src/losses/api';
import { CAPTURE_MIME_TYPE, type CaptureRecord, type CaptureSource } from '../../server/src/captures/record';
import { encodeNpy } from '../../server/src/tensors/npy';

/** Deterministic logits in [-3, 3]: a small linear congruential generator. */
export function logits(rows: number, classes: number, seed = 1): Float32Array {
  let state = seed;
  return Float32Array.from({ length: rows * classes }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return (state / 2147483648) * 6 - 3;
  });
}

export function softmaxRows(values: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let row = 0; row < values.length / classes; row++) {
    const slice = values.subarray(row * classes, (row + 1) * classes);
    const max = Math.max(...slice);
    const sum = slice.reduce((total, value) => total + Math.exp(value - max), 0);
    for (let c = 0; c < classes; c++) out[row * classes + c] = Math.exp(slice[c] - max) / sum;
  }
  return out;
}

/** Mean cross-entropy of index targets, in float64: the reference the CLI's figures are checked against. */
export function crossEntropy(values: Float32Array, classes: number, labels: number[]): number {
  let total = 0;
  labels.forEach((label, row) => {
    const slice = Array.from(values.subarray(row * classes, (row + 1) * classes));
    const max = Math.max(...slice);
    const logSum = Math.log(slice.reduce((sum, value) => sum + Math.exp(value - max), 0)) + max;
    total += logSum - slice[label];
  });
  return total / labels.length;
}

export function labels(rows: number, classes: number): number[] {
  return Array.from({ length: rows }, (_, row) => (row * 7 + 3) % classes);
}

/**
 * The classifier batch the capture tests share: `rows` x `classes` raw logits (from `seed`), their softmax, int64 class indices
 * (and those indices as numbers), and `asInput` to wrap either score array as the float32 input tensor.
 */
export function classifierBatch(rows: number, classes: number, seed = 1) {
  const rawLogits = logits(rows, classes, seed);
  const truth = labels(rows, classes);
  return {
    rawLogits,
    probabilities: softmaxRows(rawLogits, classes),
    truth,
    target: { dtype: 'int64' as const, shape: [rows], data: BigInt64Array.from(truth, BigInt) },
    asInput: (data: Float32Array): HostTensor => ({ dtype: 'float32', shape: [rows, classes], data }),
  };
}

function base64(tensor: HostTensor): string {
  return Buffer.from(encodeNpy(tensor)).toString('base64');
}

export interface CaptureSpec {
  id: string;
  input: HostTensor;
  target: HostTensor;
  loss?: CaptureRecord['loss'];
  source?: Partial<CaptureSource>;
  createdAt?: string;
}

/** A record in its inline form (a notebook output). */
export function inlineRecord(spec: CaptureSpec): CaptureRecord {
  return {
    format: 'loss-lens-capture',
    version: 1,
    id: spec.id,
    createdAt: spec.createdAt ?? '2026-01-01T00:00:00+00:00',
    loss: spec.loss ?? 'cross_entropy',
    framework: 'pytorch',
    options: {},
    source: { via: 'helper', ...spec.source },
    tensors: {
      input: { dtype: spec.input.dtype, shape: spec.input.shape, data: base64(spec.input) },
      target: { dtype: spec.target.dtype, shape: spec.target.shape, data: base64(spec.target) },
    },
  };
}

/** A notebook cell output that displays a capture, as the helper's `display` leaves it in the `.ipynb`. */
export function captureOutput(record: CaptureRecord): unknown {
  return { data: { [CAPTURE_MIME_TYPE]: record, 'text/plain': [`Loss Lens capture: ${record.loss}`] }, metadata: {}, output_type: 'display_data' };
}

/** Writes a capture folder (`manifest.json` + `.npy` files) under `root`, as the helper's `_write_folder` does. */
export function writeCaptureFolder(root: string, spec: CaptureSpec): string {
  const folder = path.join(root, spec.id);
  fs.mkdirSync(folder, { recursive: true });
  const record = inlineRecord(spec);
  for (const role of ['input', 'target'] as const) {
    const tensor = role === 'input' ? spec.input : spec.target;
    fs.writeFileSync(path.join(folder, `${role}.npy`), encodeNpy(tensor));
    delete record.tensors[role].data;
    record.tensors[role].file = `${role}.npy`;
  }
  record.folder = folder;
  fs.writeFileSync(path.join(folder, 'manifest.json'), JSON.stringify(record, null, 1));
  return folder;
}
