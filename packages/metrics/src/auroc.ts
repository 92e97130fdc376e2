/**
 * Area under the ROC curve, binary and multiclass (luz's `luz_metric_binary_auroc` /
 * `luz_metric_multiclass_auroc`, Keras-compatible): true positives and true negatives are counted
 * per threshold on device; `compute()` integrates the ROC curve with the trapezoid rule.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError, luzMetric, type LuzMetricGenerator, type MetricValue } from '@luzts/core';
import { asTensor, checkOptions, sameShape, shapeOf, show } from './validate.js';

/** float32 machine epsilon: the outer thresholds are `0 - EPS` and `1 + EPS`. */
const EPS = 1.1920929e-7;

/** Options of {@link luzMetricBinaryAuroc}. */
export interface BinaryAurocOptions {
  /** Number of thresholds, spread evenly over [0, 1] (`i / (n - 1)`), an integer > 1. Default 200. */
  numThresholds?: number;
  /** Explicit thresholds in [0, 1] (sorted for you); `numThresholds` is then ignored. Default: none. */
  thresholds?: readonly number[];
  /** Whether `preds` are logits (a sigmoid is applied first). Default false. */
  fromLogits?: boolean;
}

/** How per-class AUCs are combined by {@link luzMetricMulticlassAuroc}. */
export type AurocAverage = 'micro' | 'macro' | 'weighted' | 'none';

/** Options of {@link luzMetricMulticlassAuroc}. */
export interface MulticlassAurocOptions extends BinaryAurocOptions {
  /**
   * `'micro'` (one AUC over all one-hot cells), `'macro'` (mean of the per-class AUCs),
   * `'weighted'` (per-class AUCs weighted by class frequency) or `'none'` (per-class AUCs as a
   * record `{ '0': auc0, '1': auc1, ... }`). Default `'micro'`. `fromLogits` applies a softmax over
   * the class axis.
   */
  average?: AurocAverage;
}

const AVERAGES: readonly AurocAverage[] = ['micro', 'macro', 'weighted', 'none'];

/** The threshold grid: `[-EPS, ...interior, 1 + EPS]`, ascending. */
function thresholdGrid(what: string, o: Record<string, unknown>): number[] {
  let interior: number[];
  if (o['thresholds'] !== undefined) {
    const th = o['thresholds'];
    if (!Array.isArray(th) || th.length === 0) {
      throw new LuzError(`${what}: 'thresholds' must be a non-empty array of numbers in [0, 1], got ${show(th)}.`);
    }
    th.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
        throw new LuzError(`${what}: 'thresholds' must hold finite numbers in [0, 1], got ${show(v)} at index ${i}.`);
      }
    });
    interior = [...(th as number[])].sort((a, b) => a - b);
  } else {
    const n = o['numThresholds'] ?? 200;
    if (typeof n !== 'number' || !Number.isInteger(n) || n <= 1) {
      throw new LuzError(`${what}: 'numThresholds' must be an integer > 1, got ${show(n)}.`);
    }
    interior = Array.from({ length: n - 2 }, (_, i) => (i + 1) / (n - 1));
  }
  return [-EPS, ...interior, 1 + EPS];
}

function checkFromLogits(what: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new LuzError(`${what}: 'fromLogits' must be a boolean, got ${show(v)}.`);
  return v;
}

/**
 * Per-column counts for scores `p` (N, K) against 0/1 labels `y` (N, K): true positives and true
 * negatives per threshold (K, T), positives and negatives (K). Labels other than 0 and 1 are ignored.
 */
function counts(p: tf.Tensor, y: tf.Tensor, thresholds: tf.Tensor) {
  const pos = y.equal(1).expandDims(2);
  const neg = y.equal(0).expandDims(2);
  const above = p.expandDims(2).greater(thresholds.reshape([1, 1, -1]));
  return {
    tp: above.logicalAnd(pos).toInt().sum(0),
    tn: above.logicalNot().logicalAnd(neg).toInt().sum(0),
    nPos: pos.toInt().sum([0, 2]),
    nNeg: neg.toInt().sum([0, 2]),
  };
}

