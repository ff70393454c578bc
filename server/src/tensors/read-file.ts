/**
 * Node-only: reads a tensor named on a command line, `file.npy` or `archive.npz:name`.
 */
import * as fs from 'node:fs';
import type { HostTensor } from '../losses/api';
import { describeFsError } from '../workspace/collect-files';
import { TensorFormatError } from './npy';
import { parseTensorFile } from './npz';

/** A file that cannot be read at all (missing, a folder, no permission): the CLI's exit status 2. */
export class TensorFileError extends Error {
  override name = 'TensorFileError';
}

/** Splits `archive.npz:name` (the member after the last colon that follows `.npz`); other paths stay whole. */
export function splitTensorArgument(argument: string): { file: string; member?: string } {
  const match = /^(.*\.npz):([^:\\/]+)$/i.exec(argument);
  return match ? { file: match[1], member: match[2] } : { file: argument };
}

export function readTensorArgument(argument: string): HostTensor {
  const { file, member } = splitTensorArgument(argument);
  let bytes: Uint8Array;
  try {
    bytes = readFileShared(file);
  } catch (error) {
    throw new TensorFileError(`cannot read ${file}: ${describeFsError(error)}`);
  }
  try {
    return parseTensorFile(bytes, member);
  } catch (error) {
    if (error instanceof TensorFormatError) throw new TensorFormatError(`${argument}: ${error.message}`);
    throw error;
  }
}

/** Reads a file into a SharedArrayBuffer, so that the tensors parsed from it reach the worker threads without a copy. */
export function readFileShared(file: string): Uint8Array {
  const descriptor = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(descriptor).size;
    const bytes = new Uint8Array(new SharedArrayBuffer(size));
    let at = 0;
    while (at < size) {
      const read = fs.readSync(descriptor, bytes, at, size - at, at);
      if (read === 0) break; // shrank since fstat: what was read, which the parsers then judge
      at += read;
    }
    return at === size ? bytes : bytes.subarray(0, at);
  } finally {
    fs.closeSync(descriptor);
  }
}
