/**
 * Classification losses on class-index targets: `nnCrossEntropyLoss` and `nnNllLoss`, with torch's
 * semantics (class dimension 1, `ignoreIndex`, class weights, label smoothing, probability targets).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError } from '@luzts/core';
import { defineLoss, type LuzLoss, type Reduction } from './loss.js';
import { checkOptionKeys, checkPred, checkTargetTensor, describe, fmt, readVector } from './validate.js';

/** Options of {@link nnCrossEntropyLoss}. */
export interface CrossEntropyLossOptions {
  /** `'mean'`, `'sum'` or `'none'`. Default `'mean'`. */
  reduction?: Reduction;
  /** A class-index target equal to it contributes nothing (nor to the mean's denominator). Default -100. */
  ignoreIndex?: number;
  /** One weight per class (length C). Default: all 1. */
  weight?: number[] | Float32Array | tf.Tensor1D;
  /** Label smoothing ε in [0, 1]: the target becomes (1 - ε)·target + ε/C. Default 0. */
  labelSmoothing?: number;
}

/** Options of {@link nnNllLoss}. */
export interface NllLossOptions {
  /** `'mean'`, `'sum'` or `'none'`. Default `'mean'`. */
  reduction?: Reduction;
  /** A target equal to it contributes nothing (nor to the mean's denominator). Default -100. */
  ignoreIndex?: number;
  /** One weight per class (length C). Default: all 1. */
  weight?: number[] | Float32Array | tf.Tensor1D;
}

interface ClassOptions {
  where: string;
  ignoreIndex: number;
  weight: number[] | undefined;
  labelSmoothing: number;
  logSoftmax: boolean;
  allowProbabilities: boolean;
}

/** Moves the class dimension (1) last and flattens: (B, C, d1..dk) → (N, C). */
function classesLast(x: tf.Tensor): tf.Tensor2D {
  const c = x.shape[1] as number;
  if (x.rank === 2) return x as tf.Tensor2D;
  const perm = [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2), 1];
  return x.transpose(perm).reshape([-1, c]);
}