/** Adds a batch's counts to the metric's state, creating it (K columns) on the first batch. */
function accumulate(self: Record<string, any>, p: tf.Tensor, y: tf.Tensor): void {
  const c = counts(p, y, self.thresholds);
  if (self.tp === undefined) Object.assign(self, c);
  else {
    self.tp = self.tp.add(c.tp);
    self.tn = self.tn.add(c.tn);
    self.nPos = self.nPos.add(c.nPos);
    self.nNeg = self.nNeg.add(c.nNeg);
  }
}

/**
 * AUC of each column from the state: trapezoid rule over the ROC points (specificity, TPR) at the
 * ascending thresholds, anchored at (0, 1) and (1, 0). NaN for a column without positives or negatives.
 */
function columnAucs(self: Record<string, any>): { aucs: number[]; nPos: number[] } {
  const T = (self.thresholds as tf.Tensor).size;
  const tp = (self.tp as tf.Tensor).dataSync();
  const tn = (self.tn as tf.Tensor).dataSync();
  const nPos = Array.from((self.nPos as tf.Tensor).dataSync());
  const nNeg = Array.from((self.nNeg as tf.Tensor).dataSync());
  const aucs = nPos.map((np, k) => {
    if (np === 0 || nNeg[k] === 0) return NaN;
    let [spec0, tpr0, area] = [0, 1, 0];
    for (let t = 0; t < T; t++) {
      const spec = tn[k * T + t] / nNeg[k];
      const tpr = tp[k * T + t] / np;
      area += ((tpr + tpr0) / 2) * (spec - spec0);
      [spec0, tpr0] = [spec, tpr];
    }
    return area + (tpr0 / 2) * (1 - spec0);
  });
  return { aucs, nPos };
}

const binaryAuroc = luzMetric<{ thresholds: number[]; fromLogits: boolean }>({
  abbrev: 'AUC',
  initialize({ thresholds, fromLogits }) {
    this.thresholds = tf.tensor1d(thresholds, 'float32');
    this.fromLogits = fromLogits;
  },
  update(preds: unknown, target: unknown) {
    const [p, t] = sameShape('AUC', preds, target);
    const scores = this.fromLogits ? p.toFloat().sigmoid() : p.toFloat();
    accumulate(this, scores.reshape([-1, 1]), t.reshape([-1, 1]));
  },
  compute() {
    return this.tp === undefined ? NaN : columnAucs(this).aucs[0];
  },
});

/** Scores (rows, C) and one-hot labels (rows, C) from `preds` (..., C) and class-index or one-hot targets. */
function multiclassInputs(preds: unknown, target: unknown, fromLogits: boolean): [tf.Tensor, tf.Tensor] {
  const p = asTensor('AUC', 'preds', preds);
  const t = asTensor('AUC', 'target', target);
  const expected =
    "expected 'preds' of shape (B, C) with 'target' either 0-based class indices of shape (B) or one-hot of shape (B, C)";
  if (p.rank < 2) throw new LuzError(`AUC metric: 'preds' has shape ${shapeOf(p)}; ${expected}.`);
  const C = p.shape[p.rank - 1];
  let onehot: tf.Tensor;
  if (tf.util.arraysEqual(p.shape, t.shape)) onehot = t.reshape([-1, C]);
  else if (tf.util.arraysEqual(p.shape.slice(0, -1), t.shape)) onehot = tf.oneHot(t.toInt().reshape([-1]), C);
  else throw new LuzError(`AUC metric: 'preds' has shape ${shapeOf(p)} but 'target' has shape ${shapeOf(t)}; ${expected}.`);
  const scores = fromLogits ? p.toFloat().softmax(-1) : p.toFloat();
  return [scores.reshape([-1, C]), onehot];
}

