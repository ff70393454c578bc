// `loss-lens loss` as a user runs it: the built CLI as a process (run `npm run build` first).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../../server/src/tensors/npy';

const root = path.join(__dirname, '../..');
const examples = path.join(root, 'examples/tensors');
let scratch = '';

function lossLens(...args: string[]) {
  return lossLensWith({}, ...args);
}

function lossLensWith(env: Record<string, string>, ...args: string[]) {
  const run = spawnSync(process.execPath, [path.join(root, 'bin/loss-lens.js'), 'loss', ...args], { encoding: 'utf8', cwd: scratch || root, env: { ...process.env, ...env } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function write(name: string, tensor: Parameters<typeof encodeNpy>[0]): string {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, encodeNpy(tensor));
  return file;
}

before(() => {
  assert.ok(fs.existsSync(path.join(root, 'server/out/cli.js')), 'run npm run build first');
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-cli-'));
});

test('json: the value PyTorch gives, the backend that ran, and the checks', () => {
  const run = lossLens('--loss', 'cross_entropy', '--input', path.join(examples, 'probabilities.npy'), '--target', path.join(examples, 'labels.npy'), '--format', 'json');
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.deepEqual(Object.keys(report), ['loss', 'reduction', 'value', 'shape', 'values', 'backend', 'ms', 'checks']);
  assert.equal(report.loss, 'cross_entropy');
  assert.equal(report.reduction, 'mean');
  // torch.nn.functional.cross_entropy(probabilities, labels).item(), printed by scripts/gen-conformance.py.
  assert.ok(Math.abs(report.value - 0.8669409155845642) < 1e-6, String(report.value));
  assert.deepEqual(report.shape, []);
  assert.equal(report.values, null);
  assert.equal(report.backend, 'js');
  assert.ok(report.ms >= 0);
  const rules = report.checks.map((check: { rule: string }) => check.rule);
  assert.deepEqual(rules, ['input-rows-sum-to-one', 'class-imbalance']);
  assert.match(report.checks[1].suggestion, /^weight=torch\.tensor\(\[0\.39, 1\.23, 2\.67, 4\.0\]\)$/);
});

test('text: the value, what was probably meant, the backend, the checks', () => {
  const run = lossLens('--loss', 'cross_entropy', '--input', `${path.join(examples, 'batch.npz')}:probabilities`, '--target', `${path.join(examples, 'batch.npz')}:labels`);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^cross_entropy \(reduction=mean\) = 0\.866940/);
  // cross_entropy(logits, labels) in PyTorch: 0.20791718363761902.
  assert.match(run.stdout, /probably meant: 0\.2079171\d* \(cross_entropy on log\(input\)/);
  assert.match(run.stdout, /backend: js, precision float32, [\d.]+ ms/);
  assert.match(run.stdout, /warning input-rows-sum-to-one: /);
  assert.match(run.stdout, /information class-imbalance: class 3 has 4 samples against 41 for class 0/);
});

test('npz member, --reduction none, --backend wasm and --repeat', () => {
  const run = lossLens('--loss', 'cross_entropy', '--input', `${path.join(examples, 'batch.npz')}:logits`, '--target', `${path.join(examples, 'batch.npz')}:labels`,
    '--reduction', 'none', '--backend', 'wasm', '--repeat', '3', '--format', 'json');
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.equal(report.value, null);
  assert.deepEqual(report.shape, [64]);
  assert.equal(report.values.length, 64);
  assert.equal(report.backend, 'wasm');
  const mean = report.values.reduce((a: number, b: number) => a + b, 0) / 64;
  assert.ok(Math.abs(mean - 0.20791718363761902) < 1e-5, String(mean));
});

test('every option reaches the engine: weight, ignore-index, label smoothing, sum', () => {
  const input = write('x.npy', { dtype: 'float32', shape: [3, 3], data: Float32Array.from([1, 2, 3, 0, 0, 0, -1, 5, 2]) });
  const target = write('t.npy', { dtype: 'int64', shape: [3], data: BigInt64Array.from([2n, 1n, 0n]) });
  const weight = write('w.npy', { dtype: 'float32', shape: [3], data: Float32Array.from([1, 2, 0.5]) });
  const run = lossLens('--loss', 'cross_entropy', '--input', input, '--target', target, '--weight', weight,
    '--ignore-index', '1', '--label-smoothing', '0.1', '--reduction', 'sum', '--format', 'json');
  assert.equal(run.code, 0, run.stderr);
  // PyTorch: F.cross_entropy(x, t, weight=w, ignore_index=1, label_smoothing=0.1, reduction='sum')
  const logSoftmax = (row: number[]) => { const m = Math.max(...row); const lse = Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)); return row.map((v) => v - m - lse); };
  const rows = [[1, 2, 3], [0, 0, 0], [-1, 5, 2]];
  const w = [1, 2, 0.5];
  let expected = 0;
  for (const [r, t] of [[0, 2], [2, 0]]) {
    const logp = logSoftmax(rows[r]);
    expected += 0.9 * -w[t] * logp[t] + (0.1 / 3) * -logp.reduce((s, v, c) => s + w[c] * v, 0);
  }
  assert.ok(Math.abs(JSON.parse(run.stdout).value - expected) < 1e-5);
});

