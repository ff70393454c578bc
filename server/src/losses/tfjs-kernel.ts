/**
 * The losses composed from TensorFlow.js operations, for its cpu, wasm, webgl, webgpu and node backends.
 * Browser-safe. TensorFlow.js's own loss functions differ from PyTorch's (see docs/losses.md) and are not used:
 * the device computes the per-element losses from `tf.logSoftmax` (which forms `(x - max) - log(sum(exp(x - max)))`
 * in that order, checked in its source), gathers through flat indices computed on the host (never `tf.oneHot`,
 * which silently zeroes out-of-range rows), and the host reduces the read-back values in float64,
 * so that no division happens on the device (WebGL's 0/0 is 1).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { BinaryLossPlan, ClassLossPlan, LossPlan } from './validate';

export type TensorFlow = typeof tfc;

/** Per-element losses (flat, row-major), computed on the current backend and read back. */
export async function tfjsElementLosses(tf: TensorFlow, plan: LossPlan): Promise<Float32Array> {
  const losses = tf.tidy(() => (plan.family === 'binary' ? binaryLosses(tf, plan) : classLosses(tf, plan)));
  try {
    return (await losses.data()) as Float32Array;
  } finally {
    losses.dispose();
  }
}

function float32(values: ArrayLike<number>): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

/** The input as rows `[rows, C]`, with the class axis moved last. */
function classRows(tf: TensorFlow, plan: ClassLossPlan, values: ArrayLike<number>): tfc.Tensor2D {
  const { batch, classes, inner } = plan;
  const tensor = tf.tensor3d(float32(values), [batch, classes, inner]);
  const rows = inner === 1 ? tensor : tf.transpose(tensor, [0, 2, 1]);
  return tf.reshape(rows, [batch * inner, classes]);
}

function classLosses(tf: TensorFlow, plan: ClassLossPlan): tfc.Tensor {
  const { classes: C, labelSmoothing: e } = plan;
  const rows = plan.batch * plan.inner;
  const x = classRows(tf, plan, plan.input);
  const logp = plan.loss === 'cross_entropy' ? tf.logSoftmax(x) : x;
  const classWeights = tf.tensor2d(float32(plan.weight ?? new Float32Array(C).fill(1)), [1, C]);

  if (plan.targetKind === 'probability') {
    const target = classRows(tf, plan, plan.targetProbability!);
    const smoothed = e === 0 ? target : tf.add(tf.mul(target, 1 - e), e / C);
    return tf.neg(tf.sum(tf.mul(tf.mul(logp, smoothed), classWeights), 1));
  }

  // Flat positions of each row's target, and each row's coefficient w[t] (0 for ignored rows), from the host.
  const targets = plan.targetIndex!;
  const flatIndex = new Int32Array(rows);
  const rowWeight = new Float32Array(rows);
  const rowKept = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    const t = targets[row];
    if (t === plan.ignoreIndex) continue;
    flatIndex[row] = row * C + t;
    rowWeight[row] = plan.weight ? plan.weight[t] : 1;
    rowKept[row] = 1;
  }
  const picked = tf.gather(tf.reshape(logp, [rows * C]), tf.tensor1d(flatIndex, 'int32'));
  const nll = tf.neg(tf.mul(picked, tf.tensor1d(rowWeight)));
  if (e === 0) return nll;
  const smooth = tf.mul(tf.neg(tf.sum(tf.mul(logp, classWeights), 1)), tf.tensor1d(rowKept));
  return tf.add(tf.mul(nll, 1 - e), tf.mul(smooth, e / C));
}

function binaryLosses(tf: TensorFlow, plan: BinaryLossPlan): tfc.Tensor {
  const x = tf.tensor1d(float32(plan.input));
  const y = tf.tensor1d(float32(plan.target));
  let loss: tfc.Tensor;
  if (plan.loss === 'binary_cross_entropy') {
    const logP = tf.maximum(tf.log(x), -100);
    const log1mP = tf.maximum(tf.log(tf.sub(1, x)), -100);
    loss = tf.neg(tf.add(tf.mul(y, logP), tf.mul(tf.sub(1, y), log1mP)));
  } else {
    // logsigmoid(x) = min(x, 0) - log1p(exp(-|x|)): exact for large |x|.
    const logSigmoid = tf.sub(tf.minimum(x, 0), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
    const logWeight = plan.posWeight ? tf.add(tf.mul(tf.sub(tf.tensor1d(float32(plan.posWeight)), 1), y), 1) : null;
    loss = tf.sub(tf.mul(tf.sub(1, y), x), logWeight ? tf.mul(logWeight, logSigmoid) : logSigmoid);
  }
  return plan.weight ? tf.mul(loss, tf.tensor1d(float32(plan.weight))) : loss;
}