const multiclassAuroc = luzMetric<{ thresholds: number[]; fromLogits: boolean; average: AurocAverage }>({
  abbrev: 'AUC',
  initialize({ thresholds, fromLogits, average }) {
    this.thresholds = tf.tensor1d(thresholds, 'float32');
    this.fromLogits = fromLogits;
    this.average = average;
    this.numClasses = undefined;
  },
  update(preds: unknown, target: unknown) {
    const [scores, onehot] = multiclassInputs(preds, target, this.fromLogits);
    const C = scores.shape[1];
    if (this.numClasses === undefined) this.numClasses = C;
    else if (this.numClasses !== C) {
      throw new LuzError(`AUC metric: 'preds' has ${C} classes (shape ${shapeOf(preds as tf.Tensor)}) but earlier batches had ${this.numClasses}.`);
    }
    if (this.average === 'micro') accumulate(this, scores.reshape([-1, 1]), onehot.reshape([-1, 1]));
    else accumulate(this, scores, onehot);
  },
  compute(): MetricValue {
    if (this.tp === undefined) return this.average === 'none' ? {} : NaN;
    const { aucs, nPos } = columnAucs(this);
    switch (this.average as AurocAverage) {
      case 'micro':
        return aucs[0];
      case 'macro':
        return aucs.reduce((a, b) => a + b, 0) / aucs.length;
      case 'weighted': {
        const total = nPos.reduce((a, b) => a + b, 0);
        return aucs.reduce((acc, auc, k) => (nPos[k] === 0 ? acc : acc + (nPos[k] / total) * auc), 0);
      }
      default:
        return Object.fromEntries(aucs.map((auc, k) => [String(k), auc]));
    }
  },
});

/**
 * Binary AUROC (luz's `luz_metric_binary_auroc`), abbrev `AUC`, record name `auc`: the area under
 * the ROC curve of probabilities `preds` against 0/1 targets of the same shape, from true-positive
 * and true-negative counts at fixed thresholds (exact over the epoch for that grid; with
 * `thresholds` set to every predicted value it is the exact AUC).
 *
 * @param options - `numThresholds` (default 200), `thresholds` (default none), `fromLogits` (default false).
 * @example
 * ```ts
 * const m = luzMetricBinaryAuroc({ thresholds: [0.2, 0.4, 0.6, 0.8] }).create();
 * m.update(tf.tensor1d([0.9, 0.3, 0.7, 0.1]), tf.tensor1d([1, 0, 1, 0]));
 * m.compute(); // 1
 * m.dispose();
 * ```
 */
export function luzMetricBinaryAuroc(options: BinaryAurocOptions = {}): LuzMetricGenerator {
  const what = 'luzMetricBinaryAuroc()';
  const o = checkOptions(what, options, ['numThresholds', 'thresholds', 'fromLogits']);
  return binaryAuroc({ thresholds: thresholdGrid(what, o), fromLogits: checkFromLogits(what, o['fromLogits']) });
}

/**
 * Multiclass AUROC (luz's `luz_metric_multiclass_auroc`), abbrev `AUC`, record name `auc`:
 * one-vs-rest ROC areas of `preds` `(B, C)` (probabilities, or logits with `fromLogits`) against
 * 0-based class indices `(B)` or one-hot targets `(B, C)`, combined as `average` says.
 *
 * @param options - `numThresholds` (default 200), `thresholds` (default none), `fromLogits`
 *   (default false), `average` (default `'micro'`).
 * @example
 * ```ts
 * setup(factory, { loss, optimizer, metrics: [luzMetricMulticlassAuroc({ fromLogits: true, average: 'macro' })] });
 * ```
 */
export function luzMetricMulticlassAuroc(options: MulticlassAurocOptions = {}): LuzMetricGenerator {
  const what = 'luzMetricMulticlassAuroc()';
  const o = checkOptions(what, options, ['numThresholds', 'thresholds', 'fromLogits', 'average']);
  const average = o['average'] ?? 'micro';
  if (!AVERAGES.includes(average as AurocAverage)) {
    throw new LuzError(`${what}: 'average' must be one of ${AVERAGES.map((a) => `'${a}'`).join(', ')}, got ${show(average)}.`);
  }
  return multiclassAuroc({ thresholds: thresholdGrid(what, o), fromLogits: checkFromLogits(what, o['fromLogits']), average: average as AurocAverage });
}
