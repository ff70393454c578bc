// The run-time checks (runChecks), per-class statistics and the value the user probably meant.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { HostTensor, LossRequest } from '../../server/src/losses/api';
import { classStatistics, intendedValue, runChecks } from '../../server/src/losses/checks';
import { computeLoss } from '../../server/src/losses/engine';
import { TensorFormatError } from '../../server/src/tensors/npy';

const f32 = (shape: number[], values: number[]): HostTensor => ({ dtype: 'float32', shape, data: Float32Array.from(values) });
const i64 = (shape: number[], values: number[]): HostTensor => ({ dtype: 'int64', shape, data: BigInt64Array.from(values.map(BigInt)) });
const rules = (request: LossRequest) => runChecks(request).map((check) => check.rule);

function softmaxRows(rows: number[][]): number[] {
  return rows.flatMap((row) => {
    const sum = row.reduce((s, v) => s + Math.exp(v), 0);
    return row.map((v) => Math.exp(v) / sum);
  });
}

test('input-rows-sum-to-one: softmaxed cross-entropy input, with the value meant', () => {
  const logits = [[2, -1, 0.5], [0.1, 3, -2]];
  const request: LossRequest = { loss: 'cross_entropy', input: f32([2, 3], softmaxRows(logits)), target: i64([2], [0, 1]) };
  assert.deepEqual(rules(request), ['input-rows-sum-to-one']);
  const meant = intendedValue(request)!;
  const logitsRequest: LossRequest = { ...request, input: f32([2, 3], logits.flat()) };
  assert.deepEqual(rules(logitsRequest), []);
  return computeLoss(logitsRequest).then((result) => assert.ok(Math.abs(meant.value - result.value!) < 1e-6, `${meant.value} vs ${result.value}`));
});

test('input-rows-sum-to-one along the class axis of [N, C, H]', () => {
  // Rows run along axis 1: values at (n, :, h). These sum to one per (n, h), not along the last axis.
  const input = f32([1, 2, 2], [0.25, 0.9, 0.75, 0.1]);
  assert.deepEqual(rules({ loss: 'cross_entropy', input, target: i64([1, 2], [0, 1]) }), ['input-rows-sum-to-one']);
  const notRows = f32([1, 2, 2], [0.25, 0.75, 0.9, 0.1]);
  assert.deepEqual(rules({ loss: 'cross_entropy', input: notRows, target: i64([1, 2], [0, 1]) }), []);
});

test('input-in-unit-interval and input-outside-unit-interval for the binary losses', () => {
  const probabilities = f32([4], [0.9, 0.2, 0.7, 0.4]);
  const logits = f32([4], [2.1, -1.3, 0.8, -0.2]);
  const target = f32([4], [1, 0, 1, 0]);
  assert.deepEqual(rules({ loss: 'binary_cross_entropy_with_logits', input: probabilities, target }), ['input-in-unit-interval']);
  assert.deepEqual(rules({ loss: 'binary_cross_entropy_with_logits', input: logits, target }), []);
  assert.deepEqual(rules({ loss: 'binary_cross_entropy', input: logits, target }), ['input-outside-unit-interval']);
  assert.deepEqual(rules({ loss: 'binary_cross_entropy', input: probabilities, target }), []);
  const meant = intendedValue({ loss: 'binary_cross_entropy_with_logits', input: probabilities, target })!;
  const bce = -[0.9, 0.2, 0.7, 0.4].reduce((s, p, i) => s + ([1, 0, 1, 0][i] ? Math.log(p) : Math.log(1 - p)), 0) / 4;
  assert.ok(Math.abs(meant.value - bce) < 1e-6);
});

