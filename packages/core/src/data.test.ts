// Ports of luz's tests/testthat/test-as_dataloader.R and test-accelerator.R (spec §8).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asDataloader, LuzError, fit } from './index.js';
import { cpu, getData, linearModule } from './test-utils/helpers.js';

async function batches(dl: AsyncIterable<unknown[]>): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const b of dl) out.push(b);
  return out;
}

describe('asDataloader', () => {
  it('unsupported data is an error', () => {
    expect(() => asDataloader(42 as never)).toThrow(LuzError);
    expect(() => asDataloader(42 as never)).toThrow(/Unsupported data: got 42/);
  });

  it('a tuple of tensors gives 4 batches of 32 by default, batchSize 10 gives 10', async () => {
    const x = tf.randomNormal([100, 10]);
    const y = tf.randomNormal([100, 5]);
    const dl = asDataloader([x, y]);
    expect(dl.length).toBe(4);
    const bs = await batches(dl);
    expect((bs[0][0] as tf.Tensor).shape).toEqual([32, 10]);
    expect((bs[0][1] as tf.Tensor).shape).toEqual([32, 5]);
    expect((bs[3][0] as tf.Tensor).shape).toEqual([4, 10]);
    expect(asDataloader([x, y], { batchSize: 10 }).length).toBe(10);
  });

  it('a tensor and an array, nested arrays, typed arrays and 3-D data all become dataloaders', async () => {
    const nested = Array.from({ length: 100 }, (_, i) => [i, i + 1]);
    expect(asDataloader([tf.randomNormal([100, 10]), nested]).length).toBe(4);
    expect(asDataloader([new Float32Array(100)]).length).toBe(4);
    expect(asDataloader(tf.randomNormal([100, 3, 4])).length).toBe(4);
    // luz drops the options for bare arrays (quirk); luzts applies them.
    expect(asDataloader(tf.randomNormal([100, 3]), { batchSize: 10 }).length).toBe(10);
  });

  it('mismatched first dimensions are an error naming the element', () => {
    expect(() => asDataloader([tf.zeros([10, 2]), tf.zeros([9])])).toThrow(/element 1 has 9, the first has 10/);
  });

  it('batches in order without shuffle; the last batch is rows 91..100', async () => {
    const x = tf.range(0, 100).reshape([100, 1]);
    const bs = await batches(asDataloader([x, x], { batchSize: 10 }));
    expect(bs).toHaveLength(10);
    expect(Array.from((bs[9][0] as tf.Tensor).dataSync())).toEqual(Array.from({ length: 10 }, (_, i) => 90 + i));
  });

  it('shuffle permutes every epoch with a seed, reproducibly, and covers every row once', async () => {
    const x = tf.range(0, 20).reshape([20, 1]);
    const rows = async (seed: number) => {
      const dl = asDataloader([x], { batchSize: 5, shuffle: true, seed });
      const e1 = (await batches(dl)).flatMap((b) => Array.from((b[0] as tf.Tensor).dataSync()));
      const e2 = (await batches(dl)).flatMap((b) => Array.from((b[0] as tf.Tensor).dataSync()));
      return [e1, e2];
    };
    const [a1, a2] = await rows(3);
    const [b1] = await rows(3);
    expect(a1).toEqual(b1);
    expect(a1).not.toEqual(a2);
    expect([...a1].sort((p, q) => p - q)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('dropLast drops the incomplete batch', () => {
    expect(asDataloader([tf.zeros([100, 1])], { batchSize: 32, dropLast: true }).length).toBe(3);
  });

  it('tf.data datasets of {xs, ys} and user iterables of unknown length train', async () => {
    const [x, y] = getData(40);
    const ds = tf.data.zip({ xs: tf.data.array(tf.unstack(x)), ys: tf.data.array(tf.unstack(y)) }) as tf.data.Dataset<tf.TensorContainer>;
    const fitted = await fit(linearModule(), ds, { accelerator: cpu(), verbose: false, epochs: 2, dataloaderOptions: { batchSize: 10 } });
    expect(fitted.records.metrics.train).toHaveLength(2);
    const iterable = {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < 3; i++) yield [x.slice(i * 10, 10), y.slice(i * 10, 10)];
      },
    };
    let iters = 0;
    const fitted2 = await fit(linearModule(), iterable, { accelerator: cpu(), verbose: false, epochs: 2, callbacks: [] });
    fitted2.records.metrics.train.forEach((m) => expect(typeof m.loss).toBe('number'));
    expect(asDataloader(iterable).length).toBeUndefined();
    for await (const _ of asDataloader(iterable)) iters++;
    expect(iters).toBe(3);
  });

  it('bad options are errors naming the option and value', () => {
    expect(() => asDataloader(tf.zeros([4, 1]), { batchSize: 0 })).toThrow(/'batchSize' must be a positive integer, got 0/);
    expect(() => asDataloader(tf.zeros([4, 1]), { shuffle: 'yes' } as never)).toThrow(/'shuffle' must be a boolean/);
  });
});
