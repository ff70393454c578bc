// The conformance suite inside a real browser: bundled by test/losses/browser.test.ts, opened in headless Chromium.
// Runs every case on the backend named in the page's query (?backend=webgl), records disagreements with PyTorch.
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { LossError } from '../../../server/src/losses/api';
import { BackendChoice, computeLoss } from '../../../server/src/losses/engine';
import { checkResult, ConformanceCase, toRequest } from '../conformance-cases';

interface PageReport {
  backend: string;
  ranOn: string[];
  precision: string[];
  cases: number;
  failures: string[];
  fatal?: string;
}

declare global {
  interface Window { lossLensReport?: PageReport }
}

/** What `auto` picks in this browser for an input big enough to pay for a GPU (256 x 256 float32). */
async function autoChoice(): Promise<PageReport> {
  const classes = 256;
  const input = Float32Array.from({ length: classes * classes }, (_, i) => Math.sin(i));
  const target = BigInt64Array.from({ length: classes }, (_, i) => BigInt(i));
  const result = await computeLoss({ loss: 'cross_entropy', input: { dtype: 'float32', shape: [classes, classes], data: input }, target: { dtype: 'int64', shape: [classes], data: target } });
  const exact = await computeLoss({ loss: 'cross_entropy', input: { dtype: 'float64', shape: [classes, classes], data: Float64Array.from(input) }, target: { dtype: 'int64', shape: [classes], data: target } });
  const agree = Math.abs(result.value! - exact.value!) <= 1e-5 * Math.abs(exact.value!);
  return { backend: 'auto', ranOn: [result.backend], precision: [result.precision], cases: 1, failures: agree ? [] : [`auto: ${result.value} vs float64 ${exact.value}`] };
}

async function main(): Promise<PageReport> {
  if (new URLSearchParams(location.search).get('backend') === 'auto') return autoChoice();
  const query = new URLSearchParams(location.search);
  const backend = query.get('backend') as BackendChoice;
  // ?float16=1 plays a GPU without float32 render targets: WebGL then stores tensors in half-float textures.
  const float16 = query.get('float16') === '1';
  if (float16) tf.env().set('WEBGL_RENDER_FLOAT32_ENABLED', false);
  setWasmPaths(new URL('./', location.href).href);
  // Every case on the GPU, small ones included (by default WebGL forwards tensors of <= 128 elements to the CPU).
  tf.env().set('WEBGL_CPU_FORWARD', false);
  const suite = (await (await fetch('cases.json')).json()) as { cases: ConformanceCase[] };
  const report: PageReport = { backend, ranOn: [], precision: [], cases: 0, failures: [] };
  // float16 keeps ~3 significant digits: only the moderate-valued GPU-sized cases are meaningful there.
  const cases = float16 ? suite.cases.filter((c) => c.id.includes('gpu-size') && !c.error && c.expected!.dtype === 'float32') : suite.cases;
  for (const testCase of cases) {
    report.cases++;
    try {
      const result = await computeLoss(toRequest(testCase), { backend });
      if (!report.ranOn.includes(result.backend)) report.ranOn.push(result.backend);
      if (!report.precision.includes(result.precision)) report.precision.push(result.precision);
      if (testCase.error) {
        report.failures.push(`${testCase.id}: PyTorch raises "${testCase.error}", we computed ${result.value}`);
        continue;
      }
      delete testCase.expected!.gradient; // host-kernel gradients are checked in Node
      for (const problem of checkResult(testCase, result)) report.failures.push(`${testCase.id}: ${problem}`);
    } catch (error) {
      if (!(error instanceof LossError)) throw error;
      if (error.message !== testCase.error) report.failures.push(`${testCase.id}: we raise "${error.message}"`);
    }
  }
  return report;
}

main().then(
  (report) => { window.lossLensReport = report; },
  (error: unknown) => {
    window.lossLensReport = { backend: '', ranOn: [], precision: [], cases: 0, failures: [], fatal: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  },
);
