import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { accelerator, evaluate, fit, luzCallback, luzMetric, luzMetricSet, predict, setup, type LuzMetricGenerator } from '@luzts/core';
import {
  luzMetricAccuracy,
  luzMetricBinaryAccuracy,
  luzMetricBinaryAccuracyWithLogits,
  luzMetricBinaryAuroc,
  luzMetricMae,
  luzMetricMse,
  luzMetricMulticlassAuroc,
  luzMetricRmse,
} from './index.js';

const quiet = () => ({ accelerator: accelerator({ backend: 'cpu' }), verbose: false });

/** A linear model from `inputs` features to `units` outputs. */
function linear(inputs: number, units: number, loss: (p: tf.Tensor, t: tf.Tensor) => tf.Tensor, metrics: LuzMetricGenerator[] | ReturnType<typeof luzMetricSet>) {
  return setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [inputs], units })] }), {
    loss,
    optimizer: () => tf.train.adam(0.01),
    metrics,
  });
}
const mseLoss = (p: tf.Tensor, t: tf.Tensor) => tf.losses.meanSquaredError(t, p);
const logitLoss = (p: tf.Tensor, t: tf.Tensor) => tf.losses.sigmoidCrossEntropy(t, p);
const softmaxLoss = (p: tf.Tensor, t: tf.Tensor) => tf.losses.softmaxCrossEntropy(t, p);
/** Softmax cross-entropy against 0-based class indices (B). */
const sparseSoftmaxLoss = (p: tf.Tensor, t: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(t.toInt(), p.shape[1]!), p);

function regressionData(n: number, seed: number): [tf.Tensor, tf.Tensor] {
  return [tf.randomNormal([n, 4], 0, 1, 'float32', seed), tf.randomNormal([n, 1], 0, 1, 'float32', seed + 1)];
}
function binaryData(n: number, seed: number): [tf.Tensor, tf.Tensor] {
  const x = tf.randomNormal([n, 4], 0, 1, 'float32', seed);
  return [x, x.sum(1, true).greater(0).toFloat()];
}

describe('metrics in fit (port of test-metrics.R)', () => {
  it('binary accuracy with logits, binary AUROC (fromLogits) and binary accuracy all log: 4 entries', async () => {
    const module = linear(4, 1, logitLoss, [luzMetricBinaryAccuracyWithLogits(), luzMetricBinaryAuroc({ fromLogits: true }), luzMetricBinaryAccuracy()]);
    const fitted = await fit(module, binaryData(60, 1), { ...quiet(), epochs: 2, dataloaderOptions: { batchSize: 10 } });
    const first = fitted.records.metrics.train[0];
    expect(Object.keys(first)).toEqual(['loss', 'acc', 'auc', 'acc2']);
    for (const v of Object.values(first)) expect(Number.isFinite(v)).toBe(true);
    expect(first['auc']).toBeGreaterThanOrEqual(0);
    expect(first['auc']).toBeLessThanOrEqual(1);
  });

  it('luzMetricSet({ metrics: mae, validMetrics: rmse, trainMetrics: mse }) logs loss,mae,rmse (valid) and loss,mae,mse (train)', async () => {
    const metrics = luzMetricSet({ metrics: luzMetricMae(), validMetrics: luzMetricRmse(), trainMetrics: luzMetricMse() });
    const fitted = await fit(linear(4, 1, mseLoss, metrics), regressionData(50, 2), { ...quiet(), epochs: 2, validData: 0.2, dataloaderOptions: { batchSize: 10 } });
    for (const epoch of [0, 1]) {
      expect(Object.keys(fitted.records.metrics.valid[epoch])).toEqual(['loss', 'mae', 'rmse']);
      expect(Object.keys(fitted.records.metrics.train[epoch])).toEqual(['loss', 'mae', 'mse']);
    }
  });

  it('wrong metric type (an uncalled factory) is an error mentioning "Expected a metric generator"', () => {
    expect(() => linear(4, 1, mseLoss, [luzMetricMae as never])).toThrow(/Expected a metric generator/);
    expect(() => luzMetricSet({ validMetrics: [luzMetricRmse as never] })).toThrow(/Expected a metric generator in 'validMetrics' at index 0.*luzMetricMae\(\)/);
  });

  it('a failing update or compute names the metric, the iteration, the epoch and the mode', async () => {
    const failingUpdate = luzMetric({ abbrev: 'Boom', update() { throw new Error('update failed'); }, compute: () => 0 });
    const failingCompute = luzMetric({ abbrev: 'Bang', update() {}, compute() { throw new Error('compute failed'); } });
    const data = regressionData(40, 3);
    const opts = { ...quiet(), epochs: 1, dataloaderOptions: { batchSize: 10 } };
    await expect(fit(linear(4, 1, mseLoss, [failingUpdate()]), data, opts)).rejects.toThrow(
      /Error when evaluating update for metric with abbrev 'Boom': update failed\n\s+The error happened at iter 1 of epoch 1.\n\s+The model was in training mode./,
    );
    await expect(fit(linear(4, 1, mseLoss, [failingCompute()]), data, opts)).rejects.toThrow(
      /Error when evaluating compute for metric with abbrev 'Bang': compute failed\n\s+The error happened at iter 4 of epoch 1.\n\s+The model was in training mode./,
    );
    const validOnly = luzMetricSet({ validMetrics: [failingCompute()] });
    await expect(fit(linear(4, 1, mseLoss, validOnly), data, { ...opts, validData: regressionData(10, 4) })).rejects.toThrow(
      /metric with abbrev 'Bang': compute failed\n.*\n\s+The model was not in training mode./,
    );
    // A shape mismatch inside fit reaches the user with both shapes.
    const lenientLoss = (p: tf.Tensor, t: tf.Tensor) => p.sub(t.reshape(p.shape)).square().mean();
    await expect(fit(linear(4, 1, lenientLoss, [luzMetricMae()]), [data[0], data[1].reshape([40])], opts)).rejects.toThrow(
      /abbrev 'MAE': MAE metric: 'preds' has shape \(10, 1\) but 'target' has shape \(10\)/,
    );
  });
});

