/**
 * The {@link LuzLoss} type and the helper that gives a loss its settable `reduction`.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError } from '@luzts/core';
import { describe } from './validate.js';

/** How per-sample losses are reduced: averaged, summed, or returned as they are. */
export type Reduction = 'mean' | 'sum' | 'none';

const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

/**
 * A loss: `(pred, target) => tf.Tensor` with a mutable `reduction` (torch's `reduction` field,
 * which `nnMixupLoss` and mixup's `autoLoss` switch to `'none'` temporarily). With `'mean'` or
 * `'sum'` it returns a scalar; with `'none'` the unreduced losses (shape of the target for class
 * targets, of the prediction otherwise).
 *
 * @example
 * ```ts
 * const loss: LuzLoss = nnCrossEntropyLoss();
 * loss.reduction = 'none';
 * loss(tf.tensor2d([[2, 0], [0, 2]]), tf.tensor1d([0, 0], 'int32')).print(); // [0.1269, 2.1269]
 * ```
 */
export interface LuzLoss {
  (pred: tf.Tensor, target: tf.Tensor): tf.Tensor;
  /** `'mean'`, `'sum'` or `'none'`; assigning another value throws. */
  reduction: Reduction;
  /**
   * Optional fused form for mixup: the per-sample losses `w·l(pred, y1) + (1 - w)·l(pred, y2)` in
   * one pass, or `undefined` when it does not apply (then the two losses are computed). Losses
   * that are linear in a one-hot target (cross entropy) provide it.
   */
  mixedPerSample?: (pred: tf.Tensor, y1: tf.Tensor, y2: tf.Tensor, weight: tf.Tensor1D) => tf.Tensor | undefined;
}

/**
 * True for a function with a valid `reduction` property (a {@link LuzLoss} or a compatible one).
 * @example
 * ```ts
 * isLuzLoss(nnMseLoss()); // true
 * isLuzLoss((p, t) => tf.losses.meanSquaredError(t, p)); // false
 * ```
 */
export function isLuzLoss(x: unknown): x is LuzLoss {
  return typeof x === 'function' && REDUCTIONS.includes((x as { reduction?: unknown }).reduction as Reduction);
}

/** Throws unless `value` is a valid reduction. */
export function checkReduction(where: string, value: unknown): Reduction {
  if (!REDUCTIONS.includes(value as Reduction)) {
    throw new LuzError(`${where}: 'reduction' must be one of 'mean', 'sum', 'none', got ${describe(value)}.`);
  }
  return value as Reduction;
}

/**
 * Builds a {@link LuzLoss} named `name` from `compute(pred, target, reduction)`: the returned
 * function has a validated, settable `reduction` (default `'mean'`), and its computation runs in a
 * `tf.tidy`, so only the result survives. Use it to write your own losses usable with `nnMixupLoss`.
 *
 * @example
 * ```ts
 * const huber = defineLoss('huber', 'mean', (pred, target, reduction) => {
 *   const d = (pred as tf.Tensor).sub(target as tf.Tensor).abs();
 *   const l = tf.where(d.less(1), d.square().mul(0.5), d.sub(0.5));
 *   return reduction === 'none' ? l : reduction === 'sum' ? l.sum() : l.mean();
 * });
 * ```
 */
export function defineLoss(name: string, reduction: unknown, compute: (pred: unknown, target: unknown, reduction: Reduction) => tf.Tensor): LuzLoss {
  let current = checkReduction(`${name}()`, reduction ?? 'mean');
  const loss = ((pred: tf.Tensor, target: tf.Tensor) => tf.tidy(() => compute(pred, target, current))) as LuzLoss;
  Object.defineProperty(loss, 'name', { value: name });
  Object.defineProperty(loss, 'reduction', {
    enumerable: true,
    get: () => current,
    set: (value: unknown) => {
      current = checkReduction(name, value);
    },
  });
  return loss;
}

/** Applies a plain reduction to element-wise losses. */
export function reduce(values: tf.Tensor, reduction: Reduction): tf.Tensor {
  if (reduction === 'mean') return values.mean();
  if (reduction === 'sum') return values.sum();
  return values;
}
