// The panel's one-pass analysis (element-pass.ts) against the engine's general kernels it replaces, and the host
// kernel's worker threads (parallel.ts): the same values as one thread, bit for bit, on every thread count.
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { HostTensor, LossRequest } from '../../server/src/losses/api';
import { computeElementPass, computeLoss } from '../../server/src/losses/engine';
import { toFloat64 } from '../../server/src/losses/validate';
import { configureParallelKernels } from '../../server/src/losses/parallel';

/** A deterministic [N, C, ...inner] capture with some ignored targets, large logits, and a NaN row when asked. */
function capture(shape: number[], options: { ignore?: number; nan?: boolean; float64?: boolean; infinities?: boolean } = {}): LossRequest {
  const [batch, classes] = shape;
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const count = batch * classes * inner;
  const values = Array.from({ length: count }, (_, i) => Math.sin(i * 12.9898) * (i % 97 === 0 ? 60 : 3));
  if (options.nan) values[inner + 1] = NaN; // sample 0, class 1, position 1
  if (options.infinities) {
    // Masked classes (-inf, as attention-style masking writes them) at every 3rd position, some of them the target's;
    // one +inf score (the position's loss is NaN, as in PyTorch).
    for (let j = 0; j < inner * batch; j += 3) values[Math.floor(j / inner) * classes * inner + (j % inner) + (j % classes) * inner] = -Infinity;
    values[2 * inner + 5] = Infinity;
  }
  const input: HostTensor = options.float64
    ? { dtype: 'float64', shape, data: Float64Array.from(values) }
    : { dtype: 'float32', shape, data: Float32Array.from(values) };
  const target = BigInt64Array.from({ length: batch * inner }, (_, i) => (options.ignore !== undefined && i % 11 === 3 ? BigInt(options.ignore) : BigInt((i * 7 + (i >> 3)) % classes)));
  return { loss: 'cross_entropy', input, target: { dtype: 'int64', shape: [batch, ...shape.slice(2)], data: target }, ignoreIndex: options.ignore };
}

