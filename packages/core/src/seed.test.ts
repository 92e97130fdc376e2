import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { fit, luzCallback, setup } from './index.js';
import { cpu, getData } from './test-utils/helpers.js';

/** A linear model with fixed initial weights, so only the loop's randomness varies between runs. */
const module = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 1, kernelInitializer: 'ones' })] }), {
  loss: (p, t) => tf.losses.meanSquaredError(t, p),
  optimizer: () => tf.train.sgd(0.01),
});

async function run(seed: number | undefined) {
  const order: number[] = [];
  const spy = luzCallback({ name: 'spy', onTrainBatchBegin(ctx) { order.push(...Array.from((ctx.target as tf.Tensor).dataSync())); } });
  const fitted = await fit(module, getData(40), { accelerator: cpu(), verbose: false, epochs: 2, seed, validData: 0.25, dataloaderOptions: { batchSize: 5 }, callbacks: [spy()] });
  return { order, records: fitted.records.metrics };
}

describe('fit({ seed })', () => {
  it('makes shuffling and the validation split reproducible; another seed changes them', async () => {
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(b.order).toEqual(a.order);
    expect(b.records).toEqual(a.records);
    expect(c.order).not.toEqual(a.order);
    // Every epoch sees each of the 30 training rows once, in a different order.
    expect(a.order.slice(0, 30)).not.toEqual(a.order.slice(30));
    expect([...a.order.slice(0, 30)].sort()).toEqual([...a.order.slice(30)].sort());
  });

  it('without a seed two runs shuffle differently', async () => {
    const a = await run(undefined);
    const b = await run(undefined);
    expect(b.order).not.toEqual(a.order);
  });
});
