/**
 * The panel's element limit (`lossLens.panel.maxElements`): a capture whose input is larger is cut to
 * the first rows of its batch (input and target alike, so they stay paired), and the panel says so.
 * Browser-safe; the cut is a view (`subarray`), never a copy.
 */
import type { HostTensor } from '../../../server/src/losses/api';
import type { CaptureTensors } from './tensors';

export interface LimitedTensors {
  tensors: CaptureTensors;
  /** Set when rows were left out: what was kept, in words. */
  note?: string;
}

export class TooLargeError extends Error {}

function firstRows(tensor: HostTensor, rows: number): HostTensor {
  const perRow = tensor.shape.slice(1).reduce((product, size) => product * size, 1);
  return { dtype: tensor.dtype, shape: [rows, ...tensor.shape.slice(1)], data: tensor.data.subarray(0, rows * perRow) as HostTensor['data'] };
}

export function limitElements(tensors: CaptureTensors, maxElements: number): LimitedTensors {
  const inputElements = tensors.input.data.length;
  if (inputElements <= maxElements) return { tensors };
  const { input, target } = tensors;
  const batch = input.shape[0] ?? 1;
  const perRow = inputElements / Math.max(batch, 1);
  const rows = Math.floor(maxElements / perRow);
  if (input.shape.length < 2 || rows < 1 || target.shape[0] !== batch) {
    throw new TooLargeError(
      `the input has ${inputElements.toLocaleString('en-US')} elements, over the limit of ${maxElements.toLocaleString('en-US')} (setting lossLens.panel.maxElements), and one row alone is past it`,
    );
  }
  return {
    tensors: { ...tensors, input: firstRows(input, rows), target: firstRows(target, rows) },
    note: `Sampled: the first ${rows} of ${batch} rows (${(rows * perRow).toLocaleString('en-US')} of ${inputElements.toLocaleString('en-US')} input elements; limit lossLens.panel.maxElements = ${maxElements.toLocaleString('en-US')}).`,
  };
}