function close(actual: number, expected: number, tolerance: number, what: string): void {
  if (Number.isNaN(expected)) return assert.ok(Number.isNaN(actual), `${what}: ${actual} should be NaN`);
  if (!Number.isFinite(expected)) return assert.equal(actual, expected, what);
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

/** The pass's value, element losses, class table and input statistics against the general kernels and plain loops. */
async function agreesWithGeneralKernels(request: LossRequest): Promise<void> {
  const pass = await computeElementPass(request, { backend: 'js' });
  assert.ok(pass, 'a class-index request on the host kernel takes the element pass');
  // float64 inputs: the same float64 loops. float32 cross-entropy without smoothing: the pass (and the general
  // [N, C] path) take exp in float32 on SIMD lanes (~1e-7); otherwise the pass's exp is good to 1e-11.
  const onSimd = request.input.dtype === 'float32' && request.loss === 'cross_entropy' && !request.labelSmoothing;
  const tolerance = request.input.dtype === 'float64' ? 1e-12 : onSimd ? 1e-6 : 1e-9;
  const reference = await computeLoss(request, { backend: 'js' });
  close(pass.result.value!, reference.value!, tolerance, 'value');
  const none = (await computeLoss({ ...request, reduction: 'none' }, { backend: 'js' })).values!;
  const plain = (await computeLoss({ ...request, weight: undefined, labelSmoothing: 0, reduction: 'none' }, { backend: 'js' })).values!;
  const input = toFloat64(request.input);
  const target = toFloat64(request.target);
  const [batch, classes] = request.input.shape;
  const inner = input.length / (batch * classes);
  const ignore = request.ignoreIndex ?? -100;
  const count = new Float64Array(classes);
  const lossSum = new Float64Array(classes);
  const hits = new Float64Array(classes);
  for (let row = 0; row < none.length; row++) {
    close(pass.values[row], none[row], tolerance, `element ${row}`);
    const t = target[row];
    if (t === ignore) {
      assert.ok(Number.isNaN(pass.trueProbability[row]), 'an ignored row has no true-class probability');
      continue;
    }
    close(pass.trueProbability[row], Math.exp(-plain[row]), tolerance, `probability ${row}`);
    const base = Math.floor(row / inner) * classes * inner + (row % inner);
    let predicted = 0;
    for (let c = 1; c < classes; c++) if (input[base + c * inner] > input[base + predicted * inner]) predicted = c;
    count[t]++;
    lossSum[t] += none[row];
    if (predicted === t) hits[t]++;
  }
  for (let c = 0; c < classes; c++) {
    assert.equal(pass.summary.classCount[c], count[c], `class ${c} count`);
    close(pass.summary.classLoss[c], lossSum[c], tolerance, `class ${c} loss sum`);
    assert.equal(pass.summary.classHits[c], hits[c], `class ${c} argmax hits`);
  }
  const finite = Array.from(input).filter(Number.isFinite);
  assert.equal(pass.summary.finite, finite.length);
  assert.equal(pass.summary.nonFinite, input.length - finite.length);
  assert.equal(pass.summary.min, Math.min(...finite));
  assert.equal(pass.summary.max, Math.max(...finite));
}

describe('element pass: the same numbers as the general kernels', () => {
  it('[N, C, H, W] with ignore_index, class weights and label smoothing', async () => {
    const request = capture([3, 5, 7, 9], { ignore: 255 });
    await agreesWithGeneralKernels(request);
    await agreesWithGeneralKernels({ ...request, weight: { dtype: 'float32', shape: [5], data: Float32Array.from([0.5, 2, 1, 3, 0.25]) } });
    await agreesWithGeneralKernels({ ...request, labelSmoothing: 0.1 });
    await agreesWithGeneralKernels({ ...request, reduction: 'sum', weight: { dtype: 'float32', shape: [5], data: Float32Array.from([0.5, 2, 1, 3, 0.25]) }, labelSmoothing: 0.2 });
  });

  it('[N, C] rows, a 1-D input, float64, nll_loss, a NaN', async () => {
    await agreesWithGeneralKernels(capture([40, 6]));
    await agreesWithGeneralKernels(capture([2, 4, 33], { float64: true, ignore: -100 }));
    await agreesWithGeneralKernels(capture([2, 4, 10], { nan: true }));
    await agreesWithGeneralKernels(capture([3, 5, 37], { infinities: true, ignore: 255 }));
    await agreesWithGeneralKernels({ ...capture([6, 3, 5]), loss: 'nll_loss' });
    await agreesWithGeneralKernels({ loss: 'cross_entropy', input: { dtype: 'float32', shape: [4], data: Float32Array.from([1, -2, 0.5, 3]) }, target: { dtype: 'int64', shape: [], data: BigInt64Array.from([2n]) } });
  });

  it('is not taken for probability targets, binary losses or a TensorFlow.js backend', async () => {
    const request = capture([2, 3, 4]);
    assert.equal(await computeElementPass({ ...request, target: { dtype: 'float32', shape: [2, 3, 4], data: new Float32Array(24).fill(1 / 3) } }, { backend: 'js' }), null);
    assert.equal(await computeElementPass({ loss: 'binary_cross_entropy_with_logits', input: request.input, target: { dtype: 'float32', shape: [2, 3, 4], data: new Float32Array(24) } }, { backend: 'js' }), null);
    assert.equal(await computeElementPass(request, { backend: 'cpu' }), null);
  });
});

describe('worker threads: the same bits on any thread count', () => {
  after(() => configureParallelKernels(1));

  it('element pass and cross_entropy rows on 1, 2 and 3 threads', async () => {
    // Past the size where threads are used (1M elements): [4, 19, 128, 128] and [4099, 300].
    const segmentation = capture([4, 19, 128, 128], { ignore: 255 });
    const rows = capture([4099, 300]);
    const runs = [];
    for (const threads of [1, 2, 3]) {
      configureParallelKernels(threads);
      const pass = (await computeElementPass(segmentation, { backend: 'js' }))!;
      const value = await computeLoss(rows, { backend: 'js' });
      assert.equal(pass.result.threads, threads === 1 ? undefined : threads, 'the result says how many threads ran');
      assert.equal(value.threads, threads === 1 ? undefined : threads);
      runs.push({ value: pass.result.value, classLoss: Array.from(pass.summary.classLoss), values: pass.values, rows: value.value });
    }
    for (const run of runs.slice(1)) {
      assert.equal(run.value, runs[0].value);
      assert.deepEqual(run.classLoss, runs[0].classLoss);
      assert.deepEqual(run.values, runs[0].values);
      assert.equal(run.rows, runs[0].rows);
    }
    const reference = await computeLoss({ ...rows, input: { dtype: 'float64', shape: rows.input.shape, data: Float64Array.from(rows.input.data as Float32Array) } });
    close(runs[0].rows!, reference.value!, 1e-6, 'float32 rows on threads against float64');
  });
});

describe('worker threads: idle ones keep no process alive', () => {
  it('a process that starts the pool and runs nothing exits by itself', () => {
    const source = path.join(__dirname, '../../server/src/losses/parallel.ts');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', `require(${JSON.stringify(source)}).configureParallelKernels(3); console.log('started')`],
      { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.signal, null, 'killed by the timeout: the idle workers held the event loop');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /started/);
  });
});

describe('int64 values', () => {
  it('read from their 32-bit halves exactly as Number(bigint) rounds them', () => {
    const samples = [0n, 1n, -1n, 255n, -100n, 2n ** 31n, -(2n ** 31n) - 1n, 2n ** 53n + 1n, -(2n ** 62n) + 12345n, 2n ** 63n - 1n, -(2n ** 63n)];
    assert.deepEqual(Array.from(toFloat64({ dtype: 'int64', shape: [samples.length], data: BigInt64Array.from(samples) })), samples.map(Number));
    const unsigned = [0n, 2n ** 32n - 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 53n + 3n];
    assert.deepEqual(Array.from(toFloat64({ dtype: 'uint64', shape: [unsigned.length], data: BigUint64Array.from(unsigned) })), unsigned.map(Number));
  });
});
