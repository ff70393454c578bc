// The Node-only backend setup: wasm binaries found, the optional tfjs-node-gpu loaded lazily and honestly labelled.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BackendUnavailableError, computeLoss } from '../../server/src/losses/engine';
import { configureNodeBackends, tfjsNodeUsesGpu, wasmDirectory } from '../../server/src/losses/node-backends';

const request = {
  loss: 'cross_entropy' as const,
  input: { dtype: 'float32' as const, shape: [2, 3], data: Float32Array.from([1, 2, 3, 3, 2, 1]) },
  target: { dtype: 'int64' as const, shape: [2], data: BigInt64Array.from([0n, 2n]) },
};

test('the wasm binaries are where the wasm backend will look', () => {
  assert.ok(fs.existsSync(path.join(wasmDirectory(), 'tfjs-backend-wasm-simd.wasm')));
});

test('tfjs-node-gpu, when missing, is a clear error naming the install command', async () => {
  configureNodeBackends();
  await assert.rejects(computeLoss(request, { backend: 'tfjs-node-gpu' }),
    (error: unknown) => error instanceof BackendUnavailableError && /npm install @tensorflow\/tfjs-node-gpu/.test(error.message));
  // auto tries it for a large input (65,536 elements and more), and quietly does without it.
  const large = {
    ...request,
    input: { dtype: 'float32' as const, shape: [256, 256], data: new Float32Array(256 * 256) },
    target: { dtype: 'int64' as const, shape: [256], data: new BigInt64Array(256) },
  };
  const result = await computeLoss(large, { backend: 'auto' });
  assert.equal(result.backend, 'js');
  assert.ok(Math.abs(result.value! - Math.log(256)) < 1e-5);
});

test('tfjs-node-gpu: the CPU fallback is told apart from a real GPU by its backend object', () => {
  assert.equal(tfjsNodeUsesGpu({ isUsingGpuDevice: true }), true);
  assert.equal(tfjsNodeUsesGpu({ isUsingGpuDevice: false }), false);
  assert.equal(tfjsNodeUsesGpu({}), false);
  assert.equal(tfjsNodeUsesGpu(undefined), false);
});
