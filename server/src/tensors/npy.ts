/**
 * Reader and writer of NumPy's `.npy` format (versions 1.0, 2.0 and 3.0).
 * Browser-safe: bytes in, `HostTensor` out, no Node modules, so the panel's webview can use it too.
 *
 * A header that lies (a shape the data cannot hold, an unknown dtype, a truncated file) raises a
 * `TensorFormatError` before anything is allocated, so a hostile file never costs more memory than its own size.
 */
import type { DType, HostTensor } from '../losses/api';
import { gatherStrided } from './strided';

/** A file that is not a readable tensor: the message says what is wrong with it. */
export class TensorFormatError extends Error {
  override name = 'TensorFormatError';
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

interface DTypeInfo {
  dtype: DType;
  itemSize: number;
}

/** The numeric kinds NumPy writes for loss tensors, keyed by the `descr` without its byte-order character. */
const DTYPES: Record<string, DTypeInfo> = {
  f2: { dtype: 'float16', itemSize: 2 },
  f4: { dtype: 'float32', itemSize: 4 },
  f8: { dtype: 'float64', itemSize: 8 },
  i1: { dtype: 'int8', itemSize: 1 },
  i2: { dtype: 'int16', itemSize: 2 },
  i4: { dtype: 'int32', itemSize: 4 },
  i8: { dtype: 'int64', itemSize: 8 },
  u1: { dtype: 'uint8', itemSize: 1 },
  u2: { dtype: 'uint16', itemSize: 2 },
  u4: { dtype: 'uint32', itemSize: 4 },
  u8: { dtype: 'uint64', itemSize: 8 },
  b1: { dtype: 'bool', itemSize: 1 },
};

export interface NpyHeader {
  dtype: DType;
  itemSize: number;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  /** Offset of the first data byte. */
  dataOffset: number;
}

/** Parses the header of an `.npy` file; checks that the data it announces is all there. */
export function parseNpyHeader(bytes: Uint8Array): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((value, i) => bytes[i] !== value)) {
    throw new TensorFormatError('not an .npy file (the magic string \\x93NUMPY is missing)');
  }
  const major = bytes[6];
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = bytes[8] | (bytes[9] << 8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new TensorFormatError('truncated .npy header');
    headerLength = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) + bytes[11] * 0x1000000;
    headerStart = 12;
  } else {
    throw new TensorFormatError(`unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const dataOffset = headerStart + headerLength;
  if (dataOffset > bytes.length) throw new TensorFormatError('truncated .npy header');
  // Version 1 and 2 headers are latin-1, version 3 is UTF-8; every legal header is ASCII either way.
  let header = '';
  for (let i = headerStart; i < dataOffset; i++) header += String.fromCharCode(bytes[i]);

  const descr = matchField(header, 'descr', /^'([^']*)'/);
  const fortran = matchField(header, 'fortran_order', /^(True|False)/);
  const shapeText = matchField(header, 'shape', /^\(([^)]*)\)/);

  const order = descr[0];
  const info = DTYPES[descr.slice(1)];
  if (!info || !['<', '>', '|', '='].includes(order)) {
    throw new TensorFormatError(`unsupported dtype '${descr}' (expected a numeric dtype such as '<f4', '<i8' or '|b1')`);
  }
  const shape = parseShape(shapeText);
  const elementCount = shape.reduce((product, dim) => product * dim, 1);
  const available = bytes.length - dataOffset;
  if (!Number.isSafeInteger(elementCount) || elementCount * info.itemSize > available) {
    throw new TensorFormatError(
      `the header announces shape (${shape.join(', ')}) of ${descr}, ${formatBytes(elementCount * info.itemSize)}, but the file holds ${formatBytes(available)} of data (truncated or corrupt)`,
    );
  }
  if (elementCount * info.itemSize < available) {
    throw new TensorFormatError(
      `the file holds ${available - elementCount * info.itemSize} bytes more than shape (${shape.join(', ')}) of ${descr} needs (corrupt header)`,
    );
  }
  return {
    dtype: info.dtype,
    itemSize: info.itemSize,
    littleEndian: order !== '>',
    fortranOrder: fortran === 'True',
    shape,
    dataOffset,
  };
}

function matchField(header: string, key: string, valuePattern: RegExp): string {
  const keyAt = header.search(new RegExp(`['"]${key}['"]\\s*:\\s*`));
  if (keyAt < 0) throw new TensorFormatError(`the .npy header has no '${key}' entry`);
  const rest = header.slice(keyAt).replace(/^['"]\w+['"]\s*:\s*/, '');
  const match = valuePattern.exec(rest);
  if (!match) throw new TensorFormatError(`the .npy header's '${key}' entry is not understood: ${rest.slice(0, 40)}`);
  return match[1];
}

function parseShape(text: string): number[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 1 && parts[0] === '') return [];
  return parts.map((part) => {
    // NumPy may write long integers with an L suffix (Python 2 files).
    const digits = part.replace(/L$/, '');
    if (!/^\d{1,16}$/.test(digits)) throw new TensorFormatError(`bad dimension '${part}' in the .npy shape`);
    const dim = Number(digits);
    if (!Number.isSafeInteger(dim)) throw new TensorFormatError(`dimension ${part} is too large`);
    return dim;
  });
}

function formatBytes(count: number): string {
  if (!Number.isFinite(count)) return 'an impossible number of bytes';
  return count < 1024 ? `${count} bytes` : count < 1024 ** 2 ? `${(count / 1024).toFixed(1)} KiB` : `${(count / 1024 ** 2).toFixed(1)} MiB`;
}

/**
 * Reads an `.npy` file. Little-endian C-order data is viewed in place when aligned (no copy);
 * big-endian, Fortran-order or unaligned data is copied. float16 becomes float32 values (dtype stays 'float16').
 */
export function parseNpy(bytes: Uint8Array): HostTensor {
  const header = parseNpyHeader(bytes);
  const count = header.shape.reduce((product, dim) => product * dim, 1);
  const raw = bytes.subarray(header.dataOffset, header.dataOffset + count * header.itemSize);
  let data = decodeData(raw, header, count);
  if (header.fortranOrder && header.shape.length > 1) data = fortranToC(data, header.shape);
  return { dtype: header.dtype, shape: header.shape, data };
}

type TensorData = HostTensor['data'];

function decodeData(raw: Uint8Array, header: NpyHeader, count: number): TensorData {
  const { dtype, itemSize, littleEndian } = header;
  if (dtype === 'float16') return decodeFloat16(raw, count, littleEndian);
  if (itemSize === 1) return dtype === 'int8' ? new Int8Array(raw.buffer, raw.byteOffset, count) : raw;
  const aligned = raw.byteOffset % itemSize === 0;
  if (littleEndian && aligned) return typedView(dtype, raw.buffer, raw.byteOffset, count);
  const copy = new Uint8Array(raw.length);
  if (littleEndian) {
    copy.set(raw);
  } else {
    for (let i = 0; i < count; i++) {
      const at = i * itemSize;
      for (let b = 0; b < itemSize; b++) copy[at + b] = raw[at + itemSize - 1 - b];
    }
  }
  return typedView(dtype, copy.buffer, 0, count);
}

function typedView(dtype: DType, buffer: ArrayBufferLike, offset: number, count: number): TensorData {
  switch (dtype) {
    case 'float32': return new Float32Array(buffer, offset, count);
    case 'float64': return new Float64Array(buffer, offset, count);
    case 'int16': return new Int16Array(buffer, offset, count);
    case 'int32': return new Int32Array(buffer, offset, count);
    case 'int64': return new BigInt64Array(buffer, offset, count);
    case 'uint16': return new Uint16Array(buffer, offset, count);
    case 'uint32': return new Uint32Array(buffer, offset, count);
    case 'uint64': return new BigUint64Array(buffer, offset, count);
    default: throw new TensorFormatError(`no typed array for dtype ${dtype}`);
  }
}

function decodeFloat16(raw: Uint8Array, count: number, littleEndian: boolean): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const bits = littleEndian ? raw[2 * i] | (raw[2 * i + 1] << 8) : (raw[2 * i] << 8) | raw[2 * i + 1];
    out[i] = float16BitsToNumber(bits);
  }
  return out;
}

function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Reorders column-major data into row-major (the only layout the engine reads). */
function fortranToC(data: TensorData, shape: number[]): TensorData {
  const rank = shape.length;
  const fortranStrides = new Array<number>(rank);
  let stride = 1;
  for (let axis = 0; axis < rank; axis++) {
    fortranStrides[axis] = stride;
    stride *= shape[axis];
  }
  const out = new (data.constructor as new (length: number) => TensorData)(data.length);
  gatherStrided<number | bigint>(data, out as { [index: number]: number | bigint; length: number }, shape, fortranStrides);
  return out;
}

const DESCR_OF: Record<DType, string> = {
  float16: '<f2', float32: '<f4', float64: '<f8',
  int8: '|i1', int16: '<i2', int32: '<i4', int64: '<i8',
  uint8: '|u1', uint16: '<u2', uint32: '<u4', uint64: '<u8', bool: '|b1',
};

/** Writes a tensor as a version 1.0 `.npy` file (little-endian, C order). float16 tensors are written as float32. */
export function encodeNpy(tensor: HostTensor): Uint8Array {
  const dtype = tensor.dtype === 'float16' ? 'float32' : tensor.dtype;
  const shapeText = tensor.shape.length === 1 ? `(${tensor.shape[0]},)` : `(${tensor.shape.join(', ')})`;
  let header = `{'descr': '${DESCR_OF[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad so that the data starts at a multiple of 64 bytes, as NumPy does; the header ends with a newline.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const dataBytes = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  const out = new Uint8Array(10 + header.length + dataBytes.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(dataBytes, 10 + header.length);
  return out;
}
