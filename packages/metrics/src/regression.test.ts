import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { LuzError } from '@luzts/core';
import { luzMetricMae, luzMetricMse, luzMetricRmse } from './index.js';

await tf.setBackend('cpu');

/** Runs a metric over `batches` of (preds, target) and returns compute(). */
function run(gen: ReturnType<typeof luzMetricMae>, batches: Array<[tf.Tensor, tf.Tensor]>) {
  const m = gen.create();
  for (const [p, t] of batches) m.update(p, t);
  const v = m.compute();
  m.dispose();
  return v as number;
}

describe('regression metrics (port of test-metrics.R)', () => {
  // luz: x, y = torch_randn(100, 100); expect_equal(mae$compute(), mean(abs(x - y)), tolerance = 1e-5).
  const x = tf.randomNormal([100, 100], 0, 1, 'float32', 3);
  const y = tf.randomNormal([100, 100], 0, 1, 'float32', 4);
  const xs = Array.from(x.dataSync());
  const ys = Array.from(y.dataSync());
  const meanOf = (f: (d: number) => number) => xs.reduce((s, v, i) => s + f(v - ys[i]), 0) / xs.length;

  it('MAE equals mean(|x - y|) on 100x100 tensors', () => {
    expect(run(luzMetricMae(), [[x, y]])).toBeCloseTo(meanOf(Math.abs), 5);
  });

  it('MSE equals mean((x - y)^2) on 100x100 tensors', () => {
    expect(run(luzMetricMse(), [[x, y]])).toBeCloseTo(meanOf((d) => d * d), 5);
  });

  it('RMSE equals sqrt(mean((x - y)^2)) on 100x100 tensors', () => {
    expect(run(luzMetricRmse(), [[x, y]])).toBeCloseTo(Math.sqrt(meanOf((d) => d * d)), 5);
  });

  it('accumulates exactly over uneven batches (not a mean of batch means)', () => {
    // rows 0..70 and 70..100: batch means of |x - y| weighted equally would differ from the whole-set mean.
    const batches: Array<[tf.Tensor, tf.Tensor]> = [
      [x.slice([0, 0], [70, 100]), y.slice([0, 0], [70, 100])],
      [x.slice([70, 0], [30, 100]), y.slice([70, 0], [30, 100])],
    ];
    expect(run(luzMetricMae(), batches)).toBeCloseTo(meanOf(Math.abs), 5);
    expect(run(luzMetricRmse(), batches)).toBeCloseTo(Math.sqrt(meanOf((d) => d * d)), 5);
  });

  it('hand-computed values, integer targets cast to float', () => {
    const p = tf.tensor2d([[1, 2], [3, 4]]);
    const t = tf.tensor2d([[1, 0], [0, 4]], undefined, 'int32');
    expect(run(luzMetricMae(), [[p, t]])).toBeCloseTo(5 / 4, 6); // |0| + |2| + |3| + |0|
    expect(run(luzMetricMse(), [[p, t]])).toBeCloseTo(13 / 4, 6); // 0 + 4 + 9 + 0
    expect(run(luzMetricRmse(), [[p, t]])).toBeCloseTo(Math.sqrt(13 / 4), 6);
  });

  it('compute() has no side effects and returns NaN before any update', () => {
    const m = luzMetricMse().create();
    expect(m.compute()).toBeNaN();
    m.update(tf.tensor1d([1, 2, 3]), tf.tensor1d([1, 1, 1]));
    const before = tf.memory().numTensors;
    expect(m.compute()).toBeCloseTo(5 / 3, 6);
    expect(m.compute()).toBeCloseTo(5 / 3, 6);
    expect(tf.memory().numTensors).toBe(before);
    expect(m.format(m.compute())).toBe('1.6667');
    m.dispose();
  });

  it('refuses (B, 1) predictions against (B) targets instead of broadcasting', () => {
    const m = luzMetricMae().create();
    expect(() => m.update(tf.zeros([4, 1]), tf.zeros([4]))).toThrow(LuzError);
    expect(() => m.update(tf.zeros([4, 1]), tf.zeros([4]))).toThrow(/'preds' has shape \(4, 1\) but 'target' has shape \(4\); expected identical shapes/);
    expect(() => m.update([1, 2], tf.zeros([2]))).toThrow(/MAE metric: 'preds' must be a tf.Tensor, got an array of length 2/);
    m.dispose();
  });

  it('rejects options it does not take', () => {
    expect(() => luzMetricMae({ foo: 1 } as never)).toThrow(/luzMetricMae\(\): unknown option 'foo'. It takes no options./);
    expect(() => luzMetricRmse(3 as never)).toThrow(/expected an options object, got 3/);
  });
});
