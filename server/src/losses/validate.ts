/**
 * PyTorch's argument checks, in PyTorch's order and words (torch 1.13, the version the conformance
 * suite was generated with), turning a `LossRequest` into a `LossPlan` the kernels run without further checks.
 */
import { TensorFormatError } from '../tensors/npy';
import { gatherStrided } from '../tensors/strided';
import { DType, HostTensor, LossError, LossRequest, Reduction } from './api';

export type FloatArray = Float32Array | Float64Array;

/** Cross-entropy and nll_loss, laid out as input `[N, C, inner]` (inner = d1*..*dk; N = inner = 1 for a 1-D input). */
export interface ClassLossPlan {
  family: 'class';
  loss: 'cross_entropy' | 'nll_loss';
  targetKind: 'index' | 'probability';
  input: FloatArray;
  batch: number;
  classes: number;
  inner: number;
  /** Class indices per row (row = n * inner + j), for index targets. */
  targetIndex: Float64Array | null;
  /** The target tensor's values (same layout as the input), for probability targets. */
  targetProbability: FloatArray | null;
  /** Per-class weights, or null. */
  weight: Float64Array | null;
  ignoreIndex: number;
  /** 0 when no smoothing applies (PyTorch ignores negative values for index targets). */
  labelSmoothing: number;
  reduction: Reduction;
  /** Shape of the per-element losses (reduction 'none'). */
  outShape: number[];
  inputDType: DType;
  /** float64 when PyTorch's result would be float64. */
  resultDType: 'float32' | 'float64';
}

/** The two binary losses, elementwise over the input's shape. */
export interface BinaryLossPlan {
  family: 'binary';
  loss: 'binary_cross_entropy' | 'binary_cross_entropy_with_logits';
  input: FloatArray;
  target: FloatArray;
  /** Broadcast to the input's element count, or null. */
  weight: Float64Array | null;
  posWeight: Float64Array | null;
  reduction: Reduction;
  outShape: number[];
  inputDType: DType;
  resultDType: 'float32' | 'float64';
}

export type LossPlan = ClassLossPlan | BinaryLossPlan;

const TORCH_DTYPE: Record<DType, string> = {
  float16: 'Half', float32: 'Float', float64: 'Double',
  int8: 'Char', int16: 'Short', int32: 'Int', int64: 'Long',
  uint8: 'Byte', uint16: 'UInt16', uint32: 'UInt32', uint64: 'UInt64', bool: 'Bool',
};

export function isFloating(dtype: DType): boolean {
  return dtype === 'float16' || dtype === 'float32' || dtype === 'float64';
}