describe('exact epoch values over uneven batches', () => {
  it('MAE / MSE / RMSE from evaluate (103 rows, batch 10) equal the whole-set values', async () => {
    const train = regressionData(40, 5);
    const fitted = await fit(linear(4, 1, mseLoss, []), train, { ...quiet(), epochs: 1, dataloaderOptions: { batchSize: 10 } });
    const [x, y] = regressionData(103, 7);
    const ev = await evaluate(fitted, [x, y], { ...quiet(), metrics: [luzMetricMae(), luzMetricMse(), luzMetricRmse()], dataloaderOptions: { batchSize: 10 } });
    const p = Array.from(((await predict(fitted, x, quiet())) as tf.Tensor).dataSync());
    const ys = Array.from(y.dataSync());
    const mae = p.reduce((s, v, i) => s + Math.abs(v - ys[i]), 0) / 103;
    const mse = p.reduce((s, v, i) => s + (v - ys[i]) ** 2, 0) / 103;
    const got = ev.records.metrics.valid[0];
    expect(got['mae']).toBeCloseTo(mae, 5);
    expect(got['mse']).toBeCloseTo(mse, 5);
    expect(got['rmse']).toBeCloseTo(Math.sqrt(mse), 5);
  });

  it('accuracy and AUROC of the valid set (103 rows, batch 10) equal the whole-set values', async () => {
    const classes = (x: tf.Tensor) => x.slice([0, 0], [-1, 3]).argMax(1);
    const xTrain = tf.randomNormal([60, 4], 0, 1, 'float32', 8);
    const xValid = tf.randomNormal([103, 4], 0, 1, 'float32', 9);
    const yValid = classes(xValid);
    const labels = Array.from(yValid.dataSync());
    const module = linear(4, 3, sparseSoftmaxLoss, luzMetricSet({ validMetrics: [luzMetricAccuracy(), luzMetricMulticlassAuroc({ fromLogits: true, average: 'none', numThresholds: 3 })] }));
    const fitted = await fit(module, [xTrain, classes(xTrain)], {
      ...quiet(),
      epochs: 1,
      validData: [xValid, yValid],
      dataloaderOptions: { batchSize: 10 },
    });
    const logits = (await predict(fitted, xValid, quiet())) as tf.Tensor;
    const predClass = Array.from(logits.argMax(1).dataSync());
    const probs = Array.from(logits.softmax().dataSync());
    const got = fitted.records.metrics.valid[0];
    expect(got['acc']).toBe(predClass.filter((c, i) => c === labels[i]).length / 103);
    // numThresholds 3: the ROC has the points (0, 1), (spec, tpr) at 0.5, (1, 0) -> per-class area.
    const expected: Record<string, number> = {};
    for (const k of [0, 1, 2]) {
      const score = probs.filter((_, i) => i % 3 === k);
      const pos = labels.map((l) => l === k);
      const nPos = pos.filter(Boolean).length;
      const tpr = score.filter((s, i) => pos[i] && s > 0.5).length / nPos;
      const spec = score.filter((s, i) => !pos[i] && s <= 0.5).length / (103 - nPos);
      expected[String(k)] = spec * (1 + tpr) / 2 + (1 - spec) * tpr / 2;
    }
    const auc = got['auc'] as Record<string, number>;
    for (const k of ['0', '1', '2']) expect(auc[k]).toBeCloseTo(expected[k], 5);
  });
});