test('target checks: out of range, float integers, one-hot, multi-hot, non-finite', () => {
  const input = f32([3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const outOfRange = runChecks({ loss: 'cross_entropy', input, target: i64([3], [0, 5, -100]) });
  assert.deepEqual(outOfRange.map((c) => c.rule), ['target-out-of-range']);
  assert.match(outOfRange[0].message, /1 target value is outside \[0, 3\).*Target 5 is out of bounds/);
  assert.deepEqual(rules({ loss: 'cross_entropy', input, target: f32([3], [0, 2, 1]) }), ['target-float-integers']);
  assert.deepEqual(rules({ loss: 'cross_entropy', input, target: f32([3, 3], [1, 0, 0, 0, 0, 1, 0, 1, 0]) }), ['target-one-hot']);
  assert.deepEqual(rules({ loss: 'cross_entropy', input, target: i64([3, 3], [1, 0, 0, 0, 0, 1, 0, 1, 0]) }), ['target-one-hot']);
  assert.deepEqual(rules({ loss: 'cross_entropy', input, target: f32([3, 3], [1, 1, 0, 0, 0, 1, 0, 1, 0]) }), ['target-multi-hot']);
  assert.deepEqual(rules({ loss: 'cross_entropy', input, target: f32([3, 3], [0.2, 0.8, 0, 0, 0, 1, 0, 1, 0]) }), []);
  const nan = runChecks({ loss: 'cross_entropy', input: f32([2, 2], [NaN, 1, Infinity, 0]), target: i64([2], [0, 1]) });
  assert.equal(nan[0].rule, 'non-finite-values');
  assert.match(nan[0].message, /2 in the input/);
});

test('class-imbalance: normalised inverse-frequency weight and negatives/positives pos_weight, ready to paste', () => {
  const labels = [...new Array(30).fill(0), ...new Array(2).fill(1), ...new Array(8).fill(2)];
  const input = f32([40, 3], new Array(120).fill(0).map((_, i) => Math.sin(i)));
  const [check] = runChecks({ loss: 'cross_entropy', input, target: i64([40], labels) });
  assert.equal(check.rule, 'class-imbalance');
  // 40 / (3 * count): 0.444, 6.67, 1.67 — the sample-weighted mean is 1.
  assert.equal(check.suggestion, 'weight=torch.tensor([0.444, 6.67, 1.67])');
  // Column 0: 1 positive in 12 (under a tenth of the 11 negatives); column 1: 11 positives, 1 negative.
  const columns = new Array(12).fill(0).flatMap((_, row) => [row === 0 ? 1 : 0, row === 0 ? 0 : 1]);
  const [binary] = runChecks({ loss: 'binary_cross_entropy_with_logits', input: f32([12, 2], new Array(24).fill(3)), target: f32([12, 2], columns) });
  assert.equal(binary.rule, 'class-imbalance');
  assert.match(binary.message, /output 0 has 1 positives against 11 negatives/);
  assert.equal(binary.suggestion, 'pos_weight=torch.tensor([11.0, 0.0909])');
  // [1, 2, 12, 1]: channel 0 has 1 positive in 12, channel 1 has 6.
  const spatial = f32([1, 2, 12, 1], [1, ...new Array(11).fill(0), 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]);
  const [perChannel] = runChecks({ loss: 'binary_cross_entropy_with_logits', input: f32([1, 2, 12, 1], new Array(24).fill(5)), target: spatial });
  assert.equal(perChannel.suggestion, 'pos_weight=torch.tensor([11.0, 1.0]).view(-1, 1, 1)');
});

test('loss-near-uniform needs the result: within 2% of ln(C)', async () => {
  const request: LossRequest = { loss: 'cross_entropy', input: f32([2, 4], [0.01, 0, 0, 0.02, 0, 0.03, 0, 0]), target: i64([2], [0, 1]) };
  const result = await computeLoss(request);
  assert.deepEqual(runChecks(request, result).map((c) => c.rule), ['loss-near-uniform']);
  const confident: LossRequest = { ...request, input: f32([2, 4], [9, 0, 0, 0, 0, 9, 0, 0]) };
  assert.deepEqual(runChecks(confident, await computeLoss(confident)).map((c) => c.rule), []);
});

test('classStatistics: counts, frequencies and per-class mean loss', () => {
  const request: LossRequest = { loss: 'cross_entropy', input: f32([3, 2], [0, 0, 2, 0, 0, 2]), target: i64([3], [0, 0, 1]) };
  const stats = classStatistics(request);
  assert.deepEqual(stats.map((s) => s.count), [2, 1]);
  assert.deepEqual(stats.map((s) => Number(s.frequency.toFixed(3))), [0.667, 0.333]);
  const ln2 = Math.log(2);
  const confident = Math.log1p(Math.exp(-2));
  assert.ok(Math.abs(stats[0].meanLoss - (ln2 + confident) / 2) < 1e-6);
  assert.ok(Math.abs(stats[1].meanLoss - confident) < 1e-6);
});

test('a HostTensor whose data disagrees with its shape is a TensorFormatError, not a silent NaN', async () => {
  await assert.rejects(computeLoss({ loss: 'cross_entropy', input: f32([2, 3], [1, 2, 3]), target: i64([2], [0, 1]) }),
    (error: unknown) => error instanceof TensorFormatError && /input: shape \[2, 3\] needs 6 values, the data holds 3/.test(error.message));
});
