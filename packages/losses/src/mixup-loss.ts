/**
 * `nnMixupLoss` (luz's `nn_mixup_loss`) and the mixed-target representation shared with
 * `@luzts/mixup`.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError } from '@luzts/core';
import { isLuzLoss, type LuzLoss, type Reduction } from './loss.js';
import { describe, fmt } from './validate.js';

/**
 * A mixup target (what `nnfMixup` returns and `luzCallbackMixup` stores in `ctx.target` for class
 * targets): the original targets `ys[0]`, the permuted ones `ys[1]`, and the weight of the
 * original per sample, shape (B), values in [0.5, 1].
 */
export interface MixedTarget {
  ys: [tf.Tensor, tf.Tensor];
  /** Per-sample weight of `ys[0]`: a tensor with B elements ((B) or (B, 1, ..., 1)), an array, or one number for all. */
  weight: tf.Tensor | number[] | number;
}

/**
 * True for a {@link MixedTarget}-shaped value `{ ys: [y1, y2], weight }`.
 * @example
 * ```ts
 * isMixedTarget({ ys: [y, y.gather(perm)], weight: w }); // true
 * isMixedTarget(y); // false
 * ```
 */
export function isMixedTarget(x: unknown): x is MixedTarget {
  return (
    !!x && typeof x === 'object' && !(x instanceof tf.Tensor) &&
    Array.isArray((x as MixedTarget).ys) && (x as MixedTarget).ys.length === 2 && 'weight' in (x as object)
  );
}

const MIXUP_LOSS = Symbol.for('luzts.mixupLoss');

/** The loss returned by {@link nnMixupLoss}: takes plain or mixed targets; `loss` is the wrapped loss. */
export interface MixupLoss {
  (pred: tf.Tensor, target: tf.Tensor | MixedTarget): tf.Tensor;
  /** The wrapped loss. */
  readonly loss: LuzLoss;
}

/**
 * True for a loss made by {@link nnMixupLoss} (mixup's `autoLoss` does not wrap those again).
 * @example
 * ```ts
 * isMixupLoss(nnMixupLoss(nnCrossEntropyLoss())); // true
 * ```
 */
export function isMixupLoss(x: unknown): x is MixupLoss {
  return typeof x === 'function' && (x as unknown as Record<symbol, unknown>)[MIXUP_LOSS] === true;
}

/** The per-sample weight as a (B) float32 tensor. */
function weightVector(where: string, weight: unknown, batch: number): tf.Tensor1D {
  let w: tf.Tensor;
  if (typeof weight === 'number') w = tf.fill([batch], weight);
  else if (Array.isArray(weight)) w = tf.tensor1d(weight as number[]);
  else if (weight instanceof tf.Tensor) w = weight.dtype === 'float32' ? weight : weight.toFloat();
  else throw new LuzError(`${where}: the mixup 'weight' must be a tensor, an array or a number, got ${describe(weight)}.`);
  if (w.size !== batch || (w.rank > 0 && w.shape[0] !== batch)) {
    throw new LuzError(`${where}: the mixup 'weight' must hold one value per sample (${batch}), got shape ${fmt(w.shape)}.`);
  }
  return w.reshape([batch]);
}

/** Checks a per-sample loss: a tensor with the batch as its first dimension. */
function checkPerSample(where: string, l: unknown, batch: number, which: string): tf.Tensor {
  if (!(l instanceof tf.Tensor)) throw new LuzError(`${where}: the loss must return a tensor, got ${describe(l)} for ${which}.`);
  if (l.rank === 0 || l.shape[0] !== batch) {
    throw new LuzError(
      `${where}: the loss must return unreduced per-sample losses (first dimension ${batch}) for ${which}, got shape ${fmt(l.shape)}. ` +
        "Construct it with reduction: 'none' (e.g. nnCrossEntropyLoss({ reduction: 'none' })), or use a loss from @luzts/losses, whose reduction is switched for you.",
    );
  }
  return l;
}

/** Runs `fn` with `loss.reduction` set to `reduction`, restoring it afterwards (errors included). */
function withReduction<T>(loss: LuzLoss, reduction: Reduction, fn: () => T): T {
  const saved = loss.reduction;
  loss.reduction = reduction;
  try {
    return fn();
  } finally {
    loss.reduction = saved;
  }
}

