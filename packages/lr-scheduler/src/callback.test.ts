import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accelerator, fit, luzCallback, setup, type LuzContext, type LuzModuleInterface } from '@luzts/core';
import { getLearningRate, getMomentum, luzCallbackLrScheduler, lrMultiplicative, lrOneCycle, lrReduceOnPlateau, lrStep } from './index.js';
import { monitoredValue } from './callback.js';

const cpu = () => accelerator({ backend: 'cpu' });
let x: tf.Tensor;
let y: tf.Tensor;

beforeAll(() => {
  x = tf.randomNormal([40, 3], 0, 1, 'float32', 1);
  y = tf.randomNormal([40, 1], 0, 1, 'float32', 2);
});
afterAll(() => tf.dispose([x, y]));

const linear = (lr = 0.001, opt: (lr: number) => tf.Optimizer = (l) => tf.train.sgd(l)) =>
  setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1 })] }), {
    loss: (pred, target) => tf.losses.meanSquaredError(target, pred),
    optimizer: () => opt(lr),
  });

const base = { verbose: false, accelerator: cpu(), dataloaderOptions: { batchSize: 10 } };

/** Overrides the logged loss of `set` with a fixed sequence (a controlled monitored metric). */
const fixedLoss = (set: 'train' | 'valid', values: number[]) => {
  const handler = (ctx: LuzContext) => {
    ctx.log('metrics', set, { loss: values[ctx.epoch - 1] }, { index: ctx.epoch });
  };
  return luzCallback(set === 'train' ? { name: 'fixed_loss', onTrainEnd: handler } : { name: 'fixed_loss', onValidEnd: handler })();
};

/** The same controlled sequence as PLATEAU_METRICS in scripts/torch_reference.py. */
const PLATEAU = [1.0, 0.95, 0.93, 0.92, 0.8, 0.79, 0.85, 0.78, 0.6, 0.61, 0.62, 0.59, 0.58, 0.58, 0.3, 0.31, 0.32, 0.33, 0.34, 0.35];

function twoOptimizerModule() {
  return setup(
    () => {
      const w = tf.variable(tf.zeros([3, 1]));
      const b = tf.variable(tf.zeros([1]));
      const model: LuzModuleInterface = {
        forward: (input) => tf.add(tf.matMul(input as tf.Tensor2D, w), b),
        trainableVariables: () => [w, b],
        getWeights: () => [w, b],
        setWeights: ([a, c]) => {
          w.assign(a as tf.Tensor);
          b.assign(c as tf.Tensor);
        },
        setOptimizers: () => ({ weight: { optimizer: tf.train.sgd(0.1), variables: [w] }, bias: { optimizer: tf.train.sgd(0.2), variables: [b] } }),
        dispose: () => tf.dispose([w, b]),
      };
      return model;
    },
    { loss: (pred, target) => tf.losses.meanSquaredError(target, pred) },
  );
}

