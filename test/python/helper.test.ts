// The Python helper (python/loss_lens), run with Debian's /usr/bin/python3 + python3-torch: it writes
// captures of every dtype, of non-contiguous and requires_grad tensors, and of each loss; this test
// reads them back with the engine's .npy reader (folder form and inline form), compares the values,
// and recomputes each loss with the engine against the value PyTorch computed in the same run.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCaptureRecord, type CaptureRecord } from '../../client/src/capture/record';
import { decodeCaptureTensors, type CaptureTensors } from '../../client/src/capture/tensors';
import { computeCapturedLoss } from '../../client/src/panel/webview/compute';

const root = path.resolve(__dirname, '../..');
const python = '/usr/bin/python3';
const torchCheck = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
const skip = torchCheck.status === 0 ? false : `${python} cannot import torch and numpy (install python3-torch python3-numpy)`;

interface PythonCase {
  name: string;
  folder: string;
  inline: unknown;
  values?: string[];
  expected?: number;
  expectedValues?: number[];
  expectedFirstRows?: number;
}

let workDir = '';
let cases: PythonCase[] = [];
let errors: Record<string, string | null> = {};

function readFolderCapture(folder: string): { record: CaptureRecord; tensors: CaptureTensors } {
  const record = parseCaptureRecord(JSON.parse(fs.readFileSync(path.join(folder, 'manifest.json'), 'utf8')));
  const tensors = decodeCaptureTensors(record, (file) => new Uint8Array(fs.readFileSync(path.join(folder, file))));
  return { record, tensors };
}

function byName(name: string): PythonCase {
  const found = cases.find((entry) => entry.name === name);
  assert.ok(found, `python wrote no case ${name}`);
  return found;
}

