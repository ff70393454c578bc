// The host kernel's float32 fast paths (WebAssembly SIMD) against its float64 general loops, on data the
// conformance suite does not reach: extreme logits through the reduced with-logits sum, odd class counts, NaN rows.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { HostTensor, LossRequest } from '../../server/src/losses/api';
import { computeLoss } from '../../server/src/losses/engine';
import { simdKernel } from '../../server/src/losses/simd/kernel';

const asFloat64 = (tensor: HostTensor): HostTensor => ({ dtype: 'float64', shape: tensor.shape, data: Float64Array.from(tensor.data as Float32Array) });

async function agree(request: LossRequest): Promise<void> {
  const fast = await computeLoss(request, { backend: 'js' });
  const exact = await computeLoss({ ...request, input: asFloat64(request.input), target: request.target.dtype === 'float32' ? asFloat64(request.target) : request.target });
  assert.equal(exact.backend, 'js-float64');
  const [a, b] = [fast.value!, exact.value!];
  if (Number.isNaN(b)) assert.ok(Number.isNaN(a), `${a} should be NaN`);
  else assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(b) + 1e-6, `${request.loss} ${request.reduction}: fast ${a}, exact ${b}`);
}

test('the SIMD kernel loads here', () => {
  assert.ok(simdKernel(), 'WebAssembly SIMD should be available in Node 20');
});

test('cross_entropy fast path: odd class counts, large and tiny logits, NaN and infinite rows', async () => {
  for (const classes of [1, 2, 3, 7, 8, 9, 17, 1000]) {
    const rows = 37;
    const input = Float32Array.from({ length: rows * classes }, (_, i) => Math.sin(i * 1.7) * (i % 5 === 0 ? 300 : 4));
    const target = BigInt64Array.from({ length: rows }, (_, i) => BigInt((i * 7) % classes));
    for (const reduction of ['mean', 'sum'] as const) {
      await agree({ loss: 'cross_entropy', input: { dtype: 'float32', shape: [rows, classes], data: input }, target: { dtype: 'int64', shape: [rows], data: target }, reduction });
    }
  }
  const withNaN = Float32Array.from([1, 2, NaN, 0, 1, 2, 3, -Infinity, 0]);
  const nanResult = await computeLoss({ loss: 'cross_entropy', input: { dtype: 'float32', shape: [3, 3], data: withNaN }, target: { dtype: 'int64', shape: [3], data: BigInt64Array.from([0n, 1n, 2n]) }, reduction: 'none' });
  assert.ok(Number.isNaN(nanResult.values![0]));
  assert.ok(Number.isFinite(nanResult.values![1]));
  assert.ok(Number.isFinite(nanResult.values![2]));
});

test('binary_cross_entropy_with_logits fast path: extreme logits and soft targets, sums over many vectors', async () => {
  const extremes = [-1e4, -100, -87.5, -20, -1e-8, 0, 1e-8, 20, 87.5, 100, 1e4];
  const count = 4099; // not a multiple of 4: the JavaScript tail runs too
  const input = Float32Array.from({ length: count }, (_, i) => (i < extremes.length ? extremes[i] : Math.sin(i) * 30));
  const target = Float32Array.from({ length: count }, (_, i) => (i % 3) / 2);
  for (const reduction of ['mean', 'sum'] as const) {
    await agree({ loss: 'binary_cross_entropy_with_logits', input: { dtype: 'float32', shape: [count], data: input }, target: { dtype: 'float32', shape: [count], data: target }, reduction });
  }
  const nan = await computeLoss({ loss: 'binary_cross_entropy_with_logits', input: { dtype: 'float32', shape: [8], data: Float32Array.from([0, 1, 2, NaN, 4, 5, 6, 7]) }, target: { dtype: 'float32', shape: [8], data: new Float32Array(8) } });
  assert.ok(Number.isNaN(nan.value!));
});
