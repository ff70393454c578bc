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
    bytes = fs.readFileSync(file);
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
