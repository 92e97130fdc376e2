/**
 * Element-wise losses: `nnBceWithLogitsLoss`, `nnMseLoss`, `nnL1Loss`. `pred` and `target` must
 * have the same shape (torch broadcasts with a warning; a (B, 1) vs (B) mismatch silently makes a
 * (B, B) loss, so here it is an error).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError } from '@luzts/core';
import { defineLoss, reduce, type LuzLoss, type Reduction } from './loss.js';
import { checkOptionKeys, checkPred, checkTargetTensor, describe, fmt, readVector } from './validate.js';

/** Options of {@link nnBceWithLogitsLoss}. */
export interface BceWithLogitsLossOptions {
  /** `'mean'`, `'sum'` or `'none'`. Default `'mean'`. */
  reduction?: Reduction;
  /** Weight of positive examples: a number, or one per class (the target's last dimension). Default 1. */
  posWeight?: number | number[] | Float32Array | tf.Tensor1D;
}

/** Options of {@link nnMseLoss} and {@link nnL1Loss}. */
export interface ElementwiseLossOptions {
  /** `'mean'`, `'sum'` or `'none'`. Default `'mean'`. */
  reduction?: Reduction;
}

/** Checks pred/target and returns the target as float32 (int32 and bool targets are cast). */
function pair(where: string, pred: unknown, target: unknown): [tf.Tensor, tf.Tensor] {
  checkPred(where, pred);
  checkTargetTensor(where, target);
  if (pred.rank !== target.rank || pred.shape.some((d, i) => d !== target.shape[i])) {
    const hint = pred.size === target.size ? ` Reshape one of them, e.g. target.reshape(${fmt(pred.shape)}).` : '';
    throw new LuzError(`${where}: 'pred' and 'target' must have the same shape, got pred ${fmt(pred.shape)} and target ${fmt(target.shape)}.${hint}`);
  }
  if (target.dtype === 'string' || target.dtype === 'complex64') throw new LuzError(`${where}: 'target' must be numeric, got ${describe(target)}.`);
  return [pred, target.dtype === 'float32' ? target : target.toFloat()];
}

/**
 * Binary cross-entropy on logits (torch's `nn_bce_with_logits_loss`), numerically stable:
 * `ℓ = (1 - y)·x + (1 + (p - 1)·y)·log(1 + e^(-x))` with `p = posWeight`. Targets are
 * probabilities in [0, 1] (0/1 labels, or soft labels such as mixup's mixed ones), same shape as `pred`.
 *
 * @param options - `reduction` (default `'mean'`), `posWeight` (default 1).
 * @example
 * ```ts
 * const module = setup(factory, { loss: nnBceWithLogitsLoss({ posWeight: 3 }), optimizer });
 * ```
 */
export function nnBceWithLogitsLoss(options: BceWithLogitsLossOptions = {}): LuzLoss {
  const where = 'nnBceWithLogitsLoss()';
  checkOptionKeys(where, options, ['reduction', 'posWeight']);
  const pw = typeof options.posWeight === 'number' ? readVector(where, 'posWeight', [options.posWeight]) : readVector(where, 'posWeight', options.posWeight);
  return defineLoss('nnBceWithLogitsLoss', options.reduction, (p, t, reduction) => {
    const [x, y] = pair('nnBceWithLogitsLoss', p, t);
    if (pw && pw.length !== 1 && pw.length !== x.shape[x.rank - 1]) {
      throw new LuzError(`nnBceWithLogitsLoss: 'posWeight' has ${pw.length} entries but the target's last dimension is ${x.shape[x.rank - 1]} (shape ${fmt(x.shape)}).`);
    }
    // log(1 + e^(-x)) = relu(-x) + log1p(e^(-|x|)), stable for large |x|.
    const softplusNeg = x.neg().relu().add(x.abs().neg().exp().log1p());
    const logWeight = pw ? y.mul(tf.tensor1d(pw).sub(1)).add(1) : tf.onesLike(y);
    const losses = tf.scalar(1).sub(y).mul(x).add(logWeight.mul(softplusNeg));
    return reduce(losses, reduction);
  });
}

/**
 * Mean squared error (torch's `nn_mse_loss`): `(pred - target)²` element-wise, then reduced.
 *
 * @param options - `reduction` (default `'mean'`).
 * @example
 * ```ts
 * const module = setup(factory, { loss: nnMseLoss(), optimizer });
 * ```
 */
export function nnMseLoss(options: ElementwiseLossOptions = {}): LuzLoss {
  checkOptionKeys('nnMseLoss()', options, ['reduction']);
  return defineLoss('nnMseLoss', options.reduction, (p, t, reduction) => {
    const [x, y] = pair('nnMseLoss', p, t);
    return reduce(x.sub(y).square(), reduction);
  });
}

/**
 * Mean absolute error (torch's `nn_l1_loss`): `|pred - target|` element-wise, then reduced.
 *
 * @param options - `reduction` (default `'mean'`).
 * @example
 * ```ts
 * const module = setup(factory, { loss: nnL1Loss({ reduction: 'sum' }), optimizer });
 * ```
 */
export function nnL1Loss(options: ElementwiseLossOptions = {}): LuzLoss {
  checkOptionKeys('nnL1Loss()', options, ['reduction']);
  return defineLoss('nnL1Loss', options.reduction, (p, t, reduction) => {
    const [x, y] = pair('nnL1Loss', p, t);
    return reduce(x.sub(y).abs(), reduction);
  });
}
