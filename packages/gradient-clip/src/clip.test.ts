import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LuzError, accelerator, fit, luzCallback, setup, type LuzContext, type LuzModuleInterface } from '@luzts/core';
import { clipGradNorm, globalNorm, luzCallbackGradientClip } from './index.js';

const cpu = () => accelerator({ backend: 'cpu' });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('clipGradNorm', () => {
  const grads = () => ({ a: tf.tensor1d([3, 4]), b: tf.tensor1d([-12]) });

  it('scales by maxNorm / (norm + 1e-6) for the 2-norm, 1-norm, 3-norm and Infinity norm', () => {
    const cases: Array<[number, number]> = [
      [2, 13], // sqrt(9 + 16 + 144)
      [1, 19],
      [3, Math.cbrt(27 + 64 + 1728)],
      [Infinity, 12],
    ];
    for (const [p, total] of cases) {
      const g = grads();
      const { grads: out, totalNorm } = clipGradNorm(g, 1, p);
      expect(totalNorm.dataSync()[0]).toBeCloseTo(total, 4);
      const coef = 1 / (total + 1e-6);
      Array.from(out.a.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([3, 4][i] * coef, 6));
      expect(out.b.dataSync()[0]).toBeCloseTo(-12 * coef, 6);
      // The result has norm maxNorm; the inputs are untouched.
      expect(globalNorm(out, p).dataSync()[0]).toBeCloseTo(1, 5);
      expect(Array.from(g.a.dataSync())).toEqual([3, 4]);
      tf.dispose([g.a, g.b, out.a, out.b, totalNorm]);
    }
  });

  it('leaves gradients below maxNorm unchanged', () => {
    const g = grads();
    const { grads: out, totalNorm } = clipGradNorm(g, 100);
    expect(Array.from(out.a.dataSync())).toEqual([3, 4]);
    expect(Array.from(out.b.dataSync())).toEqual([-12]);
    tf.dispose([g.a, g.b, out.a, out.b, totalNorm]);
  });
});

describe('luzCallbackGradientClip', () => {
  let x: tf.Tensor;
  let y: tf.Tensor;
  beforeAll(() => {
    x = tf.randomNormal([40, 3], 0, 1, 'float32', 5);
    y = tf.randomNormal([40, 1], 0, 1, 'float32', 6);
  });
  afterAll(() => tf.dispose([x, y]));

  it("maxNorm: 0 → no learning: weights unchanged and all 4 epochs' losses identical (luz's test)", async () => {
    let initial: number[] = [];
    const probe = luzCallback({ name: 'probe', onFitBegin(ctx: LuzContext) { initial = ctx.model.getWeights().flatMap((w) => Array.from(w.dataSync())); } })();
    const module = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1 })] }), {
      loss: (pred, target) => tf.losses.meanSquaredError(target, pred),
      optimizer: () => tf.train.adam(0.1),
    });
    const before = tf.memory().numTensors;
    const fitted = await fit(module, [x, y], {
      epochs: 4,
      verbose: false,
      accelerator: cpu(),
      // No shuffling: the epoch loss is then summed in the same order every epoch.
      dataloaderOptions: { batchSize: 10, shuffle: false },
      callbacks: [luzCallbackGradientClip({ maxNorm: 0 }), probe],
    });
    const losses = fitted.records.metrics.train.map((m) => m.loss);
    expect(losses).toHaveLength(4);
    expect(new Set(losses).size).toBe(1);
    expect(fitted.model.getWeights().flatMap((w) => Array.from(w.dataSync()))).toEqual(initial);
    fitted.model.dispose?.();
    expect(tf.memory().numTensors).toBe(before);
  });

  /** y = x·w with one weight vector, so the gradient can be computed by hand. */
  function handModule(lr: number) {
    return setup(
      () => {
        const w = tf.variable(tf.tensor2d([[0.5], [-1]]));
        const model: LuzModuleInterface = {
          forward: (input) => tf.matMul(input as tf.Tensor2D, w as tf.Tensor2D),
          trainableVariables: () => [w],
          getWeights: () => [w],
          setWeights: ([v]) => w.assign(v as tf.Tensor2D),
          dispose: () => w.dispose(),
        };
        return model;
      },
      { loss: (pred, target) => tf.losses.meanSquaredError(target, pred), optimizer: () => tf.train.sgd(lr) },
    );
  }

  const X = [[1, 2], [3, -1], [0.5, 4], [-2, 1]];
  const Y = [3, -2, 5, 1];
  const W = [0.5, -1];
  // d/dw mean((x·w - y)^2) = (2/n) Σ (x·w - y) x
  const grad = [0, 1].map((j) => (2 / X.length) * X.reduce((s, row, i) => s + (row[0] * W[0] + row[1] * W[1] - Y[i]) * row[j], 0));

  for (const [normType, norm] of [
    [2, Math.hypot(...grad)],
    [Infinity, Math.max(...grad.map(Math.abs))],
  ] as const) {
    it(`clipped gradients (normType ${normType}) equal the hand-computed reference, with norm maxNorm`, async () => {
      const maxNorm = 0.5;
      expect(norm).toBeGreaterThan(maxNorm); // the reference does get clipped
      const expected = grad.map((g) => (g * maxNorm) / (norm + 1e-6));
      let seen: number[] = [];
      const probe = luzCallback({ name: 'probe', onTrainBatchBeforeStep(ctx: LuzContext) { seen = Object.values(ctx.grads!).flatMap((g) => Array.from(g.dataSync())); } })();
      const lr = 0.1;
      const data: [tf.Tensor, tf.Tensor] = [tf.tensor2d(X), tf.tensor2d(Y, [4, 1])];
      const fitted = await fit(handModule(lr), data, {
        epochs: 1,
        verbose: false,
        accelerator: cpu(),
        dataloaderOptions: { batchSize: 4 },
        callbacks: [luzCallbackGradientClip({ maxNorm, normType }), probe],
      });
      seen.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
      const seenNorm = normType === 2 ? Math.hypot(...seen) : Math.max(...seen.map(Math.abs));
      expect(seenNorm).toBeCloseTo(maxNorm, 5);
      // The optimizer applied the clipped gradient.
      const w = Array.from(fitted.model.getWeights()[0].dataSync());
      w.forEach((v, i) => expect(v).toBeCloseTo(W[i] - lr * expected[i], 5));
      fitted.model.dispose?.();
      tf.dispose(data);
    });
  }

  it("validates maxNorm and normType with luz's message", () => {
    expect(() => luzCallbackGradientClip({ maxNorm: 'a' as never })).toThrow(LuzError);
    expect(() => luzCallbackGradientClip({ maxNorm: 'a' as never })).toThrow(/'maxNorm' should be a numeric scalar value.*Got a string \("a"\)/);
    expect(() => luzCallbackGradientClip({ normType: 'inf' as never })).toThrow(/'normType' should be a numeric scalar value.*Got a string/);
    expect(() => luzCallbackGradientClip({ maxNorm: [1, 2] as never })).toThrow(/'maxNorm'.*Got an array with length 2/);
    expect(() => luzCallbackGradientClip({ maxNorm: -1 })).toThrow(/'maxNorm'.*>= 0/);
    expect(() => luzCallbackGradientClip({ normType: 0 })).toThrow(/'normType'.*> 0/);
    expect(() => luzCallbackGradientClip({ max_norm: 1 } as never)).toThrow(/unknown option 'max_norm'/);
    expect(luzCallbackGradientClip({ normType: Infinity }).name).toBe('gradient_clip_callback');
  });
});
