import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { accelerator, encodeCheckpoint, fit, restoreCheckpoint, interruptTraining, luzCallback, setup, stopTraining, type LuzCallback, type LuzContext } from '@luzts/core';
import { getLearningRate, luzCallbackLrScheduler, lrStep } from '@luzts/lr-scheduler';
import { luzCallbackKeepBestModel } from './index.js';

/**
 * luz's keep-best test model: a single parameter starting at 100; the prediction is that
 * parameter and the loss is the prediction's mean, so Adam (lr 1) lowers it by about 1 per step
 * and the training loss decreases every epoch.
 */
const module = () =>
  setup(
    () => {
      const w = tf.variable(tf.scalar(100));
      return {
        forward: (x: tf.Tensor) => tf.mul(w, tf.onesLike(x)),
        trainableVariables: () => [w],
        getWeights: () => [w],
        setWeights: ([v]: tf.Tensor[]) => w.assign(v as tf.Scalar),
      };
    },
    { loss: (pred: tf.Tensor) => tf.mean(pred), optimizer: () => tf.train.adam(1) },
  );
const data = (): [tf.Tensor, tf.Tensor] => [tf.ones([40, 1]), tf.zeros([40, 1])];
const run = (epochs: number, callbacks: LuzCallback[]) =>
  fit(module(), data(), { epochs, callbacks, verbose: false, accelerator: accelerator({ backend: 'cpu' }), dataloaderOptions: { batchSize: 10 } });

/** Records the parameter and the optimizer's iteration count at every epoch end. */
function tracker() {
  const w: number[] = [];
  const iterations: number[] = [];
  const cb = luzCallback({ name: 'tracker', onEpochEnd(ctx: LuzContext) { w.push(ctx.model.getWeights()[0].dataSync()[0]); iterations.push(ctx.optimizers.opt.iterations); } });
  return { cb: cb(), w, iterations };
}
const finalW = (f: { model: { getWeights(): tf.Tensor[] } }) => f.model.getWeights()[0].dataSync()[0];

describe('port of luz test-callbacks-monitor-metrics.R (keep best model)', () => {
  it("monitor train_loss, mode max on a decreasing parameter: the epoch-1 weight is restored (> 90)", async () => {
    const t = tracker();
    const fitted = await run(5, [luzCallbackKeepBestModel({ monitor: 'train_loss', mode: 'max' }), t.cb]);
    expect(t.w[4]).toBeLessThan(85); // 20 Adam steps of about 1 each
    expect(finalW(fitted)).toBeGreaterThan(90);
    expect(finalW(fitted)).toBe(t.w[0]);
  });
});

/** A callback with a restorable state (a counter and a tensor) that changes every epoch. */
const counter = luzCallback({
  name: 'counter',
  initialize() {
    this.epochs = 0;
    this.total = tf.keep(tf.scalar(0));
  },
  onEpochEnd() {
    this.epochs += 1;
    const next = tf.keep(tf.add(this.total as tf.Tensor, 10));
    (this.total as tf.Tensor).dispose();
    this.total = next;
  },
  stateDict() {
    return { epochs: this.epochs, total: this.total, history: [this.epochs] };
  },
  loadStateDict(state: { epochs: number; total: tf.Tensor }) {
    (this.total as tf.Tensor).dispose();
    this.epochs = state.epochs;
    this.total = state.total;
  },
});

describe('luzCallbackKeepBestModel: callback states (luz restores them too)', () => {
  it("rolls back other callbacks' states to the best epoch; records are kept", async () => {
    const c = counter();
    const t = tracker();
    const fitted = await run(4, [c, luzCallbackKeepBestModel({ monitor: 'train_loss', mode: 'max' }), t.cb]);
    // The counter ran before keep-best at each epoch end: its state at epoch 1 is 1 epoch, total 10.
    expect(c.epochs).toBe(1);
    expect((c.total as tf.Tensor).dataSync()[0]).toBe(10);
    expect(finalW(fitted)).toBe(t.w[0]);
    expect(fitted.records.metrics.train).toHaveLength(4);
    (c.total as tf.Tensor).dispose();
  });

  it('restores the learning-rate scheduler (and so the learning rate) of the best epoch', async () => {
    const lrs: number[] = [];
    const probe = luzCallback({ name: 'probe', weight: 1, onEpochEnd(ctx: LuzContext) { lrs.push(getLearningRate(ctx.optimizers.opt)); } });
    let lrAtEnd = -1;
    const end = luzCallback({ name: 'end', weight: Infinity, onFitEnd(ctx: LuzContext) { lrAtEnd = getLearningRate(ctx.optimizers.opt); } });
    await run(4, [luzCallbackLrScheduler(lrStep({ stepSize: 1, gamma: 0.5 })), luzCallbackKeepBestModel({ monitor: 'train_loss', mode: 'max' }), probe(), end()]);
    expect(lrs).toEqual([0.5, 0.25, 0.125, 0.0625]);
    expect(lrAtEnd).toBe(0.5);
  });

  it('the rolled-back states survive a checkpoint round trip (auto-resume)', async () => {
    let bytes: Uint8Array | undefined;
    const saver = luzCallback({ name: 'saver', weight: Infinity, async onEpochEnd(ctx: LuzContext) { if (ctx.epoch === 2) bytes = await encodeCheckpoint(ctx); } });
    const first = counter();
    await run(2, [first, luzCallbackKeepBestModel({ monitor: 'train_loss', mode: 'max' }), saver()]);
    (first.total as tf.Tensor).dispose();
    // A new run restores that checkpoint; none of its epochs beats epoch 1 of the first run.
    const resumer = luzCallback({ name: 'resumer', onFitBegin(ctx: LuzContext) { restoreCheckpoint(ctx, bytes!, { restoreRecords: false }); } });
    const second = counter();
    await run(2, [second, luzCallbackKeepBestModel({ monitor: 'train_loss', mode: 'max' }), resumer()]);
    expect(second.epochs).toBe(1);
    expect((second.total as tf.Tensor).dataSync()[0]).toBe(10);
    (second.total as tf.Tensor).dispose();
  });

  it('frees the copied states: no tensor left after fit', async () => {
    const leftAfter = async (callbacks: LuzCallback[]) => {
      const before = tf.memory().numTensors;
      const fitted = await run(4, callbacks);
      fitted.model.dispose?.();
      return tf.memory().numTensors - before;
    };
    const withoutCallbacks = await leftAfter([]);
    const c = counter(); // holds one tensor throughout (replaced each epoch and on restore)
    expect(await leftAfter([c, luzCallbackKeepBestModel({ monitor: 'train_loss' })])).toBe(withoutCallbacks);
    (c.total as tf.Tensor).dispose();
  });
});