function assertClose(actual: number | null, expected: number, relative: number, what: string): void {
  assert.ok(actual !== null, `${what}: no value`);
  const tolerance = Math.max(relative * Math.abs(expected), 1e-6);
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs PyTorch ${expected}`);
}

describe('python/loss_lens capture helper', { skip }, () => {
  before(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-python-'));
    const run = spawnSync(python, [path.join(__dirname, 'fixtures/write_captures.py'), workDir], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: path.join(root, 'python') },
      maxBuffer: 64 * 1024 * 1024,
    });
    assert.equal(run.status, 0, `write_captures.py failed:\n${run.stderr}`);
    ({ cases, errors } = JSON.parse(run.stdout) as { cases: PythonCase[]; errors: Record<string, string | null> });
  });
  after(() => fs.rmSync(workDir, { recursive: true, force: true }));

  it('writes every dtype so that the engine reads the same values, in both forms', () => {
    const dtypeCases = cases.filter((entry) => entry.name.startsWith('dtype-'));
    assert.equal(dtypeCases.length, 14);
    for (const entry of dtypeCases) {
      const { record, tensors } = readFolderCapture(entry.folder);
      const inline = parseCaptureRecord(entry.inline);
      const inlineTensors = decodeCaptureTensors(inline);
      const expectedDtype = entry.name === 'dtype-bfloat16' ? 'float32' : entry.name === 'dtype->f8' ? 'float64' : entry.name.slice(6);
      assert.equal(record.tensors.input.dtype, expectedDtype, entry.name);
      assert.deepEqual(tensors.input.shape, [2, 2]);
      const asText = (tensor: CaptureTensors['input']): string[] =>
        Array.from(tensor.data as ArrayLike<number | bigint>, (value) => {
          if (tensor.dtype === 'bool') return value ? 'True' : 'False';
          if (typeof value === 'bigint' || tensor.dtype.startsWith('int') || tensor.dtype.startsWith('uint')) return String(value);
          return pythonFloatRepr(value);
        });
      assert.deepEqual(asText(tensors.input), entry.values, `${entry.name} (folder)`);
      assert.deepEqual(asText(inlineTensors.input), entry.values, `${entry.name} (inline)`);
      assert.equal(inline.tensors.input.file, undefined, 'the inline form carries no file reference');
    }
    assert.equal(parseCaptureRecord(byName('dtype-bfloat16').inline).tensors.input.originalDtype, 'bfloat16');
  });

  it('captures non-contiguous tensors in row-major order and computes PyTorch\'s loss on them', async () => {
    const entry = byName('non-contiguous');
    const { record, tensors } = readFolderCapture(entry.folder);
    assert.deepEqual(tensors.input.shape, [8, 5]);
    assert.deepEqual(Array.from(tensors.input.data as Float32Array, pythonFloatRepr), entry.values);
    const outcome = await computeCapturedLoss(record, tensors, 'cpu');
    assertClose(outcome.result.value, entry.expected!, 1e-5, entry.name);
  });

  it('captures a requires_grad tensor with the loss object\'s weight, ignore_index and label smoothing', async () => {
    const entry = byName('requires-grad-weighted');
    const { record, tensors } = readFolderCapture(entry.folder);
    assert.equal(record.tensors.input.requiresGrad, true);
    assert.deepEqual(record.options, { ignoreIndex: -100, labelSmoothing: 0.1, reduction: 'mean' });
    assert.deepEqual(Array.from(tensors.weight!.data as Float32Array), [1, 2, 0.5, 3]);
    const outcome = await computeCapturedLoss(record, tensors, 'cpu');
    assertClose(outcome.result.value, entry.expected!, 1e-5, entry.name);
  });

  for (const name of ['cross-entropy-probabilities-float64', 'cross-entropy-segmentation-sum', 'bce-weighted', 'bce-with-logits-pos-weight']) {
    it(`round-trips ${name} into the engine and matches PyTorch`, async () => {
      const entry = byName(name);
      const { record, tensors } = readFolderCapture(entry.folder);
      const outcome = await computeCapturedLoss(record, tensors, 'cpu');
      assertClose(outcome.result.value, entry.expected!, record.tensors.input.dtype === 'float64' ? 1e-12 : 1e-5, name);
      // The inline copy of a small capture holds the same tensors.
      const inline = await computeCapturedLoss(parseCaptureRecord(entry.inline), decodeCaptureTensors(parseCaptureRecord(entry.inline)), 'cpu');
      assert.equal(inline.result.value, outcome.result.value);
    });
  }

  it('takes TensorFlow tensors (.numpy()) and JAX arrays (array protocol) by duck typing', async () => {
    const entry = byName('tensorflow-and-jax');
    const { record, tensors } = readFolderCapture(entry.folder);
    assert.equal(record.tensors.input.framework, 'tensorflow');
    assert.equal(record.tensors.input.originalDtype, 'float32');
    assert.match(record.tensors.input.device ?? '', /GPU:0$/);
    assert.equal(record.tensors.target.framework, 'jax');
    assert.equal(record.tensors.target.dtype, 'int32');
    // PyTorch's cross_entropy wants int64 indices: the engine says so as PyTorch would, and the int64 copy agrees.
    await assert.rejects(computeCapturedLoss(record, tensors, 'cpu'), /expected scalar type Long but found Int/);
    const asInt64 = { ...tensors, target: { dtype: 'int64' as const, shape: tensors.target.shape, data: BigInt64Array.from(tensors.target.data as Int32Array, BigInt) } };
    const outcome = await computeCapturedLoss({ ...record, tensors: { ...record.tensors, target: { ...record.tensors.target, dtype: 'int64' } } }, asInt64, 'cpu');
    assertClose(outcome.result.value, entry.expected!, 1e-5, entry.name);
  });

  it('keeps reduction none per element', async () => {
    const entry = byName('nll-none');
    const { record, tensors } = readFolderCapture(entry.folder);
    const outcome = await computeCapturedLoss(record, tensors, 'cpu');
    assert.equal(outcome.result.value, null);
    assert.equal(outcome.result.values!.length, entry.expectedValues!.length);
    entry.expectedValues!.forEach((value, i) => assertClose(outcome.result.values![i], value, 1e-5, `element ${i}`));
  });

  it('cuts the inline copy to the first rows past the size limit and says so; the folder keeps everything', async () => {
    const entry = byName('sampled-inline');
    const inline = parseCaptureRecord(entry.inline);
    const rows = inline.tensors.input.sampled!.rows;
    assert.ok(rows > 0 && rows < 1000);
    assert.deepEqual(inline.tensors.input.sampled!.originalShape, [1000, 10]);
    assert.deepEqual(inline.tensors.target.shape, [rows]);
    const inlineOutcome = await computeCapturedLoss(inline, decodeCaptureTensors(inline), 'cpu');
    assertClose(inlineOutcome.result.value, entry.expectedFirstRows!, 1e-5, 'first rows');
    const { record, tensors } = readFolderCapture(entry.folder);
    assert.equal(record.tensors.input.sampled, undefined);
    const fullOutcome = await computeCapturedLoss(record, tensors, 'cpu');
    assertClose(fullOutcome.result.value, entry.expected!, 1e-5, 'all rows');
  });

  it('reports what cannot be captured as CaptureError with a clear message', () => {
    assert.match(errors['unknown-loss'] ?? '', /unknown loss 'hinge'/);
    assert.match(errors['not-an-array'] ?? '', /input is not a numeric array \(got object\)/);
  });

  it('writes captures of CUDA tensors when the machine has CUDA', { skip: !fs.existsSync('/dev/nvidia0') && 'no CUDA device here' }, async () => {
    const entry = byName('cuda');
    const { record, tensors } = readFolderCapture(entry.folder);
    assert.match(record.tensors.input.device ?? '', /^cuda/);
    const outcome = await computeCapturedLoss(record, tensors, 'cpu');
    assertClose(outcome.result.value, entry.expected!, 1e-5, 'cuda');
  });
});

/** Python's repr of a float (shortest round-trip form), for comparing values printed by Python. */
function pythonFloatRepr(value: number | bigint): string {
  const number = Number(value);
  if (Number.isNaN(number)) return 'nan';
  if (!Number.isFinite(number)) return number > 0 ? 'inf' : '-inf';
  if (Object.is(number, -0)) return '-0.0';
  const exponent = number === 0 ? 0 : Math.floor(Math.log10(Math.abs(number)));
  if (exponent >= 16 || exponent < -4) {
    const [mantissa, power] = number.toExponential().split('e');
    const powerNumber = Number(power);
    return `${mantissa}e${powerNumber < 0 ? '-' : '+'}${String(Math.abs(powerNumber)).padStart(2, '0')}`;
  }
  const text = String(number);
  return text.includes('.') || text.includes('e') ? text : `${text}.0`;
}