/** The class-index target's expected shape: the prediction's without dimension 1. */
function indexShape(pred: tf.Tensor): number[] {
  return [pred.shape[0] as number, ...pred.shape.slice(2)];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Throws, naming one offending value, when a non-ignored class index is outside [0, C). */
/**
 * Throws when a class index is out of range (as torch does); returns whether any target equals
 * `ignoreIndex`. Usually one read-back of the targets' min and max answers both.
 */
function checkIndexRange(where: string, t: tf.Tensor, c: number, ignoreIndex: number): boolean {
  if (t.size === 0) return false;
  const range = tf.tidy(() => tf.stack([t.min(), t.max()]));
  const [min, max] = range.dataSync();
  range.dispose();
  const ignoreInRange = ignoreIndex >= min && ignoreIndex <= max;
  if (min >= 0 && max < c) return ignoreInRange && tf.tidy(() => t.equal(ignoreIndex).any().dataSync()[0] !== 0);
  // Something lies outside [0, c): find it, allowing ignoreIndex.
  const value = Array.from(t.dataSync()).find((v) => v !== ignoreIndex && (v < 0 || v >= c));
  if (value !== undefined) {
    throw new LuzError(`${where}: class-index targets must lie in [0, ${c - 1}] (or equal ignoreIndex ${ignoreIndex}), got ${value}.`);
  }
  return true;
}

/** One-hot float rows of class indices (int32 then cast: the stock wasm OneHot ignores 'float32'). */
function oneHotRows(t: tf.Tensor, c: number): tf.Tensor {
  return tf.oneHot(t, c).toFloat();
}

/**
 * Per-sample losses for probability rows `t` (N, C) against log-probabilities `logp`:
 * `-Σ_c weight_c·t_c·log p_c`, with label smoothing mixing in the uniform distribution.
 */
function softTargetLosses(logp: tf.Tensor, t: tf.Tensor, c: number, eps: number, weightRow: tf.Tensor | undefined): tf.Tensor {
  let target = t;
  if (eps > 0) target = target.mul(1 - eps).add(eps / c);
  if (weightRow) target = target.mul(weightRow);
  return target.mul(logp).sum(-1).neg();
}

function classLoss(pred: unknown, target: unknown, reduction: Reduction, o: ClassOptions): tf.Tensor {
  const { where } = o;
  checkPred(where, pred);
  checkTargetTensor(where, target);
  if (pred.rank < 2) {
    throw new LuzError(`${where}: 'pred' must have shape [batch, classes, ...], got ${describe(pred)}.`);
  }
  const c = pred.shape[1] as number;
  if (o.weight && o.weight.length !== c) {
    throw new LuzError(`${where}: 'weight' has ${o.weight.length} entries but the prediction has ${c} classes (dimension 1 of ${fmt(pred.shape)}).`);
  }
  const logp = o.logSoftmax ? tf.logSoftmax(classesLast(pred)) : classesLast(pred);
  const weightRow = o.weight ? tf.tensor1d(o.weight) : undefined;
  const eps = o.labelSmoothing;

  if (target.dtype === 'float32' && sameShape(target.shape, pred.shape) && o.allowProbabilities) {
    // Probability (one-hot or soft) targets: -Σ_c w_c · t_c · log p_c; the mean divides by N.
    const losses = softTargetLosses(logp, classesLast(target), c, eps, weightRow);
    if (reduction === 'mean') return losses.mean();
    if (reduction === 'sum') return losses.sum();
    return losses.reshape(indexShape(pred));
  }

  const expected = indexShape(pred);
  if (target.dtype !== 'int32' || !sameShape(target.shape, expected)) {
    const prob = o.allowProbabilities ? `, or float32 probabilities of shape ${fmt(pred.shape)}` : '';
    const hint = target.dtype !== 'int32' && sameShape(target.shape, expected) ? ' Cast class indices with target.toInt().' : '';
    throw new LuzError(`${where}: 'target' must be int32 class indices of shape ${fmt(expected)}${prob}, got ${describe(target)}.${hint}`);
  }
  const t = target.reshape([-1]);
  const anyIgnored = checkIndexRange(where, t, c, o.ignoreIndex);
  if (!anyIgnored && !weightRow) {
    // Nothing ignored and no class weights: the mean divides by N; fewer ops on the hot path.
    const losses = softTargetLosses(logp, oneHotRows(t, c), c, eps, undefined);
    if (reduction === 'mean') return losses.mean();
    if (reduction === 'sum') return losses.sum();
    return losses.reshape(expected);
  }
  const valid = t.notEqual(o.ignoreIndex);
  const safe = tf.where(valid, t, tf.zerosLike(t));
  const validF = valid.toFloat();
  // w_i: the weight of sample i's class, 0 for ignored samples.
  const w = weightRow ? tf.gather(weightRow, safe).mul(validF) : validF;
  const picked = oneHotRows(safe, c).mul(logp).sum(-1);
  let losses = picked.neg().mul(w);
  if (eps > 0) {
    // torch: (1 - ε)·nll + ε/C · Σ_c w_c·(-log p_c), sharing nll's denominator.
    const all = (weightRow ? logp.mul(weightRow) : logp).sum(-1).neg().mul(validF);
    losses = losses.mul(1 - eps).add(all.mul(eps / c));
  }
  if (reduction === 'mean') return losses.sum().div(w.sum());
  if (reduction === 'sum') return losses.sum();
  return losses.reshape(expected);
}

function checkSmoothing(where: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new LuzError(`${where}: 'labelSmoothing' must be a number in [0, 1], got ${describe(v)}.`);
  return v;
}

function checkIgnoreIndex(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new LuzError(`${where}: 'ignoreIndex' must be an integer, got ${describe(v)}.`);
  return v;
}

/**
 * Cross-entropy loss on logits (torch's `nn_cross_entropy_loss`): log-softmax over dimension 1,
 * then the negative log-likelihood of the target.
 *
 * - `pred`: logits of shape (B, C) or (B, C, d1, ..., dk).
 * - `target`: int32 class indices (0-based) of shape (B) or (B, d1, ..., dk); or float32
 *   probabilities (one-hot or soft, e.g. mixed by mixup) of the same shape as `pred`.
 * - `'mean'` with class indices divides by the sum of the weights of the non-ignored targets
 *   (their count without weights); with probabilities, by the number of samples.
 * - An out-of-range class index (other than `ignoreIndex`) is an error, as in torch (this reads
 *   one boolean back from the device per call).
 *
 * @param options - `reduction` (default `'mean'`), `ignoreIndex` (default -100), `weight`
 *   (default none), `labelSmoothing` (default 0).
 * @example
 * ```ts
 * const module = setup(factory, { loss: nnCrossEntropyLoss(), optimizer: () => tf.train.adam(1e-3) });
 * const loss = nnCrossEntropyLoss({ weight: [1, 2, 5], labelSmoothing: 0.1 });
 * loss(tf.randomNormal([8, 3]), tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32')); // scalar
 * ```
 */
export function nnCrossEntropyLoss(options: CrossEntropyLossOptions = {}): LuzLoss {
  const where = 'nnCrossEntropyLoss()';
  checkOptionKeys(where, options, ['reduction', 'ignoreIndex', 'weight', 'labelSmoothing']);
  const o: ClassOptions = {
    where: 'nnCrossEntropyLoss',
    ignoreIndex: checkIgnoreIndex(where, options.ignoreIndex ?? -100),
    weight: readVector(where, 'weight', options.weight),
    labelSmoothing: checkSmoothing(where, options.labelSmoothing ?? 0),
    logSoftmax: true,
    allowProbabilities: true,
  };
  const loss = defineLoss('nnCrossEntropyLoss', options.reduction, (p, t, r) => classLoss(p, t, r, o));
  loss.mixedPerSample = (pred, y1, y2, weight) => mixedCrossEntropy(pred, y1, y2, weight, o);
  return loss;
}

/**
 * Cross entropy is linear in a one-hot target, so `w·ce(y1) + (1 - w)·ce(y2)` per sample is the
 * cross entropy of the soft target `w·onehot(y1) + (1 - w)·onehot(y2)`: one log-softmax instead
 * of two. The soft target is built on the host from the (small) class indices and weights, which
 * also validates them, in one upload. Returns `undefined` (use the two-loss path) for inputs it
 * does not cover: ignored targets, more than 2-D predictions, or targets that are not int32
 * class indices.
 */
function mixedCrossEntropy(pred: tf.Tensor, y1: tf.Tensor, y2: tf.Tensor, weight: tf.Tensor1D, o: ClassOptions): tf.Tensor | undefined {
  if (!(pred instanceof tf.Tensor) || pred.rank !== 2) return undefined;
  const [n, c] = pred.shape as [number, number];
  const isIndices = (y: tf.Tensor) => y instanceof tf.Tensor && y.dtype === 'int32' && sameShape(y.shape, [n]);
  if (!isIndices(y1) || !isIndices(y2) || weight.size !== n || (o.weight && o.weight.length !== c)) return undefined;
  const [a, b, w] = [y1.dataSync(), y2.dataSync(), weight.dataSync()];
  const soft = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    for (const v of [a[i], b[i]]) {
      if (v === o.ignoreIndex) return undefined;
      if (v < 0 || v >= c) throw new LuzError(`${o.where}: class-index targets must lie in [0, ${c - 1}] (or equal ignoreIndex ${o.ignoreIndex}), got ${v}.`);
    }
    soft[i * c + a[i]] += w[i];
    soft[i * c + b[i]] += 1 - w[i];
  }
  return tf.tidy(() => softTargetLosses(tf.logSoftmax(pred), tf.tensor2d(soft, [n, c]), c, o.labelSmoothing, o.weight ? tf.tensor1d(o.weight) : undefined));
}