export function elementCount(shape: number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** `[4, 3]`, as c10 prints sizes. */
function formatSizes(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

/** `torch.Size([4, 3])`, as Python prints `tensor.size()`. */
function formatTorchSize(shape: number[]): string {
  return `torch.Size(${formatSizes(shape)})`;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

/**
 * A tensor's values as the kernels, checks and panel read them: float tensors without a copy (float16 arrives as
 * Float32Array values already; a copy of a [65536, 1000] input would double the memory), others as float64.
 */
export function floatValues(tensor: HostTensor): FloatArray {
  return tensor.data instanceof Float32Array || tensor.data instanceof Float64Array ? tensor.data : toFloat64(tensor);
}

/**
 * Integer tensors' float64 views, by data array: the checks, the plan, the class table and the statistics all read
 * the target's values, and a decoded tensor is never written to.
 */
const float64Views = new WeakMap<HostTensor['data'], Float64Array>();

/** Any tensor's values as float64 numbers (int64 included; class indices fit easily). */
export function toFloat64(tensor: HostTensor): Float64Array {
  const { data } = tensor;
  if (data instanceof Float64Array) return data;
  let view = float64Views.get(data);
  if (!view) {
    view = convertToFloat64(data);
    float64Views.set(data, view);
  }
  return view;
}

/**
 * A float64 array on shared memory where the runtime has it (Node; a cross-origin isolated page): the host kernel's
 * worker threads read and write such arrays in place (a converted target, the parallel passes' outputs).
 */
export function sharedFloat64Array(length: number): Float64Array {
  return typeof SharedArrayBuffer === 'undefined' ? new Float64Array(length) : new Float64Array(new SharedArrayBuffer(length * 8));
}

function convertToFloat64(data: Exclude<HostTensor['data'], Float64Array>): Float64Array {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    // From the two 32-bit halves (typed arrays are in the platform's order, little-endian everywhere this runs):
    // hi * 2^32 is exact and adding lo rounds once, as Number(bigint) does, at a tenth of the cost of BigInt reads.
    const out = sharedFloat64Array(data.length);
    const low = new Uint32Array(data.buffer, data.byteOffset, data.length * 2);
    if (data instanceof BigUint64Array) {
      for (let i = 0; i < data.length; i++) out[i] = low[2 * i + 1] * 4294967296 + low[2 * i];
    } else {
      const high = new Int32Array(data.buffer, data.byteOffset, data.length * 2);
      for (let i = 0; i < data.length; i++) out[i] = high[2 * i + 1] * 4294967296 + low[2 * i];
    }
    return out;
  }
  const out = sharedFloat64Array(data.length);
  out.set(data);
  return out;
}

/** torch's broadcasting of two shapes, or its error message ("tensor a" is the first). */
function broadcastShapes(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const dimA = a[a.length - rank + i] ?? 1;
    const dimB = b[b.length - rank + i] ?? 1;
    if (dimA !== dimB && dimA !== 1 && dimB !== 1) {
      throw new LossError(`The size of tensor a (${dimA}) must match the size of tensor b (${dimB}) at non-singleton dimension ${i}`);
    }
    out.push(dimA === 1 ? dimB : dimA);
  }
  return out;
}

/** An in-place `out.mul_(other)`: `other` must broadcast to `out`'s shape exactly. */
function checkInPlaceBroadcast(outShape: number[], otherShape: number[]): void {
  const shape = broadcastShapes(outShape, otherShape);
  if (!sameShape(shape, outShape)) {
    throw new LossError(`output with shape ${formatSizes(outShape)} doesn't match the broadcast shape ${formatSizes(shape)}`);
  }
}

/** Expands `tensor` (whose shape broadcasts to `shape`) into a dense row-major array of `shape`. */
function expandTo(tensor: HostTensor, shape: number[]): Float64Array {
  const values = toFloat64(tensor);
  const count = elementCount(shape);
  if (sameShape(tensor.shape, shape)) return values;
  const rank = shape.length;
  const sourceStrides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let axis = tensor.shape.length - 1; axis >= 0; axis--) {
    const outAxis = rank - tensor.shape.length + axis;
    sourceStrides[outAxis] = tensor.shape[axis] === 1 ? 0 : stride;
    stride *= tensor.shape[axis];
  }
  const out = new Float64Array(count);
  gatherStrided(values, out, shape, sourceStrides);
  return out;
}

function resultDType(...dtypes: (DType | undefined)[]): 'float32' | 'float64' {
  return dtypes.includes('float64') ? 'float64' : 'float32';
}

/** Validates a request as PyTorch would, throwing `LossError` with PyTorch's message. */
export function planLoss(request: LossRequest): LossPlan {
  const reduction = request.reduction ?? 'mean';
  // A HostTensor built by a caller (the panel) may disagree with itself: a clear error, not reads past the data.
  for (const [name, tensor] of [['input', request.input], ['target', request.target], ['weight', request.weight], ['pos_weight', request.posWeight]] as const) {
    if (tensor && tensor.data.length !== elementCount(tensor.shape)) {
      throw new TensorFormatError(`${name}: shape [${tensor.shape.join(', ')}] needs ${elementCount(tensor.shape)} values, the data holds ${tensor.data.length}`);
    }
  }
  if (request.loss === 'cross_entropy' || request.loss === 'nll_loss') return planClassLoss(request, reduction);
  return planBinaryLoss(request, reduction);
}