describe('luzCallbackLrScheduler', () => {
  it("lrMultiplicative(() => 0.5) over 5 epochs halves the lr each epoch (luz's test)", async () => {
    const seen: number[] = [];
    const probe = luzCallback({ name: 'probe', onTrainBatchBegin(ctx: LuzContext) { if (ctx.iter === 1) seen.push(getLearningRate(ctx.opt)); } })();
    const fitted = await fit(linear(0.001), [x, y], { ...base, epochs: 5, callbacks: [luzCallbackLrScheduler(lrMultiplicative({ lrLambda: () => 0.5 })), probe] });
    const expected = [0.001, 0.0005, 0.00025, 0.000125, 0.0000625];
    expect(fitted.records.lr?.opt).toHaveLength(5);
    (fitted.records.lr?.opt as number[]).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 12));
    seen.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 12));
    fitted.model.dispose?.();
  });

  it('lrReduceOnPlateau({ patience: 2, threshold: 0.1 }) reduces after epochs 4, 8, 12 and 18 of a controlled valid_loss', async () => {
    // By hand (min mode, rel threshold: better means < best·0.9): bad-epoch counts exceed 2 at the
    // end of epochs 4, 8, 12 and 18, so epochs 5, 9, 13 and 19 start with a 10× smaller lr.
    const fitted = await fit(linear(0.1), [x, y], {
      ...base,
      epochs: 20,
      validData: [x, y],
      callbacks: [fixedLoss('valid', PLATEAU), luzCallbackLrScheduler(lrReduceOnPlateau({ patience: 2, threshold: 0.1 }))],
    });
    const lrs = fitted.records.lr?.opt as number[];
    const drops = lrs.flatMap((lr, i) => (i > 0 && lr < lrs[i - 1] * 0.99 ? [i + 1] : []));
    expect(drops).toEqual([5, 9, 13, 19]);
    expect(lrs[19]).toBeCloseTo(0.1 * 1e-4, 12);
    fitted.model.dispose?.();
  });

  it('lrReduceOnPlateau falls back to train_loss when there is no validation data', async () => {
    const fitted = await fit(linear(0.1), [x, y], {
      ...base,
      epochs: 10,
      callbacks: [fixedLoss('train', PLATEAU), luzCallbackLrScheduler(lrReduceOnPlateau({ patience: 2, threshold: 0.1 }))],
    });
    const lrs = fitted.records.lr?.opt as number[];
    expect(lrs.map((v) => Number(v.toPrecision(6)))).toEqual([0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01, 0.001, 0.001]);
    fitted.model.dispose?.();
  });

  it('drives the optimizer named by optName when the model has several (fixing luz)', async () => {
    let weightLr = NaN;
    const probe = luzCallback({ name: 'probe', onFitEnd(ctx: LuzContext) { weightLr = getLearningRate(ctx.optimizers.weight); } })();
    const fitted = await fit(twoOptimizerModule(), [x, y], { ...base, epochs: 3, callbacks: [luzCallbackLrScheduler(lrStep({ stepSize: 1, gamma: 0.5 }), { optName: 'bias' }), probe] });
    expect(fitted.records.lr?.bias).toEqual([0.2, 0.1, 0.05]);
    expect(fitted.records.lr?.weight).toBeUndefined();
    expect(weightLr).toBe(0.1);
    fitted.model.dispose?.();
  });

  it('errors clearly without optName when there are several optimizers, or with an unknown one', async () => {
    await expect(fit(twoOptimizerModule(), [x, y], { ...base, epochs: 1, callbacks: [luzCallbackLrScheduler(lrStep({ stepSize: 1 }))] })).rejects.toThrow(
      /lr_scheduler_callback.*onFitBegin.*multiple optimizers \(weight, bias\)\. Pass 'optName'/,
    );
    await expect(fit(twoOptimizerModule(), [x, y], { ...base, epochs: 1, callbacks: [luzCallbackLrScheduler(lrStep({ stepSize: 1 }), { optName: 'gen' })] })).rejects.toThrow(
      /optName 'gen' not found in ctx.optimizers \(available: weight, bias\)/,
    );
  });

  it("steps per batch with callOn: 'onTrainBatchEnd' (one-cycle lr and momentum)", async () => {
    // Reference: the same schedule stepped by hand (its numbers are checked against PyTorch in schedules.test.ts).
    const ref = tf.train.momentum(0.1, 0.9);
    const sched = lrOneCycle({ maxLr: 0.1, totalSteps: 8 })(ref);
    const expected = [[getLearningRate(ref), getMomentum(ref)]];
    for (let i = 1; i < 8; i++) {
      sched.step();
      expected.push([getLearningRate(ref), getMomentum(ref)]);
    }
    ref.dispose();
    const seen: number[][] = [];
    const probe = luzCallback({ name: 'probe', onTrainBatchBegin(ctx: LuzContext) { seen.push([getLearningRate(ctx.opt), getMomentum(ctx.opt) as number]); } })();
    const fitted = await fit(linear(0.1, (l) => tf.train.momentum(l, 0.9)), [x, y], {
      ...base,
      epochs: 2,
      callbacks: [luzCallbackLrScheduler(lrOneCycle({ maxLr: 0.1, totalSteps: 8 }), { callOn: 'onTrainBatchEnd' }), probe],
    });
    expect(seen).toEqual(expected);
    expect(seen[0][0]).toBeCloseTo(0.1 / 25, 12);
    // records.lr: the rate of each epoch's last step.
    expect(fitted.records.lr?.opt).toEqual([expected[3][0], expected[7][0]]);
    fitted.model.dispose?.();
  });

  it('restores scheduler progress from stateDict (before or after its own onFitBegin), without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const first = luzCallbackLrScheduler(lrStep({ stepSize: 1, gamma: 0.1 }));
    const f1 = await fit(linear(0.1), [x, y], { ...base, epochs: 3, callbacks: [first] });
    expect((f1.records.lr?.opt as number[]).map((v) => Number(v.toPrecision(6)))).toEqual([0.1, 0.01, 0.001]);
    f1.model.dispose?.();
    const state = JSON.parse(JSON.stringify(first.stateDict!()));

    // Restored before fit (pending until the scheduler exists).
    const resumed = luzCallbackLrScheduler(lrStep({ stepSize: 1, gamma: 0.1 }));
    resumed.loadStateDict!(state);
    const f2 = await fit(linear(0.1), [x, y], { ...base, epochs: 2, callbacks: [resumed] });
    expect((f2.records.lr?.opt as number[]).map((v) => Number(v.toPrecision(6)))).toEqual([1e-4, 1e-5]);
    f2.model.dispose?.();

    // Restored by a later callback's onFitBegin, as auto-resume does (weight Infinity).
    const late = luzCallbackLrScheduler(lrStep({ stepSize: 1, gamma: 0.1 }));
    const restorer = luzCallback({ name: 'restorer', weight: Infinity, onFitBegin() { late.loadStateDict!(state); } })();
    const f3 = await fit(linear(0.1), [x, y], { ...base, epochs: 2, callbacks: [late, restorer] });
    expect((f3.records.lr?.opt as number[]).map((v) => Number(v.toPrecision(6)))).toEqual([1e-4, 1e-5]);
    f3.model.dispose?.();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads the monitored value of a named optimizer, or a suffixed monitor', () => {
    const ctx = {
      validData: {},
      getMetrics: (set: string) => (set === 'valid' ? { loss: { gen: 1.5, disc: 2.5 }, mae: 0.3 } : undefined),
    } as unknown as LuzContext;
    expect(monitoredValue(ctx, 'valid_loss', 'gen')).toBe(1.5);
    expect(monitoredValue(ctx, 'valid_loss_disc', 'gen')).toBe(2.5);
    expect(monitoredValue(ctx, 'valid_mae', 'gen')).toBe(0.3);
    expect(() => monitoredValue(ctx, 'valid_acc', 'gen')).toThrow(/'valid_acc' was not found in the valid metrics.*available: loss, mae/);
  });

  it('validates its arguments', () => {
    expect(() => luzCallbackLrScheduler(undefined as never)).toThrow(/'schedule' must be a schedule/);
    expect(() => luzCallbackLrScheduler(lrStep({ stepSize: 1 }), { callOn: 'epoch_end' })).toThrow(/'callOn' must be an event name.*got "epoch_end"/);
    expect(() => luzCallbackLrScheduler(lrStep({ stepSize: 1 }), { optName: 3 as never })).toThrow(/'optName' must be a non-empty string, got 3/);
    expect(() => luzCallbackLrScheduler(lrStep({ stepSize: 1 }), { call_on: 'onEpochEnd' } as never)).toThrow(/unknown option 'call_on'/);
  });
});
