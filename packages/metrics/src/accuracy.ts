/**
 * Classification accuracy: multiclass (argmax), binary (threshold), binary on logits.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError, luzMetric, type LuzMetricGenerator } from '@luzts/core';
import { asTensor, checkFinite, checkOptions, sameShape, shapeOf } from './validate.js';

/** Accumulates `correct` (int32, on device) and `total` (from shapes). */
function countingMetric(abbrev: string, hits: (preds: unknown, target: unknown, threshold: number) => tf.Tensor) {
  return luzMetric<{ threshold?: number }>({
    abbrev,
    initialize({ threshold = 0.5 }) {
      this.threshold = threshold;
      this.correct = tf.scalar(0, 'int32');
      this.total = 0;
    },
    update(preds: unknown, target: unknown) {
      const h = hits(preds, target, this.threshold);
      this.correct = this.correct.add(h.toInt().sum());
      this.total += h.size;
    },
    compute() {
      return this.total === 0 ? NaN : this.correct.dataSync()[0] / this.total;
    },
  });
}

/** Hits of argmax(preds) against class indices, one-hot or soft targets (class axis last). */
function accuracyHits(preds: unknown, target: unknown): tf.Tensor {
  const p = asTensor('Acc', 'preds', preds);
  const t = asTensor('Acc', 'target', target);
  const expected =
    `expected 'preds' of shape (B, ..., C) with 'target' either class indices of shape (B, ...) ` +
    'or one-hot / probabilities of the same shape as preds';
  if (p.rank < 2) throw new LuzError(`Acc metric: 'preds' has shape ${shapeOf(p)}; ${expected}.`);
  const predClass = p.argMax(-1);
  if (tf.util.arraysEqual(p.shape, t.shape)) return predClass.equal(t.argMax(-1));
  if (tf.util.arraysEqual(p.shape.slice(0, -1), t.shape)) return predClass.equal(t.toInt());
  throw new LuzError(`Acc metric: 'preds' has shape ${shapeOf(p)} but 'target' has shape ${shapeOf(t)}; ${expected}.`);
}

const accuracy = countingMetric('Acc', accuracyHits);
const binaryAccuracy = countingMetric('Acc', (preds, target, threshold) => {
  const [p, t] = sameShape('Acc', preds, target);
  return p.toFloat().greater(threshold).toFloat().equal(t.toFloat());
});
const binaryAccuracyWithLogits = countingMetric('Acc', (preds, target, threshold) => {
  const [p, t] = sameShape('Acc', preds, target);
  // sigmoid(x) > t  <=>  x > logit(t); comparing logits avoids sigmoid's rounding to 0.5 / 1.
  const logit = threshold === 0 ? -Infinity : threshold === 1 ? Infinity : Math.log(threshold / (1 - threshold));
  return p.toFloat().greater(logit).toFloat().equal(t.toFloat());
});

/**
 * Multiclass accuracy (luz's `luz_metric_accuracy`), abbrev `Acc`, record name `acc`: the fraction
 * of rows whose `argMax(preds, -1)` equals the target class. Targets are 0-based class indices of
 * shape `(B)` for `preds` of shape `(B, C)` (more generally `preds.shape` without its last axis),
 * or one-hot / probability targets of the same shape as `preds` (their argmax is the class). Takes
 * no options.
 *
 * @example
 * ```ts
 * const m = luzMetricAccuracy().create();
 * m.update(tf.tensor2d([[0.1, 0.9], [0.8, 0.2]]), tf.tensor1d([1, 1], 'int32'));
 * m.compute(); // 0.5
 * m.dispose();
 * ```
 */
export function luzMetricAccuracy(options?: Record<string, never>): LuzMetricGenerator {
  checkOptions('luzMetricAccuracy()', options, []);
  return accuracy();
}

/** Options of {@link luzMetricBinaryAccuracy} and {@link luzMetricBinaryAccuracyWithLogits}. */
export interface BinaryAccuracyOptions {
  /** A prediction above it counts as class 1 (a probability for the logits variant). Default 0.5. */
  threshold?: number;
}

/**
 * Binary accuracy (luz's `luz_metric_binary_accuracy`), abbrev `Acc`, record name `acc`: the
 * fraction of elements where `preds > threshold` equals the 0/1 target. `preds` and `target` must
 * have identical shapes (`(B, 1)` vs `(B)` is an error, not a broadcast).
 *
 * @param options - `threshold` (default 0.5).
 * @example
 * ```ts
 * setup(factory, { loss: tf.losses.logLoss, optimizer, metrics: [luzMetricBinaryAccuracy({ threshold: 0.5 })] });
 * ```
 */
export function luzMetricBinaryAccuracy(options: BinaryAccuracyOptions = {}): LuzMetricGenerator {
  const o = checkOptions('luzMetricBinaryAccuracy()', options, ['threshold']);
  return binaryAccuracy({ threshold: checkFinite('luzMetricBinaryAccuracy()', 'threshold', o['threshold'] ?? 0.5) });
}

/**
 * Binary accuracy on logits (luz's `luz_metric_binary_accuracy_with_logits`), abbrev `Acc`: like
 * {@link luzMetricBinaryAccuracy} on `sigmoid(preds)`; the threshold is a probability in [0, 1].
 *
 * @param options - `threshold` (default 0.5, i.e. logits above 0 are class 1).
 * @example
 * ```ts
 * const m = luzMetricBinaryAccuracyWithLogits().create();
 * m.update(tf.tensor1d([-2, 0.5, 3]), tf.tensor1d([0, 0, 1]));
 * m.compute(); // 2/3
 * m.dispose();
 * ```
 */
export function luzMetricBinaryAccuracyWithLogits(options: BinaryAccuracyOptions = {}): LuzMetricGenerator {
  const what = 'luzMetricBinaryAccuracyWithLogits()';
  const o = checkOptions(what, options, ['threshold']);
  return binaryAccuracyWithLogits({ threshold: checkFinite(what, 'threshold', o['threshold'] ?? 0.5, [0, 1]) });
}
