// Fuzzing the .npy/.npz readers: thousands of random mutations and truncations of valid files must give
// a TensorFormatError or a tensor no larger than the file, never another exception or a huge allocation.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TensorFormatError } from '../../server/src/tensors/npy';
import { parseTensorFile } from '../../server/src/tensors/npz';

const folder = path.join(__dirname, '../fixtures/tensors');
const seeds = ['f4-le.npy', 'f8-be.npy', 'i8-fortran.npy', 'f2-le.npy', 'bool.npy', 'v2.npy', 'stored.npz', 'deflated.npz', 'single.npz']
  .map((name) => new Uint8Array(fs.readFileSync(path.join(folder, name))));

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(source: Uint8Array, next: () => number): Uint8Array {
  const pick = next();
  if (pick < 0.3) return source.slice(0, Math.floor(next() * source.length)); // truncation
  const bytes = source.slice();
  const flips = 1 + Math.floor(next() * 8);
  for (let i = 0; i < flips; i++) {
    // Bias towards the headers, where lies matter most.
    const at = next() < 0.7 ? Math.floor(next() * Math.min(bytes.length, 160)) : Math.floor(next() * bytes.length);
    const kind = next();
    if (kind < 0.4) bytes[at] = Math.floor(next() * 256);
    else if (kind < 0.7) bytes[at] ^= 1 << Math.floor(next() * 8);
    else bytes[at] = [0x00, 0xff, 0x39, 0x28, 0x2c, 0x27, 0x3e][Math.floor(next() * 7)]; // '9', '(', ',', quote, '>'
  }
  return bytes;
}

test('random mutations and truncations only ever raise TensorFormatError', () => {
  const next = random(1234);
  const members = [undefined, 'logits', 'labels', 'only'];
  let rejected = 0;
  for (let round = 0; round < 6000; round++) {
    const seed = seeds[round % seeds.length];
    const bytes = mutate(seed, next);
    const member = seed[0] === 0x50 ? members[round % members.length] : undefined;
    try {
      const tensor = parseTensorFile(bytes, member);
      const elements = tensor.shape.reduce((a, b) => a * b, 1);
      assert.equal(tensor.data.length, elements, `round ${round}: data length matches the shape`);
      // A successful parse never holds more than the file (float16 widened to float32: twice).
      assert.ok(tensor.data.byteLength <= 2 * bytes.length + 64 * 1024, `round ${round}: ${tensor.data.byteLength} bytes from a ${bytes.length}-byte file`);
    } catch (error) {
      if (!(error instanceof TensorFormatError)) assert.fail(`round ${round}: ${error instanceof Error ? error.stack : String(error)}`);
      rejected++;
    }
  }
  assert.ok(rejected > 3000, `${rejected} rejected`);
});