function planClassLoss(request: LossRequest, reduction: Reduction): ClassLossPlan {
  const { input, target, weight } = request;
  const ignoreIndex = request.ignoreIndex ?? -100;
  const smoothing = request.labelSmoothing ?? 0;
  const isCrossEntropy = request.loss === 'cross_entropy';
  if (!isFloating(input.dtype)) {
    throw new LossError(isCrossEntropy
      ? `"log_softmax_lastdim_kernel_impl" not implemented for '${TORCH_DTYPE[input.dtype]}'`
      : `"nll_loss_out_frame" not implemented for '${TORCH_DTYPE[input.dtype]}'`);
  }
  if (input.shape.length === 0) throw new LossError('Expected 1 or more dimensions (got 0)');
  const rank = input.shape.length;
  const classes = rank === 1 ? input.shape[0] : input.shape[1];
  const batch = rank === 1 ? 1 : input.shape[0];
  const inner = elementCount(input.shape.slice(2));
  const base = {
    family: 'class' as const, loss: request.loss as 'cross_entropy' | 'nll_loss', input: floatValues(input), batch, classes, inner,
    ignoreIndex, reduction, inputDType: input.dtype,
  };

  if (isCrossEntropy && sameShape(input.shape, target.shape)) {
    if (!isFloating(target.dtype)) {
      throw new LossError(`Expected floating point type for target with class probabilities, got ${TORCH_DTYPE[target.dtype]}`);
    }
    if (ignoreIndex >= 0) throw new LossError('ignore_index is not supported for floating point target');
    if (weight && !(weight.shape.length === 1 && weight.shape[0] === classes)) {
      throw new LossError(`cross_entropy: weight tensor should be defined either for all ${classes} classes or no classes but got weight tensor of shape: ${formatSizes(weight.shape)}`);
    }
    if (smoothing > 1) throw new LossError(`label_smoothing must be between 0.0 and 1.0. Got: ${formatPythonFloat(smoothing)}`);
    return {
      ...base, targetKind: 'probability', targetIndex: null, targetProbability: floatValues(target),
      weight: weight ? toFloat64(weight) : null, labelSmoothing: Math.max(smoothing, 0),
      outShape: rank === 1 ? [] : [input.shape[0], ...input.shape.slice(2)],
      resultDType: resultDType(input.dtype, target.dtype, weight?.dtype),
    };
  }
  if (isCrossEntropy && smoothing > 1) {
    throw new LossError(`label_smoothing must be between 0.0 and 1.0. Got: ${formatPythonFloat(smoothing)}`);
  }

  // nll_loss_nd's checks, then nll_loss's (rank <= 2) or nll_loss2d's (rank >= 3, reshaped to 4-D).
  if (rank !== 1 && input.shape[0] !== (target.shape[0] ?? 1)) {
    throw new LossError(`Expected input batch_size (${input.shape[0]}) to match target batch_size (${target.shape[0] ?? 1}).`);
  }
  let outShape: number[];
  if (rank <= 2) {
    if (target.shape.length > 1) throw new LossError('0D or 1D target tensor expected, multi-target not supported');
    const noBatchDim = rank === 1 && target.shape.length === 0;
    if (!noBatchDim && input.shape[0] !== (target.shape[0] ?? 1)) {
      throw new LossError(`size mismatch (got input: ${formatSizes(input.shape)}, target: ${formatSizes(target.shape)})`);
    }
    if (weight && !(weight.shape.length === 1 && elementCount(weight.shape) === classes)) {
      throw new LossError(`weight tensor should be defined either for all ${classes} classes or no classes but got weight tensor of shape: ${formatSizes(weight.shape)}`);
    }
    outShape = rank === 1 ? [] : [input.shape[0]];
  } else {
    outShape = [input.shape[0], ...input.shape.slice(2)];
    if (rank === 4) {
      if (target.shape.length !== 3) {
        throw new LossError(`only batches of spatial targets supported (3D tensors) but got targets of dimension: ${target.shape.length}`);
      }
    } else if (!sameShape(target.shape.slice(1), input.shape.slice(2))) {
      throw new LossError(`Expected target size ${formatSizes(outShape)}, got ${formatSizes(target.shape)}`);
    }
    if (weight && elementCount(weight.shape) !== classes) throw new LossError('weight tensor should be defined either for all or no classes');
    if (rank === 4 && !sameShape(target.shape, outShape)) {
      throw new LossError(`size mismatch (got input: ${formatSizes(input.shape)} , target: ${formatSizes(target.shape)}`);
    }
  }
  if (target.dtype !== 'int64' && target.dtype !== 'uint8') {
    throw new LossError(`expected scalar type Long but found ${TORCH_DTYPE[target.dtype]}`);
  }
  if (weight && weight.dtype !== input.dtype) {
    throw new LossError(`expected scalar type ${TORCH_DTYPE[input.dtype]} but found ${TORCH_DTYPE[weight.dtype]}`);
  }
  const targetIndex = toFloat64(target);
  // An indexed loop: a segmentation target holds millions of indices, read once per plan before any optimisation.
  for (let i = 0; i < targetIndex.length; i++) {
    const value = targetIndex[i];
    if (value !== ignoreIndex && !(value >= 0 && value < classes)) throw new LossError(`Target ${value} is out of bounds.`);
  }
  return {
    ...base, targetKind: 'index', targetIndex, targetProbability: null,
    weight: weight ? toFloat64(weight) : null,
    // PyTorch applies smoothing only when it is positive; nll_loss has none.
    labelSmoothing: isCrossEntropy && smoothing > 0 ? smoothing : 0,
    outShape, resultDType: resultDType(input.dtype),
  };
}

