import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { fit, luzCallback, luzMetric, predict, evaluate, setup } from './index.js';
import { cpu, getData } from './test-utils/helpers.js';

describe('tensor lifetimes', () => {
  it('the live tensor count after epoch 20 equals the count after epoch 1 (defaults, validation, a metric, a user callback)', async () => {
    const counts: number[] = [];
    const mae = luzMetric({
      abbrev: 'MAE',
      initialize() { this.sum = tf.scalar(0); this.n = 0; },
      update(p: tf.Tensor, t: tf.Tensor) { this.sum = this.sum.add(p.sub(t).abs().sum()); this.n += t.size; },
      compute() { return this.sum.dataSync()[0] / this.n; },
    });
    const user = luzCallback({
      name: 'user',
      onTrainBatchBegin(ctx) { ctx.input = ctx.input.mul(1); },
      onEpochEnd(ctx) { tf.scalar(ctx.epoch); counts.push(tf.memory().numTensors); },
    });
    const module = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 8, activation: 'relu' }), tf.layers.dense({ units: 1 })] }), {
      loss: (p, t) => tf.losses.meanSquaredError(t, p),
      optimizer: () => tf.train.adam(0.01),
      metrics: [mae()],
    });
    const data = getData(50);
    const before = tf.memory().numTensors;
    const fitted = await fit(module, data, { accelerator: cpu(), verbose: false, epochs: 20, validData: 0.2, dataloaderOptions: { batchSize: 8 }, callbacks: [user()] });
    expect(counts).toHaveLength(20);
    expect(counts[19]).toBe(counts[0]);
    // After fit only the model's weights remain (the optimizer and loaders are freed).
    expect(tf.memory().numTensors - before).toBe(fitted.model.getWeights().length);
    const pred = (await predict(fitted, data[0], { accelerator: cpu(), verbose: false })) as tf.Tensor;
    await evaluate(fitted, data, { accelerator: cpu(), verbose: false });
    pred.dispose();
    expect(tf.memory().numTensors - before).toBe(fitted.model.getWeights().length);
  });

  it.each([
    ['sgd', () => tf.train.sgd(0.1)],
    ['momentum', () => tf.train.momentum(0.1, 0.9)],
    ['adam', () => tf.train.adam(0.01)],
    ['rmsprop', () => tf.train.rmsprop(0.01, 0.9, 0.5)],
    ['adagrad', () => tf.train.adagrad(0.1)],
    ['adadelta', () => tf.train.adadelta(1)],
    ['adamax', () => tf.train.adamax(0.01)],
  ])('fit with %s leaves only the model weights', async (_name, optimizer) => {
    const data = getData(20);
    const before = tf.memory().numTensors;
    const module = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 1 })] }), { loss: (p, t) => tf.losses.meanSquaredError(t, p), optimizer });
    const fitted = await fit(module, data, { accelerator: cpu(), verbose: false, epochs: 2, dataloaderOptions: { batchSize: 10 } });
    expect(tf.memory().numTensors - before).toBe(fitted.model.getWeights().length);
    fitted.model.dispose?.();
    tf.dispose(data);
  });

  it('a fit whose backward pass throws (e.g. a kernel missing on the backend) leaks nothing', async () => {
    const data = getData(20);
    const before = tf.memory().numTensors;
    const noGradient = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
      save([x]);
      return { value: x.square(), gradFunc: () => { throw new Error('no gradient kernel'); } };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    const module = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 4 }), tf.layers.dense({ units: 1 })] }), {
      loss: (p, t) => (noGradient(p.sub(t)) as tf.Tensor).mean(),
      optimizer: () => tf.train.adam(0.01),
    });
    await expect(fit(module, data, { accelerator: cpu(), verbose: false, epochs: 1, dataloaderOptions: { batchSize: 10 } })).rejects.toThrow(/no gradient kernel/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(data);
  });

  it('a failing fit leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const failing = luzCallback({ name: 'failing', onTrainBatchEnd(ctx) { if (ctx.epoch === 2) throw new Error('stop'); } });
    const module = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 1 })] }), { loss: (p, t) => tf.losses.meanSquaredError(t, p), optimizer: () => tf.train.adam(0.01) });
    await expect(fit(module, [[...Array(20)].map(() => Array(10).fill(1)), [...Array(20)].map(() => [1])], { accelerator: cpu(), verbose: false, epochs: 3, validData: 0.5, dataloaderOptions: { batchSize: 5 }, callbacks: [failing()] })).rejects.toThrow(/stop/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
