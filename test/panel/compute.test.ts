// The panel's analysis on the engine's host kernel (`js`), for the corrections that follow the server's
// findings: they apply only to tensors that are probabilities, and they agree with the math.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CAPTURE_FORMAT, CAPTURE_VERSION, type CaptureRecord } from '../../client/src/capture/record';
import type { CaptureTensors } from '../../client/src/capture/tensors';
import { analyseCapture } from '../../client/src/panel/webview/compute';
import { BackendUnavailableError } from '../../server/src/losses/engine';

function record(loss: CaptureRecord['loss']): CaptureRecord {
  return {
    format: CAPTURE_FORMAT, version: CAPTURE_VERSION, id: 'unit', createdAt: '', loss, framework: 'pytorch', options: {},
    source: { via: 'helper' }, tensors: { input: { dtype: 'float32', shape: [4, 3], data: '' }, target: { dtype: 'float32', shape: [4, 3], data: '' } },
  };
}

const scores = Float32Array.from([2.5, -1, 0.3, -3, 4, 1.5, 0.2, -0.7, 2, -2, 1, 3]);
const sigmoid = scores.map((x) => 1 / (1 + Math.exp(-x)));
const multiHot = Float32Array.from([1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1]);
const tensors = (input: Float32Array, target: Float32Array | BigInt64Array, targetShape = [4, 3]): CaptureTensors => ({
  input: { dtype: 'float32', shape: [4, 3], data: input },
  target: target instanceof BigInt64Array ? { dtype: 'int64', shape: targetShape, data: target } : { dtype: 'float32', shape: targetShape, data: target },
});

describe('panel analysis: corrections from findings', () => {
  it('sigmoid-then-bce: BCE-with-logits on logit(p) gives the same loss and the same gradient', async () => {
    const analysis = await analyseCapture(record('binary_cross_entropy'), tensors(sigmoid, multiHot), 'js', ['sigmoid-then-bce']);
    assert.equal(analysis.corrected?.rule, 'sigmoid-then-bce');
    assert.ok(Math.abs(analysis.corrected!.result.value! - analysis.result!.value!) < 1e-6);
    assert.ok(Math.abs(analysis.corrected!.gradientNormRatio! - 1) < 1e-5, String(analysis.corrected!.gradientNormRatio));
  });

  it('softmax-before-cross-entropy on a capture of logits (stale capture): no correction, no NaN', async () => {
    const labels = BigInt64Array.from([0n, 1n, 2n, 1n]);
    const analysis = await analyseCapture({ ...record('cross_entropy'), tensors: { input: record('cross_entropy').tensors.input, target: { dtype: 'int64', shape: [4], data: '' } } },
      tensors(scores, labels, [4]), 'js', ['softmax-before-cross-entropy']);
    assert.equal(analysis.corrected, undefined);
    assert.ok(Number.isFinite(analysis.result!.value!));
    assert.equal(analysis.classes.reduce((total, row) => total + row.count, 0), 4);
  });
});

describe('panel analysis: backends', () => {
  it('a backend missing here rejects with BackendUnavailableError (the webview then falls back to auto), not as PyTorch\'s error', async () => {
    await assert.rejects(analyseCapture(record('binary_cross_entropy_with_logits'), tensors(scores, multiHot), 'webgpu'), BackendUnavailableError);
  });
});

describe('panel analysis: the target\'s statistics', () => {
  it('from the element pass\'s class counts (js) equal those read from the tensor (TensorFlow.js cpu, no pass)', async () => {
    // [2, 3, 40] logits, class indices with ignore_index 255 (a few) and one class absent; then ignore_index 0, a class.
    const input = Float32Array.from({ length: 240 }, (_, i) => Math.sin(i * 1.7) * 3);
    for (const ignoreIndex of [255, 0]) {
      const labels = BigInt64Array.from({ length: 80 }, (_, i) => (i % 13 === 5 ? BigInt(ignoreIndex) : BigInt((i * 7) % 2)));
      const captured: CaptureRecord = {
        ...record('cross_entropy'), options: { ignoreIndex },
        tensors: { input: { dtype: 'float32', shape: [2, 3, 40], data: '' }, target: { dtype: 'int64', shape: [2, 40], data: '' } },
      };
      const tensorsOf: CaptureTensors = { input: { dtype: 'float32', shape: [2, 3, 40], data: input }, target: { dtype: 'int64', shape: [2, 40], data: labels } };
      const fromPass = await analyseCapture(captured, tensorsOf, 'js');
      const read = await analyseCapture(captured, tensorsOf, 'cpu');
      assert.ok(fromPass.result?.backend.startsWith('js') && !read.result?.backend.startsWith('js'), `${fromPass.result?.backend} / ${read.result?.backend}`);
      const { mean: passMean, ...passRest } = fromPass.stats.target!;
      const { mean: readMean, ...readRest } = read.stats.target!;
      assert.deepEqual(passRest, readRest, `ignore_index ${ignoreIndex}`);
      assert.ok(Math.abs(passMean - readMean) < 1e-12, `${passMean} vs ${readMean}`);
    }
  });
});
