/**
 * Reader of NumPy's `.npz` archives (zip files of `.npy` members, stored or deflated, zip64 included).
 * Browser-safe. Only the requested member is inflated, into a buffer sized from the central directory
 * after checking that size against what deflate can possibly produce, so a lying archive cannot make us
 * allocate gigabytes.
 */
import { inflateSync } from 'fflate';
import type { HostTensor } from '../losses/api';
import { parseNpy, TensorFormatError } from './npy';

export interface NpzEntry {
  /** The member's name without its `.npy` suffix, as `np.load(...)[name]` spells it. */
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** Deflate cannot expand data more than about 1032 times; anything above this is a lie. */
const MAX_DEFLATE_RATIO = 1032;

export function listNpz(bytes: Uint8Array): NpzEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = findEndOfCentralDirectory(bytes, view);
  let count = view.getUint16(end + 10, true);
  let directorySize = view.getUint32(end + 12, true);
  let directoryOffset = view.getUint32(end + 16, true);
  if (count === 0xffff || directoryOffset === 0xffffffff || directorySize === 0xffffffff) {
    // Zip64: the end record's locator points at the zip64 end record holding the real values.
    const locator = end - 20;
    if (locator < 0 || view.getUint32(locator, true) !== 0x07064b50) throw new TensorFormatError('corrupt zip64 archive (no locator)');
    const record = readUint64(view, locator + 8);
    if (record + 56 > bytes.length || view.getUint32(record, true) !== 0x06064b50) {
      throw new TensorFormatError('corrupt zip64 archive (bad end record)');
    }
    count = readUint64(view, record + 32);
    directorySize = readUint64(view, record + 40);
    directoryOffset = readUint64(view, record + 48);
  }
  if (directoryOffset + directorySize > bytes.length) throw new TensorFormatError('truncated .npz archive (central directory out of range)');

  const entries: NpzEntry[] = [];
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) throw new TensorFormatError('corrupt .npz archive (bad central directory entry)');
    const method = view.getUint16(at + 10, true);
    let compressedSize = view.getUint32(at + 20, true);
    let size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    let localHeaderOffset = view.getUint32(at + 42, true);
    const nameStart = at + 46;
    if (nameStart + nameLength + extraLength > bytes.length) throw new TensorFormatError('truncated .npz archive');
    const fileName = new TextDecoder().decode(bytes.subarray(nameStart, nameStart + nameLength));
    // Zip64 extra field: the 64-bit values appear in this order, each only when its 32-bit field is saturated.
    let extra = nameStart + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = view.getUint16(extra, true);
      const length = view.getUint16(extra + 2, true);
      if (id === 0x0001) {
        let field = extra + 4;
        const take = () => {
          if (field + 8 > extra + 4 + length || field + 8 > bytes.length) throw new TensorFormatError('corrupt zip64 extra field');
          const value = readUint64(view, field);
          field += 8;
          return value;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      extra += 4 + length;
    }
    entries.push({ name: fileName.replace(/\.npy$/, ''), method, compressedSize, size, localHeaderOffset });
    at = extraEnd + commentLength;
  }
  return entries;
}

function findEndOfCentralDirectory(bytes: Uint8Array, view: DataView): number {
  // The end record is 22 bytes plus a comment of at most 65535 bytes.
  for (let at = bytes.length - 22; at >= 0 && at >= bytes.length - 22 - 0xffff; at--) {
    if (view.getUint32(at, true) === 0x06054b50) return at;
  }
  throw new TensorFormatError('not an .npz archive (no zip end record)');
}

function readUint64(view: DataView, at: number): number {
  const value = view.getUint32(at, true) + view.getUint32(at + 4, true) * 0x100000000;
  if (!Number.isSafeInteger(value)) throw new TensorFormatError('zip size field out of range');
  return value;
}

/** The raw bytes of one member (an `.npy` file). */
export function extractNpzMember(bytes: Uint8Array, entry: NpzEntry): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const local = entry.localHeaderOffset;
  if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50) {
    throw new TensorFormatError(`corrupt .npz archive (bad local header for '${entry.name}')`);
  }
  const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > bytes.length) throw new TensorFormatError(`truncated .npz archive (member '${entry.name}' is cut short)`);
  const compressed = bytes.subarray(dataStart, dataEnd);
  if (entry.method === 0) {
    if (entry.size !== entry.compressedSize) throw new TensorFormatError(`corrupt .npz archive (stored member '${entry.name}' has two sizes)`);
    return compressed;
  }
  if (entry.method !== 8) throw new TensorFormatError(`member '${entry.name}' uses zip compression method ${entry.method}; only stored and deflated are supported`);
  if (entry.size > entry.compressedSize * MAX_DEFLATE_RATIO + 1024) {
    throw new TensorFormatError(`corrupt .npz archive (member '${entry.name}' claims ${entry.size} bytes from ${entry.compressedSize} compressed)`);
  }
  let inflated: Uint8Array;
  try {
    inflated = inflateSync(compressed, { out: new Uint8Array(entry.size) });
  } catch (error) {
    throw new TensorFormatError(`corrupt .npz archive (member '${entry.name}': ${error instanceof Error ? error.message : String(error)})`);
  }
  if (inflated.length !== entry.size) throw new TensorFormatError(`corrupt .npz archive (member '${entry.name}' inflates to ${inflated.length} bytes, not ${entry.size})`);
  return inflated;
}

/**
 * Reads one tensor of an `.npz` archive. `member` may be given with or without `.npy`;
 * without a member, an archive of exactly one tensor yields that tensor.
 */
export function parseNpz(bytes: Uint8Array, member?: string): HostTensor {
  const entries = listNpz(bytes);
  const names = entries.map((entry) => entry.name);
  let entry: NpzEntry | undefined;
  if (member === undefined) {
    if (entries.length !== 1) {
      throw new TensorFormatError(`the archive holds ${entries.length} tensors (${names.join(', ')}); name one as archive.npz:NAME`);
    }
    entry = entries[0];
  } else {
    const wanted = member.replace(/\.npy$/, '');
    entry = entries.find((candidate) => candidate.name === wanted);
    if (!entry) throw new TensorFormatError(`the archive has no tensor '${wanted}' (it holds: ${names.join(', ') || 'nothing'})`);
  }
  return parseNpy(extractNpzMember(bytes, entry));
}

/** Reads a tensor from the bytes of either format, telling them apart by their magic bytes. */
export function parseTensorFile(bytes: Uint8Array, member?: string): HostTensor {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return parseNpz(bytes, member);
  if (member !== undefined) throw new TensorFormatError(`':${member}' names an archive member, but this is not an .npz archive`);
  return parseNpy(bytes);
}
