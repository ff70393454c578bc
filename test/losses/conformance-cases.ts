/**
 * The PyTorch-generated conformance suite (test/fixtures/conformance/cases.json, written by
 * scripts/gen-conformance.py), decoded into engine requests, and the tolerance check against PyTorch.
 * Browser-safe: the WebGL/WebGPU page runs the same cases through the same code.
 */
import type { DType, HostTensor, LossRequest, LossResult } from '../../server/src/losses/api';

type JsonNumber = number | 'nan' | 'inf' | '-inf';

interface JsonTensor {
  dtype: DType;
  shape: number[];
  data: JsonNumber[];
}

export interface ConformanceCase {
  id: string;
  loss: LossRequest['loss'];
  input: JsonTensor;
  target: JsonTensor;
  weight?: JsonTensor;
  posWeight?: JsonTensor;
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction: 'mean' | 'sum' | 'none';
  error?: string;
  expected?: { dtype: 'float32' | 'float64'; shape: number[]; value?: JsonNumber; values?: JsonNumber[]; gradient?: JsonNumber[] };
}

export function decodeNumber(value: JsonNumber): number {
  if (value === 'nan') return NaN;
  if (value === 'inf') return Infinity;
  if (value === '-inf') return -Infinity;
  return value;
}

function decodeTensor(tensor: JsonTensor): HostTensor {
  const values = tensor.data.map(decodeNumber);
  const data = (() => {
    switch (tensor.dtype) {
      case 'float32': return Float32Array.from(values);
      case 'float64': return Float64Array.from(values);
      case 'int64': return BigInt64Array.from(values.map((v) => BigInt(v)));
      case 'int32': return Int32Array.from(values);
      case 'uint8': case 'bool': return Uint8Array.from(values);
      default: throw new Error(`conformance suite: unexpected dtype ${tensor.dtype}`);
    }
  })();
  return { dtype: tensor.dtype, shape: tensor.shape, data };
}

export function toRequest(testCase: ConformanceCase, withGradient = false): LossRequest {
  return {
    loss: testCase.loss,
    input: decodeTensor(testCase.input),
    target: decodeTensor(testCase.target),
    weight: testCase.weight && decodeTensor(testCase.weight),
    posWeight: testCase.posWeight && decodeTensor(testCase.posWeight),
    ignoreIndex: testCase.ignoreIndex,
    labelSmoothing: testCase.labelSmoothing,
    reduction: testCase.reduction,
    withGradient,
  };
}

/** The agreement the spec demands, loosened to `float16Relative` for a backend that only has float16 textures. */
export function tolerance(dtype: 'float32' | 'float64', precision: string): { relative: number; absolute: number } {
  if (precision === 'float16') return { relative: 2e-3, absolute: 2e-3 };
  return dtype === 'float64' ? { relative: 1e-12, absolute: 1e-14 } : { relative: 1e-5, absolute: 1e-6 };
}

/** The first disagreement between our numbers and PyTorch's, or null. */
export function compareNumbers(actual: ArrayLike<number>, expected: JsonNumber[], limits: { relative: number; absolute: number }, what: string): string | null {
  if (actual.length !== expected.length) return `${what}: ${actual.length} values, PyTorch has ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const want = decodeNumber(expected[i]);
    const got = actual[i];
    const agree = Number.isNaN(want) ? Number.isNaN(got)
      : !Number.isFinite(want) ? got === want
      : Math.abs(got - want) <= limits.relative * Math.abs(want) + limits.absolute;
    if (!agree) return `${what}[${i}]: got ${got}, PyTorch ${want}`;
  }
  return null;
}

/** Checks a result against the case's expectation; returns the problems found (empty when it conforms). */
export function checkResult(testCase: ConformanceCase, result: LossResult): string[] {
  const expected = testCase.expected!;
  const limits = tolerance(expected.dtype, result.precision);
  const problems: string[] = [];
  if (testCase.reduction === 'none') {
    if (result.value !== null) problems.push('value should be null for reduction none');
    if (JSON.stringify(result.shape) !== JSON.stringify(expected.shape)) problems.push(`shape ${JSON.stringify(result.shape)} vs ${JSON.stringify(expected.shape)}`);
    const mismatch = compareNumbers(result.values ?? [], expected.values!, limits, 'values');
    if (mismatch) problems.push(mismatch);
  } else {
    const mismatch = compareNumbers([result.value ?? NaN], [expected.value!], limits, 'value');
    if (mismatch) problems.push(mismatch);
  }
  if (expected.gradient) {
    const gradientLimits = { ...limits, absolute: Math.max(limits.absolute, expected.dtype === 'float64' ? 1e-14 : 1e-6) };
    const mismatch = result.gradient ? compareNumbers(result.gradient.data as ArrayLike<number>, expected.gradient, gradientLimits, 'gradient') : 'no gradient';
    if (mismatch) problems.push(mismatch);
  }
  return problems;
}
