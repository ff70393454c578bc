// The PyTorch-generated conformance suite on every backend Node offers: the host kernel ('js'), cpu and wasm.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LossError } from '../../server/src/losses/api';
import { BackendChoice, computeLoss } from '../../server/src/losses/engine';
import { configureNodeBackends } from '../../server/src/losses/node-backends';
import { checkResult, ConformanceCase, toRequest } from './conformance-cases';

const suite = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/conformance/cases.json'), 'utf8')) as { cases: ConformanceCase[] };
configureNodeBackends();

test('the suite is substantial: at least 150 cases, errors and gradients included', () => {
  assert.ok(suite.cases.length >= 150, `${suite.cases.length} cases`);
  assert.ok(suite.cases.filter((c) => c.error).length >= 20);
  assert.ok(suite.cases.filter((c) => c.expected?.gradient).length >= 40);
});

// 'js' runs twice: values come from its float32 fast paths (the SIMD kernels) and float64 loops; gradients from the
// general loops, checked in the second run.
const runs: [BackendChoice, boolean][] = [['js', false], ['js', true], ['cpu', false], ['wasm', false]];
for (const [backend, withGradient] of runs) {
  test(`conformance with PyTorch on backend ${backend}${withGradient ? ', with gradients' : ''}`, async () => {
    const failures: string[] = [];
    for (const original of suite.cases) {
      const testCase = structuredClone(original);
      const request = toRequest(testCase, withGradient);
      try {
        const result = await computeLoss(request, { backend });
        if (testCase.error) {
          failures.push(`${testCase.id}: PyTorch raises "${testCase.error}", we computed ${result.value}`);
          continue;
        }
        if (testCase.expected!.dtype === 'float32' && result.backend !== backend) failures.push(`${testCase.id}: ran on ${result.backend}`);
        if (!withGradient) delete testCase.expected!.gradient;
        for (const problem of checkResult(testCase, result)) failures.push(`${testCase.id}: ${problem}`);
      } catch (error) {
        if (!(error instanceof LossError)) throw error;
        if (error.message !== testCase.error) failures.push(`${testCase.id}: we raise "${error.message}", PyTorch ${testCase.error ? `"${testCase.error}"` : 'computes'}`);
      }
    }
    assert.deepEqual(failures, []);
  });
}
