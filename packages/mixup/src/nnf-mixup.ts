/**
 * `nnfMixup`: mixes a batch with a permutation of itself (luz's `nnf_mixup`).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError, LuzRng } from '@luzts/core';
import type { MixedTarget } from '@luzts/losses';
import { describe } from './validate.js';

/** Options of {@link nnfMixup}. */
export interface NnfMixupOptions {
  /**
   * The partner of each sample: sample i is mixed with sample `permutation[i]`. A permutation of
   * 0..B-1. Default: a random one (`luzCallbackMixup` passes `ctx.rng.permutation(B)`, seeded).
   */
  permutation?: ArrayLike<number> | tf.Tensor1D;
}

/** What {@link nnfMixup} returns: the mixed input and the mixed target. */
export interface MixupBatch<X extends tf.Tensor | tf.Tensor[] = tf.Tensor | tf.Tensor[]> {
  /** `w·x + (1 - w)·x[permutation]`, per sample (same structure as the input). */
  x: X;
  /** `{ ys: [y, y[permutation]], weight }` with `weight` of shape (B). */
  y: MixedTarget & { weight: tf.Tensor1D };
}

function checkPermutation(p: ArrayLike<number>, batch: number): Int32Array {
  const seen = new Uint8Array(batch);
  const out = Int32Array.from(p);
  const ok = p.length === batch && out.every((v, i) => v === p[i] && v >= 0 && v < batch && !seen[v] && (seen[v] = 1));
  if (!ok) throw new LuzError(`nnfMixup(): 'permutation' must be a permutation of 0..${batch - 1} (one entry per sample), got ${describe(Array.from(p))}.`);
  return out;
}

function weightVector(weight: unknown, batch: number): tf.Tensor1D {
  let w: tf.Tensor;
  if (typeof weight === 'number') w = tf.fill([batch], weight);
  else if (Array.isArray(weight) || weight instanceof Float32Array) w = tf.tensor1d(Array.from(weight as ArrayLike<number>));
  else if (weight instanceof tf.Tensor) w = weight;
  else throw new LuzError(`nnfMixup(): 'weight' must be a tensor, an array or a number, got ${describe(weight)}.`);
  if (w.dtype !== 'float32') throw new LuzError(`nnfMixup(): 'weight' must be float32, got ${describe(w)}.`);
  if (w.size !== batch || (w.rank > 0 && w.shape[0] !== batch)) {
    throw new LuzError(`nnfMixup(): 'weight' must hold one value per sample (${batch}): shape [${batch}] or [${batch}, 1, ...], got ${describe(w)}.`);
  }
  return w.reshape([batch]);
}

/**
 * Mixes each sample of a batch with another sample of the same batch (mixup, Zhang et al.).
 * With `w_i` the weight of sample i and `j = permutation[i]`:
 * `x̃_i = w_i·x_i + (1 - w_i)·x_j` (for an input of any rank, the weight is reshaped to
 * (B, 1, ..., 1)), and the target becomes `{ ys: [y, y[permutation]], weight: w }` (w of shape
 * (B)), which `nnMixupLoss` turns into `mean_i(w_i·ℓ(x̃_i, y_i) + (1 - w_i)·ℓ(x̃_i, y_j))`.
 *
 * The weight is on the ORIGINAL sample (fastai's convention, and luz's documentation); with
 * `w ≥ 0.5` the original dominates. `x` may be an array of tensors (multi-input models): each is
 * mixed with the same permutation and weights.
 *
 * @param x - float32 input(s) with the batch first.
 * @param y - the target (any dtype), batch first.
 * @param weight - per-sample weights: a tensor with B elements ((B) or (B, 1, ..., 1)), an array, or one number.
 * @param options - `permutation` (default: random).
 * @example
 * ```ts
 * const w = tf.tensor1d([0.9, 0.6, 0.75]);
 * const { x: mixedX, y: mixedY } = nnfMixup(x, y, w, { permutation: [2, 0, 1] });
 * const loss = nnMixupLoss(nnCrossEntropyLoss())(model.apply(mixedX), mixedY);
 * ```
 */
export function nnfMixup<X extends tf.Tensor | tf.Tensor[]>(x: X, y: tf.Tensor, weight: tf.Tensor | number[] | number, options: NnfMixupOptions = {}): MixupBatch<X> {
  if (!(y instanceof tf.Tensor) || y.rank === 0) throw new LuzError(`nnfMixup(): 'y' must be a tensor with the batch as first dimension, got ${describe(y)}.`);
  const batch = y.shape[0] as number;
  const xs = Array.isArray(x) ? x : [x];
  if (xs.length === 0) throw new LuzError("nnfMixup(): 'x' is an empty array.");
  xs.forEach((xi, i) => {
    const name = Array.isArray(x) ? `x[${i}]` : 'x';
    if (!(xi instanceof tf.Tensor) || xi.rank === 0) throw new LuzError(`nnfMixup(): '${name}' must be a tensor with the batch as first dimension, got ${describe(xi)}.`);
    if (xi.dtype !== 'float32') throw new LuzError(`nnfMixup(): '${name}' must be float32 to be mixed, got ${describe(xi)}.`);
    if (xi.shape[0] !== batch) throw new LuzError(`nnfMixup(): '${name}' has ${xi.shape[0]} samples but 'y' has ${batch}.`);
  });
  if (options === null || typeof options !== 'object') throw new LuzError(`nnfMixup(): 'options' must be an object, got ${describe(options)}.`);
  const rawPerm = options.permutation instanceof tf.Tensor ? options.permutation.dataSync() : options.permutation ?? new LuzRng().permutation(batch);
  const perm = checkPermutation(rawPerm, batch);
  return tf.tidy(() => {
    const w = weightVector(weight, batch);
    const index = tf.tensor1d(perm, 'int32');
    const mixed = xs.map((xi) => {
      const partner = tf.gather(xi, index);
      const wx = w.reshape([batch, ...new Array<number>(xi.rank - 1).fill(1)]);
      return partner.add(wx.mul(xi.sub(partner)));
    });
    const y2 = tf.gather(y, index);
    return { x: (Array.isArray(x) ? mixed : mixed[0]) as X, y: { ys: [y, y2] as [tf.Tensor, tf.Tensor], weight: w } };
  }) as MixupBatch<X>;
}
