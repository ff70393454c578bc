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
