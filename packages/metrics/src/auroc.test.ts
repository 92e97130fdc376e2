import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { LuzError, type LuzMetricGenerator, type MetricValue } from '@luzts/core';
import { luzMetricBinaryAuroc, luzMetricMulticlassAuroc } from './index.js';

await tf.setBackend('cpu');

/**
 * Exact AUC by pairwise counting (what R's Metrics::auc computes): the fraction of
 * (positive, negative) pairs ranked correctly, ties counting one half.
 */
function exactAuc(actual: number[], predicted: number[]): number {
  let [score, pairs] = [0, 0];
  actual.forEach((a, i) => {
    if (a !== 1) return;
    actual.forEach((b, j) => {
      if (b !== 0) return;
      pairs += 1;
      score += predicted[i] > predicted[j] ? 1 : predicted[i] === predicted[j] ? 0.5 : 0;
    });
  });
  return score / pairs;
}

/** Float32 rounding, so the reference sees the values the metric sees. */
const f32 = (xs: number[]) => Array.from(Float32Array.from(xs));

/** Runs `gen` over rows of (preds, target) split into mini-batches of `batch` rows. */
function run(gen: LuzMetricGenerator, preds: tf.Tensor, target: tf.Tensor, batch: number): MetricValue {
  const m = gen.create();
  for (let i = 0; i < preds.shape[0]; i += batch) {
    const size = Math.min(batch, preds.shape[0] - i);
    m.update(preds.slice(i, size), target.slice(i, size));
  }
  const v = m.compute();
  m.dispose();
  return v;
}

// Port of test-metrics-auc.R.
const actual = [1, 1, 1, 0, 0, 0];
const predicted = [0.9, 0.8, 0.4, 0.5, 0.3, 0.2];