describe('luzCallbackKeepBestModel: beyond luz', () => {
  it('mode min keeps the last (best) epoch: the model is unchanged', async () => {
    const t = tracker();
    const fitted = await run(3, [luzCallbackKeepBestModel({ monitor: 'train_loss' }), t.cb]);
    expect(finalW(fitted)).toBe(t.w[2]);
  });

  it('restores after early stopping and after an interrupt, with the optimizer state of the best epoch', async () => {
    const t = tracker();
    const stopAt3 = luzCallback({ name: 'stop', weight: Infinity, onEpochEnd(ctx: LuzContext) { if (ctx.epoch === 3) stopTraining('onEarlyStopping'); } });
    let iterationsAtEnd = -1;
    const probe = luzCallback({ name: 'probe', weight: 1, onFitEnd(ctx: LuzContext) { iterationsAtEnd = ctx.optimizers.opt.iterations; } });
    const fitted = await run(10, [luzCallbackKeepBestModel({ monitor: 'train_loss', mode: 'max' }), t.cb, stopAt3(), probe()]);
    expect(t.w).toHaveLength(3);
    expect(finalW(fitted)).toBe(t.w[0]);
    expect(iterationsAtEnd).toBe(t.iterations[0]); // 4 steps: Adam's state of epoch 1

    const u = tracker();
    const interrupt = luzCallback({ name: 'interrupt', onEpochBegin(ctx: LuzContext) { if (ctx.epoch === 3) interruptTraining(); } });
    const again = await run(10, [luzCallbackKeepBestModel({ monitor: 'train_loss', mode: 'max' }), u.cb, interrupt()]);
    expect(u.w).toHaveLength(2);
    expect(finalW(again)).toBe(u.w[0]);
  });

  it('frees its copies: no tensor growth across epochs, nothing left after fit', async () => {
    const counts: number[] = [];
    const probe = luzCallback({ name: 'probe', weight: Infinity, onEpochEnd() { counts.push(tf.memory().numTensors); } });
    const [x, y] = data();
    const leftAfter = async (callbacks: LuzCallback[]) => {
      const before = tf.memory().numTensors;
      const fitted = await fit(module(), [x, y], { epochs: 4, verbose: false, accelerator: accelerator({ backend: 'cpu' }), dataloaderOptions: { batchSize: 10 }, callbacks });
      const left = tf.memory().numTensors - before;
      fitted.model.dispose?.();
      return left;
    };
    // mode min: a new best (a new copy) every epoch.
    const withCallback = await leftAfter([luzCallbackKeepBestModel({ monitor: 'train_loss' }), probe()]);
    expect(counts[3]).toBe(counts[0]);
    // The same as without the callback (the model's parameter and its initial value).
    expect(withCallback).toBe(await leftAfter([]));
  });

  it('stateDict carries the best weights; loadStateDict adopts them (resume)', async () => {
    const kb = luzCallbackKeepBestModel({ monitor: 'train_loss', mode: 'max' });
    kb.loadStateDict!({ currentBest: 1000, bestEpoch: 1, snapshot: { epoch: 1, weights: [tf.keep(tf.scalar(123))], optimizers: {} } });
    const fitted = await run(2, [kb]);
    // No epoch beats 1000: the loaded weight is restored.
    expect(finalW(fitted)).toBe(123);
    expect(() => luzCallbackKeepBestModel({ monitr: 'x' } as never)).toThrow(/unknown option 'monitr'/);
  });
});