/**
 * The mixup loss of a mixed target: `mean_i(w_i·ℓ(pred_i, y1_i) + (1 - w_i)·ℓ(pred_i, y2_i))`,
 * the weights applied per sample (a per-element loss of shape (B, ...) is weighted per sample,
 * then averaged over all elements). A {@link LuzLoss} is switched to `reduction: 'none'` for the
 * two calls (and restored, errors included); any other function must already return per-sample losses.
 *
 * @param loss - the loss of one target.
 * @param pred - the prediction on the mixed input.
 * @param target - the mixed target `{ ys: [y1, y2], weight }`.
 * @returns a scalar.
 * @example
 * ```ts
 * const l = computeMixupLoss(nnCrossEntropyLoss(), logits, { ys: [y, yPermuted], weight: w });
 * ```
 */
export function computeMixupLoss(loss: (pred: tf.Tensor, target: tf.Tensor) => tf.Tensor, pred: tf.Tensor, target: MixedTarget, where = 'computeMixupLoss'): tf.Scalar {
  if (!isMixedTarget(target)) throw new LuzError(`${where}: 'target' must be a mixup target { ys: [y1, y2], weight }, got ${describe(target)}.`);
  const [y1, y2] = target.ys;
  for (const [name, y] of [['ys[0]', y1], ['ys[1]', y2]] as const) {
    if (!(y instanceof tf.Tensor) || y.rank === 0) throw new LuzError(`${where}: mixup target ${name} must be a tensor with a batch dimension, got ${describe(y)}.`);
  }
  if (y1.shape[0] !== y2.shape[0]) throw new LuzError(`${where}: mixup targets ys[0] ${fmt(y1.shape)} and ys[1] ${fmt(y2.shape)} have different batch sizes.`);
  const batch = y1.shape[0];
  const compute = () =>
    tf.tidy(() => {
      const w = weightVector(where, target.weight, batch);
      const fused = isLuzLoss(loss) ? loss.mixedPerSample?.(pred, y1, y2, w as tf.Tensor1D) : undefined;
      if (fused) return checkPerSample(where, fused, batch, 'ys').mean() as tf.Scalar;
      const l1 = checkPerSample(where, loss(pred, y1), batch, 'ys[0]');
      const l2 = checkPerSample(where, loss(pred, y2), batch, 'ys[1]');
      if (l1.rank !== l2.rank || l1.shape.some((d, i) => d !== l2.shape[i])) {
        throw new LuzError(`${where}: the losses of ys[0] ${fmt(l1.shape)} and ys[1] ${fmt(l2.shape)} have different shapes.`);
      }
      const wb = w.reshape([batch, ...new Array<number>(l1.rank - 1).fill(1)]);
      // w·l1 + (1 - w)·l2, per sample.
      return l2.add(wb.mul(l1.sub(l2))).mean() as tf.Scalar;
    });
  return isLuzLoss(loss) ? withReduction(loss, 'none', compute) : compute();
}

/**
 * Wraps a loss for mixup (luz's `nn_mixup_loss`). With a plain target it is the wrapped loss
 * (its own reduction: what validation uses when mixup does not run there). With a mixed target
 * `{ ys: [y1, y2], weight }` it returns `mean_i(w_i·ℓ(x_i, y1_i) + (1 - w_i)·ℓ(x_i, y2_i))`,
 * computing ℓ with `reduction` temporarily set to `'none'` (restored even on error).
 *
 * @param loss - a loss with a settable `reduction` (any loss of this package).
 * @throws LuzError when `loss` is not a function or has no valid `reduction`.
 * @example
 * ```ts
 * const module = setup(factory, { loss: nnMixupLoss(nnCrossEntropyLoss()), optimizer });
 * await fit(module, data, { callbacks: [luzCallbackMixup()] });
 * ```
 */
export function nnMixupLoss(loss: LuzLoss): MixupLoss {
  if (typeof loss !== 'function') throw new LuzError(`nnMixupLoss(): 'loss' must be a loss function such as nnCrossEntropyLoss(), got ${describe(loss)}.`);
  if (!isLuzLoss(loss)) {
    throw new LuzError(
      `nnMixupLoss(): the 'reduction' attribute must be supported by the loss (got reduction ${describe((loss as { reduction?: unknown }).reduction)}). ` +
        "Use a loss from @luzts/losses, or give your function a settable 'reduction' ('mean' | 'sum' | 'none').",
    );
  }
  const mixup = ((pred: tf.Tensor, target: tf.Tensor | MixedTarget) =>
    isMixedTarget(target) ? computeMixupLoss(loss, pred, target, 'nnMixupLoss') : loss(pred, target)) as MixupLoss;
  Object.defineProperty(mixup, 'name', { value: 'nnMixupLoss' });
  Object.defineProperty(mixup, 'loss', { value: loss, enumerable: true });
  Object.defineProperty(mixup, MIXUP_LOSS, { value: true });
  return mixup;
}
