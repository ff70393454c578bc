/**
 * The capture tensors' way from the extension host to the webview, which receives them only when it computes
 * itself (a webview backend, or the calibration of a hardware GPU): `show` carries each record without its bytes,
 * and the webview asks for them with `requestTensors` (answered by a `tensors` message). Browser-safe; the host side
 * runs in the extension host, in the browser tests' stand-in host and in the benchmark.
 */
import { base64ToBytes, CaptureFormatError, TENSOR_ROLES, type CaptureRecord, type TensorRole } from '../capture/record';
import { limitElements } from '../capture/sample';
import { decodeCaptureTensors, type CaptureTensors } from '../capture/tensors';
import { encodeNpy, parseNpy } from '../../../server/src/tensors/npy';
import type { PanelCapture } from './messages';

export type TensorFiles = Partial<Record<TensorRole, Uint8Array>>;

/**
 * The capture as `show` sends it: the record without inline data (each tensor keeps its dtype and shape, and names
 * the file the webview may ask for), no bytes of folder files, `tensorsOnRequest` set.
 */
export function withoutTensorBytes(capture: PanelCapture): PanelCapture {
  const tensors: CaptureRecord['tensors'] = { ...capture.record.tensors };
  for (const role of TENSOR_ROLES) {
    const tensor = tensors[role];
    if (!tensor) continue;
    const { data: _bytes, ...described } = tensor;
    tensors[role] = { ...described, file: tensor.file ?? `${role}.npy` } as CaptureRecord['tensors']['input'];
  }
  const { files: _files, ...rest } = capture;
  return { ...rest, record: { ...capture.record, tensors }, tensorsOnRequest: true };
}

/** The `.npy` bytes of a capture the host holds (inline data, or the folder's files it read). */
function heldBytes(capture: PanelCapture, role: TensorRole): Uint8Array | undefined {
  const tensor = capture.record.tensors[role];
  if (!tensor) return undefined;
  if (tensor.data !== undefined) return base64ToBytes(tensor.data);
  const bytes = capture.files?.[role];
  if (!bytes) throw new CaptureFormatError(`the host has no bytes for ${tensor.file ?? role}`);
  return bytes;
}

/**
 * What the host answers to `requestTensors`: the `.npy` bytes of every tensor, the input and target cut to their
 * first rows when the input is past `maxElements` (the element limit, or the calibration's slice). Under the limit
 * the bytes go as held (no copy here); a cut is re-encoded (a copy of the kept rows only).
 */
export function tensorsForWebview(capture: PanelCapture, maxElements: number): { files: TensorFiles; note?: string } {
  const files: TensorFiles = {};
  const inputElements = capture.record.tensors.input.shape.reduce((product, size) => product * size, 1);
  if (inputElements <= maxElements) {
    for (const role of TENSOR_ROLES) {
      const bytes = heldBytes(capture, role);
      if (bytes) files[role] = bytes;
    }
    return { files };
  }
  const decoded = decodeCaptureTensors(capture.record, (file) => {
    const role = TENSOR_ROLES.find((name) => capture.record.tensors[name]?.file === file);
    return (role && heldBytes(capture, role)) || new Uint8Array();
  });
  const limited = limitElements(decoded, maxElements);
  for (const role of TENSOR_ROLES) {
    const tensor = limited.tensors[role];
    if (tensor) files[role] = role === 'input' || role === 'target' ? encodeNpy(tensor) : heldBytes(capture, role)!;
  }
  return { files, note: limited.note };
}

/**
 * The webview's side: decodes what the host sent and checks it against the record: every dtype, the shapes of
 * `weight`/`posWeight`, and input and target with the record's shape or its first rows (a cut), the same rows each.
 */
export function decodeTransferred(record: CaptureRecord, files: TensorFiles): CaptureTensors {
  const decoded: Partial<CaptureTensors> = {};
  for (const role of TENSOR_ROLES) {
    const announced = record.tensors[role];
    if (!announced) continue;
    const bytes = files[role];
    if (!(bytes instanceof Uint8Array)) throw new CaptureFormatError(`the host sent no bytes for the ${role} tensor`);
    const tensor = parseNpy(bytes);
    const rowsCut = (role === 'input' || role === 'target') && tensor.shape.length === announced.shape.length && tensor.shape.length > 0
      && tensor.shape[0] <= announced.shape[0] && tensor.shape.slice(1).join() === announced.shape.slice(1).join();
    if (tensor.dtype !== announced.dtype || !(rowsCut || tensor.shape.join() === announced.shape.join())) {
      throw new CaptureFormatError(`the host sent ${tensor.dtype}[${tensor.shape.join(', ')}] for the ${role} tensor, which the record says is ${announced.dtype}[${announced.shape.join(', ')}]`);
    }
    decoded[role] = tensor;
  }
  if (!decoded.input || !decoded.target) throw new CaptureFormatError('the capture has no input or target tensor');
  const cut = decoded.input.shape[0] !== record.tensors.input.shape[0] || decoded.target.shape[0] !== record.tensors.target.shape[0];
  if (cut && decoded.input.shape[0] !== decoded.target.shape[0]) throw new CaptureFormatError('the host cut the input and the target to different rows');
  return decoded as CaptureTensors;
}