describe('metric sets and memory', () => {
  it('luzMetricSet({ metrics, trainMetrics, validMetrics }) logs the right names per set', async () => {
    const metrics = luzMetricSet({
      metrics: [luzMetricBinaryAccuracyWithLogits()],
      trainMetrics: [luzMetricBinaryAccuracy({ threshold: 0 })],
      validMetrics: [luzMetricBinaryAuroc({ fromLogits: true }), luzMetricMae()],
    });
    const fitted = await fit(linear(4, 1, logitLoss, metrics), binaryData(50, 10), { ...quiet(), epochs: 2, validData: 0.2, dataloaderOptions: { batchSize: 10 } });
    expect(fitted.records.metrics.train.map((e) => Object.keys(e))).toEqual([['loss', 'acc', 'acc2'], ['loss', 'acc', 'acc2']]);
    expect(fitted.records.metrics.valid.map((e) => Object.keys(e))).toEqual([['loss', 'acc', 'auc', 'mae'], ['loss', 'acc', 'auc', 'mae']]);
    // Accuracy with logits at 0.5 and binary accuracy at threshold 0 on logits are the same thing.
    for (const e of fitted.records.metrics.train) expect(e['acc']).toBe(e['acc2']);
  });

  it('no tensor growth across epochs with every metric enabled', async () => {
    const counts: number[] = [];
    const memory = luzCallback({ name: 'memory', onEpochEnd() { counts.push(tf.memory().numTensors); } });
    const metrics = [
      luzMetricAccuracy(), luzMetricMae(), luzMetricMse(), luzMetricRmse(),
      luzMetricBinaryAccuracy(), luzMetricBinaryAccuracyWithLogits(), luzMetricBinaryAuroc({ fromLogits: true }),
      ...(['micro', 'macro', 'weighted', 'none'] as const).map((average) => luzMetricMulticlassAuroc({ fromLogits: true, average })),
    ];
    const x = tf.randomNormal([60, 4], 0, 1, 'float32', 12);
    const y = tf.oneHot(x.slice([0, 0], [-1, 3]).argMax(1), 3).toFloat();
    const fitted = await fit(linear(4, 3, softmaxLoss, metrics), [x, y], { ...quiet(), epochs: 5, validData: 0.25, dataloaderOptions: { batchSize: 8 }, callbacks: [memory()] });
    expect(counts).toHaveLength(5);
    expect(counts[4]).toBe(counts[0]);
    expect(Object.keys(fitted.records.metrics.valid[4])).toEqual(['loss', 'acc', 'mae', 'mse', 'rmse', 'acc2', 'acc3', 'auc', 'auc2', 'auc3', 'auc4', 'auc5']);
    expect(Object.keys(fitted.records.metrics.valid[4]['auc5'] as object)).toEqual(['0', '1', '2']);
  });
});

describe('standalone use (README example)', () => {
  it('create / update / compute / dispose outside fit leaks nothing', () => {
    const before = tf.memory().numTensors;
    const m = luzMetricMae().create();
    tf.tidy(() => {
      m.update(tf.tensor1d([1, 2, 3]), tf.tensor1d([1, 1, 1]));
      m.update(tf.tensor1d([0]), tf.tensor1d([4]));
    });
    expect(m.compute()).toBe((0 + 1 + 2 + 4) / 4);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