function planBinaryLoss(request: LossRequest, reduction: Reduction): BinaryLossPlan {
  const { input, target, weight, posWeight } = request;
  const loss = request.loss as 'binary_cross_entropy' | 'binary_cross_entropy_with_logits';
  let expandedWeight: Float64Array | null = null;
  let expandedPosWeight: Float64Array | null = null;
  if (loss === 'binary_cross_entropy') {
    if (!sameShape(target.shape, input.shape)) {
      throw new LossError(`Using a target size (${formatTorchSize(target.shape)}) that is different to the input size (${formatTorchSize(input.shape)}) is deprecated. Please ensure they have the same size.`);
    }
    if (weight) {
      checkInPlaceBroadcast(input.shape, broadcastShapes(target.shape, weight.shape));
      expandedWeight = expandTo(weight, input.shape);
    }
    if (!isFloating(input.dtype)) throw new LossError(`"binary_cross_entropy" not implemented for '${TORCH_DTYPE[input.dtype]}'`);
    if (target.dtype !== input.dtype) {
      throw new LossError(`Found dtype ${TORCH_DTYPE[target.dtype]} but expected ${TORCH_DTYPE[input.dtype]}`);
    }
    const values = floatValues(input);
    for (let i = 0; i < values.length; i++) {
      const p = values[i];
      if (!(p >= 0 && p <= 1)) throw new LossError('all elements of input should be between 0 and 1');
    }
    return {
      family: 'binary', loss, input: values, target: floatValues(target), weight: expandedWeight, posWeight: null,
      reduction, outShape: input.shape, inputDType: input.dtype, resultDType: resultDType(input.dtype, weight?.dtype),
    };
  }
  if (!sameShape(target.shape, input.shape)) {
    throw new LossError(`Target size (${formatTorchSize(target.shape)}) must be the same as input size (${formatTorchSize(input.shape)})`);
  }
  if (!isFloating(input.dtype)) throw new LossError(`"log_sigmoid_cpu" not implemented for '${TORCH_DTYPE[input.dtype]}'`);
  // PyTorch 1.13 computes log_weight = (pos_weight - 1) * target + 1, then log_sigmoid(input) *= log_weight,
  // then loss = (1 - target) * input - ..., then loss *= weight; each step has its own broadcasting error.
  if (posWeight) {
    checkInPlaceBroadcast(input.shape, broadcastShapes(posWeight.shape, target.shape));
    expandedPosWeight = expandTo(posWeight, input.shape);
  }
  if (target.dtype === 'bool') {
    throw new LossError('Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.');
  }
  if (!isFloating(target.dtype)) {
    const promoted = TORCH_DTYPE[resultDType(input.dtype, posWeight?.dtype)];
    throw new LossError(`result type ${promoted} can't be cast to the desired output type ${TORCH_DTYPE[target.dtype]}`);
  }
  if (weight) {
    checkInPlaceBroadcast(input.shape, weight.shape);
    expandedWeight = expandTo(weight, input.shape);
  }
  return {
    family: 'binary', loss, input: floatValues(input), target: floatValues(target), weight: expandedWeight, posWeight: expandedPosWeight,
    reduction, outShape: input.shape, inputDType: input.dtype,
    resultDType: resultDType(input.dtype, target.dtype, weight?.dtype, posWeight?.dtype),
  };
}

/** Python's float formatting for the values users pass (1.5 -> "1.5", 2 -> "2.0"). */
function formatPythonFloat(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}
