/** Reads the example notebooks' saved outputs: the Loss Lens capture and the loss PyTorch printed. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CAPTURE_MIME_TYPE, parseCaptureRecord, type CaptureRecord } from '../../client/src/capture/record';

export const EXAMPLES = path.resolve(__dirname, '../../examples/notebooks');

interface NotebookOutput {
  output_type: string;
  data?: Record<string, unknown>;
  text?: string[] | string;
}

export interface ExampleCapture {
  record: CaptureRecord;
  /** Index of the cell whose output holds the capture. */
  cell: number;
  /** PyTorch's value of the buggy loss, printed by the notebook (`loss = ...`). */
  torchLoss: number;
}

export function exampleCapture(name: string): ExampleCapture {
  const notebook = JSON.parse(fs.readFileSync(path.join(EXAMPLES, name), 'utf8')) as { cells: { outputs?: NotebookOutput[] }[] };
  let record: CaptureRecord | undefined;
  let cell = -1;
  let torchLoss = NaN;
  notebook.cells.forEach((entry, index) => {
    for (const output of entry.outputs ?? []) {
      if (output.data?.[CAPTURE_MIME_TYPE]) {
        record = parseCaptureRecord(output.data[CAPTURE_MIME_TYPE]);
        cell = index;
      }
      const text = Array.isArray(output.text) ? output.text.join('') : output.text ?? '';
      const printed = /^loss = (\S+)$/m.exec(text);
      if (printed) torchLoss = Number(printed[1]);
    }
  });
  if (!record) throw new Error(`${name} holds no capture`);
  return { record, cell, torchLoss };
}
