import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { LuzError } from '@luzts/core';
import { luzMetricAccuracy, luzMetricBinaryAccuracy, luzMetricBinaryAccuracyWithLogits } from './index.js';

await tf.setBackend('cpu');

function run(gen: ReturnType<typeof luzMetricAccuracy>, batches: Array<[tf.Tensor, tf.Tensor]>) {
  const m = gen.create();
  for (const [p, t] of batches) m.update(p, t);
  const v = m.compute();
  m.dispose();
  return v as number;
}

describe('luzMetricAccuracy', () => {
  const preds = tf.tensor2d([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1], [0.3, 0.3, 0.4], [0.2, 0.5, 0.3]]);
  // argmax = [1, 0, 2, 1]

  it('compares argmax(preds) with 0-based integer targets', () => {
    expect(run(luzMetricAccuracy(), [[preds, tf.tensor1d([1, 0, 0, 2], 'int32')]])).toBe(2 / 4);
    expect(run(luzMetricAccuracy(), [[preds, tf.tensor1d([1, 0, 2, 1])]])).toBe(1); // float labels
  });

  it('accepts one-hot and soft (probability) targets via their argmax', () => {
    const onehot = tf.oneHot(tf.tensor1d([1, 2, 2, 1], 'int32'), 3);
    expect(run(luzMetricAccuracy(), [[preds, onehot]])).toBe(3 / 4);
    const soft = tf.tensor2d([[0.2, 0.6, 0.2], [0.1, 0.1, 0.8], [0.5, 0.2, 0.3], [0.3, 0.4, 0.3]]); // argmax [1, 2, 0, 1]
    expect(run(luzMetricAccuracy(), [[preds, soft]])).toBe(2 / 4);
  });

  it('counts exactly over uneven batches', () => {
    const t = tf.tensor1d([1, 0, 0, 2], 'int32');
    // batch 1 (3 rows): 2 right; batch 2 (1 row): 0 right -> 2/4 (mean of batch accuracies would be 1/3)
    expect(run(luzMetricAccuracy(), [[preds.slice(0, 3), t.slice(0, 3)], [preds.slice(3, 1), t.slice(3, 1)]])).toBe(0.5);
  });

  it('explains shape mismatches', () => {
    const m = luzMetricAccuracy().create();
    expect(() => m.update(preds, tf.zeros([4, 1]))).toThrow(LuzError);
    expect(() => m.update(preds, tf.zeros([4, 1]))).toThrow(/Acc metric: 'preds' has shape \(4, 3\) but 'target' has shape \(4, 1\); expected 'preds' of shape \(B, ..., C\)/);
    expect(() => m.update(tf.zeros([4]), tf.zeros([4]))).toThrow(/'preds' has shape \(4\)/);
    m.dispose();
    expect(() => luzMetricAccuracy({ threshold: 0.5 } as never)).toThrow(/unknown option 'threshold'/);
  });
});

describe('luzMetricBinaryAccuracy', () => {
  it('thresholds predictions (default 0.5, custom threshold)', () => {
    const p = tf.tensor1d([0.1, 0.6, 0.4, 0.9, 0.55]);
    const t = tf.tensor1d([0, 1, 1, 1, 0]);
    expect(run(luzMetricBinaryAccuracy(), [[p, t]])).toBe(3 / 5);
    expect(run(luzMetricBinaryAccuracy({ threshold: 0.3 }), [[p, t]])).toBe(4 / 5);
  });

  it('requires identical shapes and a finite threshold', () => {
    const m = luzMetricBinaryAccuracy().create();
    expect(() => m.update(tf.zeros([5, 1]), tf.zeros([5]))).toThrow(/Acc metric: 'preds' has shape \(5, 1\) but 'target' has shape \(5\)/);
    m.dispose();
    expect(() => luzMetricBinaryAccuracy({ threshold: NaN })).toThrow(/'threshold' must be a finite number, got NaN/);
    expect(() => luzMetricBinaryAccuracy({ treshold: 0.5 } as never)).toThrow(/unknown option 'treshold'. Expected one of: threshold/);
  });
});

describe('luzMetricBinaryAccuracyWithLogits', () => {
  it('equals mean((x > 0) == y) (port of test-metrics.R)', () => {
    const x = tf.randomNormal([100], 0, 1, 'float32', 7);
    const y = tf.randomUniform([100], 0, 1, 'float32', 8).greater(0.5).toFloat();
    const xs = x.dataSync();
    const ys = y.dataSync();
    const expected = Array.from(xs).filter((v, i) => Number(v > 0) === ys[i]).length / 100;
    expect(run(luzMetricBinaryAccuracyWithLogits(), [[x, y]])).toBeCloseTo(expected, 10);
  });

  it('treats the threshold as a probability and classifies tiny positive logits as 1', () => {
    const x = tf.tensor1d([1e-9, -1e-9, 1.0, 2.0]);
    const y = tf.tensor1d([1, 0, 0, 1]);
    expect(run(luzMetricBinaryAccuracyWithLogits(), [[x, y]])).toBe(3 / 4);
    // sigmoid(1) = 0.731, sigmoid(2) = 0.881: threshold 0.8 -> predictions [0, 0, 0, 1]
    expect(run(luzMetricBinaryAccuracyWithLogits({ threshold: 0.8 }), [[x, y]])).toBe(3 / 4);
    expect(run(luzMetricBinaryAccuracyWithLogits({ threshold: 0.7 }), [[x, y]])).toBe(2 / 4);
    expect(() => luzMetricBinaryAccuracyWithLogits({ threshold: 2 })).toThrow(/'threshold' must be in \[0, 1\], got 2/);
  });
});