test('binary_cross_entropy_with_logits with --pos-weight; sigmoid outputs are flagged', () => {
  const input = write('p.npy', { dtype: 'float32', shape: [4, 2], data: Float32Array.from([0.9, 0.1, 0.8, 0.3, 0.2, 0.6, 0.7, 0.4]) });
  const target = write('y.npy', { dtype: 'float32', shape: [4, 2], data: Float32Array.from([1, 0, 1, 0, 0, 1, 1, 0]) });
  const posWeight = write('pw.npy', { dtype: 'float32', shape: [2], data: Float32Array.from([2, 3]) });
  const run = lossLens('--loss', 'binary_cross_entropy_with_logits', '--input', input, '--target', target, '--pos-weight', posWeight, '--format', 'json');
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  const x = [0.9, 0.1, 0.8, 0.3, 0.2, 0.6, 0.7, 0.4];
  const y = [1, 0, 1, 0, 0, 1, 1, 0];
  const expected = x.reduce((s, v, i) => s + (1 - y[i]) * v - (1 + ([2, 3][i % 2] - 1) * y[i]) * -Math.log1p(Math.exp(-v)), 0) / 8;
  assert.ok(Math.abs(report.value - expected) < 1e-6);
  assert.equal(report.checks[0].rule, 'input-in-unit-interval');
});

test('a PyTorch error case exits 1 with PyTorch\'s message and no value', () => {
  const input = write('l.npy', { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
  const floatLabels = write('f.npy', { dtype: 'float32', shape: [2], data: Float32Array.from([0, 2]) });
  const text = lossLens('--loss', 'cross_entropy', '--input', input, '--target', floatLabels);
  assert.equal(text.code, 1);
  assert.match(text.stderr, /expected scalar type Long but found Float/);
  assert.doesNotMatch(text.stdout, /=/);
  assert.match(text.stdout, /warning target-float-integers: .*target\.long\(\)/);
  const json = lossLens('--loss', 'cross_entropy', '--input', input, '--target', floatLabels, '--format', 'json');
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout);
  assert.equal(report.error, 'expected scalar type Long but found Float');
  assert.ok(!('value' in report));
  const outOfRange = lossLens('--loss', 'binary_cross_entropy', '--input', input, '--target', input);
  assert.equal(outOfRange.code, 1);
  assert.match(outOfRange.stderr, /all elements of input should be between 0 and 1/);
  assert.match(outOfRange.stdout, /error input-outside-unit-interval/);
});

test('usage errors and unreadable files exit 2', () => {
  const labels = path.join(examples, 'labels.npy');
  for (const args of [
    ['--input', labels, '--target', labels],
    ['--loss', 'hinge', '--input', labels, '--target', labels],
    ['--loss', 'cross_entropy', '--input', labels],
    ['--loss', 'cross_entropy', '--input', labels, '--target', labels, '--repeat', '0'],
    ['--loss', 'cross_entropy', '--input', labels, '--target', labels, '--backend', 'tpu'],
    ['--loss', 'cross_entropy', '--input', labels, '--target', labels, '--frobnicate'],
  ]) {
    const run = lossLens(...args);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /loss-lens: /);
  }
  const missing = lossLens('--loss', 'cross_entropy', '--input', path.join(scratch, 'nope.npy'), '--target', labels);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read .*nope\.npy: no such file/);
  const garbage = path.join(scratch, 'garbage.npy');
  fs.writeFileSync(garbage, 'not a tensor');
  const corrupt = lossLens('--loss', 'cross_entropy', '--input', garbage, '--target', labels);
  assert.equal(corrupt.code, 2);
  assert.match(corrupt.stderr, /garbage\.npy: not an \.npy file/);
  const member = lossLens('--loss', 'cross_entropy', '--input', `${path.join(examples, 'batch.npz')}:nothing`, '--target', labels);
  assert.equal(member.code, 2);
  assert.match(member.stderr, /no tensor 'nothing' \(it holds: logits, probabilities, labels\)/);
});

test('backends that cannot run here are named with the reason, exit 2', () => {
  const args = ['--loss', 'cross_entropy', '--input', path.join(examples, 'probabilities.npy'), '--target', path.join(examples, 'labels.npy')];
  const gpu = lossLens(...args, '--backend', 'tfjs-node-gpu');
  assert.equal(gpu.code, 2);
  assert.match(gpu.stderr, /npm install @tensorflow\/tfjs-node-gpu/);
  const webgl = lossLens(...args, '--backend', 'webgl');
  assert.equal(webgl.code, 2);
  assert.match(webgl.stderr, /needs a browser/);
});

test('cross_entropy on worker threads: the same value on 1, 2 and 3 threads, and the text says how many ran', () => {
  // [2048, 1000]: past the size where the engine brings in threads (1M elements).
  const rows = 2048;
  const classes = 1000;
  const input = Float32Array.from({ length: rows * classes }, (_, i) => Math.sin(i * 0.7071) * 5);
  const labels = BigInt64Array.from({ length: rows }, (_, i) => BigInt((i * 31) % classes));
  const inputFile = write('threads-input.npy', { dtype: 'float32', shape: [rows, classes], data: input });
  const targetFile = write('threads-labels.npy', { dtype: 'int64', shape: [rows], data: labels });
  const values = ['1', '2', '3'].map((threads) => {
    const run = lossLensWith({ LOSS_LENS_THREADS: threads }, '--loss', 'cross_entropy', '--input', inputFile, '--target', targetFile, '--format', 'json');
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout).value as number;
  });
  assert.equal(values[1], values[0]);
  assert.equal(values[2], values[0]);
  const text = lossLensWith({ LOSS_LENS_THREADS: '2' }, '--loss', 'cross_entropy', '--input', inputFile, '--target', targetFile);
  assert.match(text.stdout, /backend: js on 2 threads, precision float32/);
  assert.doesNotMatch(lossLensWith({ LOSS_LENS_THREADS: '1' }, '--loss', 'cross_entropy', '--input', inputFile, '--target', targetFile).stdout, /threads/);
});
