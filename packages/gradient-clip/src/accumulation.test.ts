import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accelerator, fit, luzCallback, setup, type LuzCallback, type LuzContext } from '@luzts/core';
import { luzCallbackGradientAccumulation, luzCallbackGradientClip } from './index.js';

let x: tf.Tensor;
let y: tf.Tensor;
beforeAll(() => {
  x = tf.randomNormal([40, 3], 0, 1, 'float32', 7);
  y = tf.randomNormal([40, 1], 0, 1, 'float32', 8);
});
afterAll(() => tf.dispose([x, y]));

const module = () =>
  setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1, kernelInitializer: 'zeros' })] }), {
    loss: (pred, target) => tf.losses.meanSquaredError(target, pred),
    optimizer: () => tf.train.sgd(0.1),
  });

async function train(batchSize: number, epochs: number, callbacks: LuzCallback[] = []) {
  let iterations = 0;
  const probe = luzCallback({ name: 'probe', onFitEnd(ctx: LuzContext) { iterations = ctx.opt.iterations; } })();
  const fitted = await fit(module(), [x, y], {
    epochs,
    verbose: false,
    accelerator: accelerator({ backend: 'cpu' }),
    dataloaderOptions: { batchSize, shuffle: false },
    callbacks: [...callbacks, probe],
  });
  const weights = fitted.model.getWeights().flatMap((w) => Array.from(w.dataSync()));
  fitted.model.dispose?.();
  return { weights, iterations };
}

describe('luzCallbackGradientAccumulation', () => {
  it('4 accumulated batches of 10 train like one batch of 40 (SGD), without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const accumulated = await train(10, 3, [luzCallbackGradientAccumulation({ steps: 4 })]);
    expect(tf.memory().numTensors).toBe(before);
    const full = await train(40, 3);
    const plain = await train(10, 3);
    expect(accumulated.iterations).toBe(3);
    expect(full.iterations).toBe(3);
    accumulated.weights.forEach((w, i) => expect(Math.abs(w - full.weights[i])).toBeLessThan(1e-5));
    // Sanity: without accumulation, batches of 10 give different weights.
    expect(Math.max(...plain.weights.map((w, i) => Math.abs(w - full.weights[i])))).toBeGreaterThan(1e-3);
  });

  it('applies a last incomplete group at the end of each epoch', async () => {
    // 4 batches per epoch with steps 3: one step after batch 3 and one for batch 4, per epoch.
    const { iterations } = await train(10, 2, [luzCallbackGradientAccumulation({ steps: 3 })]);
    expect(iterations).toBe(4);
  });

  it('composes with gradient clipping (each batch clipped, then averaged)', async () => {
    const before = tf.memory().numTensors;
    const a = await train(10, 1, [luzCallbackGradientClip({ maxNorm: 1e-3 }), luzCallbackGradientAccumulation({ steps: 4 })]);
    expect(tf.memory().numTensors).toBe(before);
    // Each clipped batch gradient has norm 1e-3, so one SGD step moves the weights by at most 0.1 · 1e-3.
    expect(Math.hypot(...a.weights)).toBeLessThanOrEqual(1e-4 + 1e-9);
    expect(Math.hypot(...a.weights)).toBeGreaterThan(0);
  });

  it('validates steps', () => {
    expect(() => luzCallbackGradientAccumulation({ steps: 0 })).toThrow(/'steps' should be a numeric scalar value \(an integer >= 1\)\. Got number 0/);
    expect(() => luzCallbackGradientAccumulation({ steps: 1.5 })).toThrow(/'steps'/);
    expect(() => luzCallbackGradientAccumulation({ step: 2 } as never)).toThrow(/unknown option 'step'/);
  });
});
