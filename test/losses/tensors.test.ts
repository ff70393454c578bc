// The .npy/.npz readers against files NumPy itself wrote (test/fixtures/tensors, from scripts/gen-conformance.py),
// plus hand-made lying headers and archives.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { zipSync } from 'fflate';
import { encodeNpy, parseNpy, TensorFormatError } from '../../server/src/tensors/npy';
import { parseNpz, parseTensorFile } from '../../server/src/tensors/npz';
import { readTensorArgument, splitTensorArgument, TensorFileError } from '../../server/src/tensors/read-file';

const folder = path.join(__dirname, '../fixtures/tensors');
const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'manifest.json'), 'utf8')) as { file: string; shape: number[]; values: number[] }[];

const DTYPE_OF: Record<string, string> = {
  f2: 'float16', f4: 'float32', f8: 'float64', i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64',
  u1: 'uint8', u2: 'uint16', u4: 'uint32', u8: 'uint64', b1: 'bool',
};

for (const entry of manifest) {
  test(`reads ${entry.file} as NumPy wrote it`, () => {
    const tensor = readTensorArgument(path.join(folder, entry.file));
    assert.deepEqual(tensor.shape, entry.shape);
    const code = (entry as { dtype?: string }).dtype;
    if (code) assert.equal(tensor.dtype, DTYPE_OF[code]);
    assert.deepEqual(Array.from(tensor.data as ArrayLike<number | bigint>, Number), entry.values);
  });
}

test('the fixtures cover every dtype in both byte orders and Fortran order', () => {
  for (const code of Object.keys(DTYPE_OF).filter((c) => c !== 'b1')) {
    for (const layout of ['le', 'be', 'fortran']) assert.ok(manifest.some((e) => e.file === `${code}-${layout}.npy`), `${code}-${layout}`);
  }
});

test('little-endian aligned data is viewed in place, not copied', () => {
  const bytes = fs.readFileSync(path.join(folder, 'f4-le.npy'));
  const tensor = parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (bytes.byteOffset % 4 === 0) assert.equal(tensor.data.buffer, bytes.buffer);
});

test('encodeNpy round-trips through parseNpy', () => {
  const tensor = { dtype: 'float32' as const, shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-30, -7]) };
  const back = parseNpy(encodeNpy(tensor));
  assert.deepEqual(back.shape, [2, 3]);
  assert.deepEqual(Array.from(back.data as Float32Array), Array.from(tensor.data));
  const scalar = parseNpy(encodeNpy({ dtype: 'int64', shape: [], data: BigInt64Array.from([5n]) }));
  assert.deepEqual(scalar.shape, []);
  assert.equal((scalar.data as BigInt64Array)[0], 5n);
});

function npyWithHeader(header: string, dataBytes: number): Uint8Array {
  const padded = header + ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + padded.length + dataBytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, padded.length & 0xff, padded.length >> 8]);
  for (let i = 0; i < padded.length; i++) out[10 + i] = padded.charCodeAt(i);
  return out;
}

test('a header that lies is a clear TensorFormatError, without allocating what it claims', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['shape larger than the data', npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (10, 10), }", 40), /announces shape \(10, 10\).*400 bytes.*40 bytes/],
    ['huge shape', npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000, 100000000000), }", 8), /truncated or corrupt/],
    ['unknown dtype', npyWithHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16), /unsupported dtype '<c8'/],
    ['object dtype', npyWithHeader("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16), /unsupported dtype/],
    ['negative dimension', npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 8), /bad dimension '-2'/],
    ['no shape', npyWithHeader("{'descr': '<f4', 'fortran_order': False, }", 8), /no 'shape' entry/],
    ['extra data', npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 8), /4 bytes more/],
    ['not npy at all', new TextEncoder().encode('hello world, not a tensor'), /not an \.npy file/],
    ['empty file', new Uint8Array(0), /not an \.npy file/],
  ];
  for (const [what, bytes, message] of cases) {
    assert.throws(() => parseNpy(bytes), (error: unknown) => error instanceof TensorFormatError && message.test(error.message), what);
  }
});

test('npz members by name, with or without .npy; a single-member archive needs no name', () => {
  const bytes = fs.readFileSync(path.join(folder, 'deflated.npz'));
  assert.deepEqual(parseNpz(bytes, 'labels.npy').shape, [3]);
  assert.deepEqual(parseNpz(fs.readFileSync(path.join(folder, 'single.npz'))).shape, [5]);
  assert.throws(() => parseNpz(bytes), /holds 2 tensors \(logits, labels\)/);
  assert.throws(() => parseNpz(bytes, 'nope'), /no tensor 'nope' \(it holds: logits, labels\)/);
  assert.throws(() => parseTensorFile(fs.readFileSync(path.join(folder, 'f4-le.npy')), 'x'), /not an \.npz archive/);
});

test('an archive whose member claims an impossible size is refused before inflating', () => {
  const zip = zipSync({ 'x.npy': [encodeNpy({ dtype: 'float32', shape: [64], data: new Float32Array(64) }), { level: 9 }] });
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  // Patch the central directory's uncompressed size to 4 GiB - 2.
  let central = zip.length - 22;
  central = view.getUint32(central + 16, true);
  view.setUint32(central + 24, 0xfffffffe, true);
  assert.throws(() => parseNpz(zip, 'x'), (error: unknown) => error instanceof TensorFormatError && /claims 4294967294 bytes/.test(error.message));
});

test('command-line tensor arguments: archive members and unreadable files', () => {
  assert.deepEqual(splitTensorArgument('runs/batch.npz:logits'), { file: 'runs/batch.npz', member: 'logits' });
  assert.deepEqual(splitTensorArgument('C:\\data\\x.npy'), { file: 'C:\\data\\x.npy' });
  assert.throws(() => readTensorArgument(path.join(folder, 'missing.npy')), (error: unknown) => error instanceof TensorFileError && /no such file/.test(error.message));
  assert.throws(() => readTensorArgument(folder), TensorFileError);
  assert.equal(readTensorArgument(`${path.join(folder, 'stored.npz')}:logits`).dtype, 'float32');
});