describe('luzMetricBinaryAuroc', () => {
  it('with thresholds = the predictions equals the exact AUC over 3 mini-batches', () => {
    const auc = run(luzMetricBinaryAuroc({ thresholds: predicted }), tf.tensor1d(predicted), tf.tensor1d(actual), 2);
    expect(exactAuc(actual, predicted)).toBeCloseTo(8 / 9, 10); // 8 of 9 pairs ranked right (0.4 < 0.5)
    expect(auc).toBeCloseTo(exactAuc(actual, predicted), 4);
  });

  it('is exact with ties too when the thresholds are the predictions', () => {
    const p = [0.7, 0.5, 0.5, 0.5, 0.2, 0.9];
    const y = [1, 1, 0, 0, 0, 1];
    const auc = run(luzMetricBinaryAuroc({ thresholds: p }), tf.tensor1d(p), tf.tensor1d(y), 4);
    expect(auc).toBeCloseTo(exactAuc(y, f32(p)), 6); // pairs: 0.7 and 0.9 beat all 3 negatives, 0.5 beats 0.2 and ties twice -> 8 / 9
    expect(auc).toBeCloseTo(8 / 9, 6);
  });

  it('uses thresholds i / (n - 1) inside [0, 1] (hand-computed trapezoid)', () => {
    // numThresholds 5: [-eps, 0.25, 0.5, 0.75, 1 + eps]. ROC points (spec, tpr):
    // (0, 1), (0.5, 1), (0.5, 1), (1, 0.5), (1, 0) -> area 0.5 * 1 + 0.5 * (1 + 0.5) / 2 = 0.875
    const p = tf.tensor1d([0.3, 0.6, 0.55, 0.9]);
    const y = tf.tensor1d([0, 1, 0, 1]);
    expect(run(luzMetricBinaryAuroc({ numThresholds: 5 }), p, y, 4)).toBeCloseTo(0.875, 6);
    // numThresholds 3 has the single inner threshold 0.5 (luz would use 2 / 1 = 2, above 1).
    expect(run(luzMetricBinaryAuroc({ numThresholds: 3 }), p, y, 4)).toBeCloseTo(0.75, 6);
  });

  it('default grid of 200 approximates the exact AUC; fromLogits applies a sigmoid', () => {
    const logits = tf.randomNormal([300], 0, 2, 'float32', 11);
    const y = tf.randomUniform([300], 0, 1, 'float32', 12).less(tf.sigmoid(logits)).toFloat();
    const exact = exactAuc(Array.from(y.dataSync()), Array.from(logits.dataSync()));
    const viaLogits = run(luzMetricBinaryAuroc({ fromLogits: true }), logits, y, 64) as number;
    const viaProbs = run(luzMetricBinaryAuroc(), tf.sigmoid(logits), y, 64) as number;
    expect(viaLogits).toBeCloseTo(viaProbs, 10);
    expect(Math.abs(viaLogits - exact)).toBeLessThan(5e-3);
  });

  it('refuses shape mismatches and bad options', () => {
    const m = luzMetricBinaryAuroc().create();
    expect(() => m.update(tf.zeros([6, 1]), tf.zeros([6]))).toThrow(/AUC metric: 'preds' has shape \(6, 1\) but 'target' has shape \(6\)/);
    m.dispose();
    expect(() => luzMetricBinaryAuroc({ numThresholds: 1 })).toThrow(LuzError);
    expect(() => luzMetricBinaryAuroc({ numThresholds: 1 })).toThrow(/'numThresholds' must be an integer > 1, got 1/);
    expect(() => luzMetricBinaryAuroc({ numThresholds: 2.5 })).toThrow(/'numThresholds' must be an integer > 1, got 2.5/);
    expect(() => luzMetricBinaryAuroc({ thresholds: [0.1, NaN] })).toThrow(/'thresholds' must hold finite numbers in \[0, 1\], got NaN at index 1/);
    expect(() => luzMetricBinaryAuroc({ thresholds: [0.5, Infinity] })).toThrow(/got Infinity at index 1/);
    expect(() => luzMetricBinaryAuroc({ thresholds: [] })).toThrow(/non-empty array/);
    expect(() => luzMetricBinaryAuroc({ fromLogits: 'yes' } as never)).toThrow(/'fromLogits' must be a boolean, got "yes"/);
    expect(() => luzMetricBinaryAuroc({ average: 'macro' } as never)).toThrow(/unknown option 'average'/);
  });

  it('returns NaN before any update or without negatives', () => {
    const m = luzMetricBinaryAuroc().create();
    expect(m.compute()).toBeNaN();
    m.update(tf.tensor1d([0.2, 0.8]), tf.tensor1d([1, 1]));
    expect(m.compute()).toBeNaN();
    m.dispose();
  });
});

