/**
 * Turns a capture record's tensors (inline base64 `.npy`, or files of its folder) into host tensors,
 * checking that each file holds what the record announces. Browser-safe: the caller supplies the
 * bytes of folder files (the extension host reads them; the webview only ever sees inline data).
 */
import type { HostTensor } from '../losses/api';
import { parseNpy } from '../tensors/npy';
import { CaptureFormatError, TENSOR_ROLES, base64ToBytes, type CaptureRecord, type TensorRole } from './record';

export type CaptureTensors = { input: HostTensor; target: HostTensor; weight?: HostTensor; posWeight?: HostTensor };

/** Reads the `.npy` bytes of one file of the capture folder (a plain file name, checked by `parseCaptureRecord`). */
export type CaptureFileReader = (fileName: string) => Uint8Array;

/** The `.npy` bytes of one tensor: inline data first, else the folder file. */
function tensorBytes(record: CaptureRecord, role: TensorRole, readFile?: CaptureFileReader): Uint8Array {
  const tensor = record.tensors[role];
  if (!tensor) throw new CaptureFormatError(`the capture has no ${role} tensor`);
  if (tensor.data !== undefined) return base64ToBytes(tensor.data);
  if (tensor.file !== undefined && readFile) return readFile(tensor.file);
  throw new CaptureFormatError(`the ${role} tensor's data is not available here (file ${tensor.file ?? '?'})`);
}

/** Decodes every tensor of a record and checks dtype and shape against the record. */
export function decodeCaptureTensors(record: CaptureRecord, readFile?: CaptureFileReader): CaptureTensors {
  const decoded: Partial<Record<TensorRole, HostTensor>> = {};
  for (const role of TENSOR_ROLES) {
    const announced = record.tensors[role];
    if (!announced) continue;
    const tensor = parseNpy(tensorBytes(record, role, readFile));
    if (tensor.dtype !== announced.dtype || tensor.shape.join() !== announced.shape.join()) {
      throw new CaptureFormatError(
        `the ${role} tensor holds ${tensor.dtype}[${tensor.shape.join(', ')}] but the record says ${announced.dtype}[${announced.shape.join(', ')}]`,
      );
    }
    decoded[role] = tensor;
  }
  return decoded as CaptureTensors;
}