/**
 * Negative log-likelihood loss (torch's `nn_nll_loss`): `pred` holds log-probabilities of shape
 * (B, C) or (B, C, d1, ..., dk); `target` int32 class indices (0-based) of shape (B) or
 * (B, d1, ..., dk). Per sample: `-weight[y] * pred[y]`; `'mean'` divides by the sum of the weights
 * of the non-ignored targets.
 *
 * @param options - `reduction` (default `'mean'`), `ignoreIndex` (default -100), `weight` (default none).
 * @example
 * ```ts
 * const loss = nnNllLoss({ ignoreIndex: 0 });
 * loss(tf.logSoftmax(logits), labels);
 * ```
 */
export function nnNllLoss(options: NllLossOptions = {}): LuzLoss {
  const where = 'nnNllLoss()';
  checkOptionKeys(where, options, ['reduction', 'ignoreIndex', 'weight']);
  const o: ClassOptions = {
    where: 'nnNllLoss',
    ignoreIndex: checkIgnoreIndex(where, options.ignoreIndex ?? -100),
    weight: readVector(where, 'weight', options.weight),
    labelSmoothing: 0,
    logSoftmax: false,
    allowProbabilities: false,
  };
  return defineLoss('nnNllLoss', options.reduction, (p, t, r) => classLoss(p, t, r, o));
}