describe('luzMetricMulticlassAuroc (port of test-metrics-auc.R)', () => {
  // luz: preds = cbind(1 - p, p), labels = actual (+1 in R, 0-based here).
  const probs = tf.tensor2d(predicted.map((p) => [1 - p, p]));
  const labels = tf.tensor1d(actual, 'int32');
  const flatProbs = Array.from(probs.dataSync());
  const flatOnehot = actual.flatMap((a) => (a === 1 ? [0, 1] : [1, 0]));
  const classAucs = [0, 1].map((k) => exactAuc(actual.map((a) => Number(a === k)), flatProbs.filter((_, i) => i % 2 === k)));

  it("'micro' with explicit thresholds equals the AUC of the flattened one-hot / probabilities", () => {
    const auc = run(luzMetricMulticlassAuroc({ thresholds: flatProbs }), probs, labels, 2);
    expect(auc).toBeCloseTo(exactAuc(flatOnehot, flatProbs), 4);
  });

  it("'macro' (numThresholds 1e5) equals the mean of the per-class AUCs", () => {
    const auc = run(luzMetricMulticlassAuroc({ numThresholds: 1e5, average: 'macro' }), probs, labels, 2);
    expect(auc).toBeCloseTo((classAucs[0] + classAucs[1]) / 2, 4);
  });

  // 8 samples, 3 classes with frequencies 3/8, 3/8, 2/8.
  const p3 = [
    [0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.4, 0.4, 0.2],
    [0.3, 0.3, 0.4], [0.5, 0.1, 0.4], [0.2, 0.6, 0.2], [0.25, 0.35, 0.4],
  ];
  const y3 = [0, 1, 2, 1, 0, 0, 1, 2];
  const flat3 = f32(p3.flat());
  const perClass3 = [0, 1, 2].map((k) => exactAuc(y3.map((y) => Number(y === k)), flat3.filter((_, i) => i % 3 === k)));

  it("'weighted' (8 samples) equals the class-frequency-weighted per-class AUCs", () => {
    const auc = run(luzMetricMulticlassAuroc({ thresholds: flat3, average: 'weighted' }), tf.tensor2d(p3), tf.tensor1d(y3, 'int32'), 3);
    expect(auc).toBeCloseTo((3 / 8) * perClass3[0] + (3 / 8) * perClass3[1] + (2 / 8) * perClass3[2], 4);
  });

  it("'none' returns the per-class AUCs as a record", () => {
    const aucs = run(luzMetricMulticlassAuroc({ thresholds: flat3, average: 'none' }), tf.tensor2d(p3), tf.tensor1d(y3, 'int32'), 3) as Record<string, number>;
    expect(Object.keys(aucs)).toEqual(['0', '1', '2']);
    perClass3.forEach((a, k) => expect(aucs[String(k)]).toBeCloseTo(a, 4));
    const two = run(luzMetricMulticlassAuroc({ thresholds: flatProbs, average: 'none' }), probs, labels, 2) as Record<string, number>;
    expect(two['0']).toBeCloseTo(classAucs[0], 4);
    expect(two['1']).toBeCloseTo(classAucs[1], 4);
  });

  it('fromLogits takes a softmax over the class axis; one-hot targets work like class indices', () => {
    const logits = tf.log(tf.tensor2d(p3)).add(tf.tensor2d([[3], [-1], [0.5], [2], [0], [1], [-2], [4]])); // row shifts
    const targets = tf.tensor1d(y3, 'int32');
    for (const average of ['micro', 'macro', 'weighted'] as const) {
      const fromProbs = run(luzMetricMulticlassAuroc({ average }), tf.tensor2d(p3), targets, 3) as number;
      expect(run(luzMetricMulticlassAuroc({ average, fromLogits: true }), logits, targets, 3)).toBeCloseTo(fromProbs, 5);
      expect(run(luzMetricMulticlassAuroc({ average }), tf.tensor2d(p3), tf.oneHot(targets, 3), 3)).toBeCloseTo(fromProbs, 10);
    }
  });

  it('validates average, shapes and the number of classes', () => {
    expect(() => luzMetricMulticlassAuroc({ average: 'samples' } as never)).toThrow(
      /'average' must be one of 'micro', 'macro', 'weighted', 'none', got "samples"/,
    );
    expect(() => luzMetricMulticlassAuroc({ numThresholds: 0 })).toThrow(/'numThresholds' must be an integer > 1, got 0/);
    expect(() => luzMetricMulticlassAuroc({ thresholds: [-0.5] })).toThrow(/in \[0, 1\], got -0.5 at index 0/);
    expect(() => luzMetricMulticlassAuroc({ numthresholds: 10 } as never)).toThrow(/unknown option 'numthresholds'/);
    const m = luzMetricMulticlassAuroc({ average: 'macro' }).create();
    expect(() => m.update(tf.zeros([4, 3]), tf.zeros([4, 1]))).toThrow(/'preds' has shape \(4, 3\) but 'target' has shape \(4, 1\)/);
    m.update(tf.zeros([4, 3]), tf.zeros([4]));
    expect(() => m.update(tf.zeros([4, 2]), tf.zeros([4]))).toThrow(/has 2 classes .* earlier batches had 3/);
    m.dispose();
    expect(luzMetricMulticlassAuroc({ average: 'none' }).create().compute()).toEqual({});
  });
});
