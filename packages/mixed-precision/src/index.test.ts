import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accelerator, fit, luzCallback, setup, type LuzCallback } from '@luzts/core';
import { luzCallbackMixedPrecision, updateScale } from './index.js';

const opts = { accelerator: accelerator({ backend: 'cpu' }), verbose: false, dataloaderOptions: { batchSize: 16 }, seed: 7 };
const x = tf.randomNormal([64, 4], 0, 1, 'float32', 11);
const y = tf.add(tf.matMul(x, tf.tensor2d([[1], [-2], [0.5], [3]])), tf.randomNormal([64, 1], 0, 0.1, 'float32', 12));
const data: [tf.Tensor, tf.Tensor] = [x, y];

/** A linear model with fixed initial weights (so two runs see identical batches and weights). */
function linear(poison: { on: boolean } = { on: false }, lr = 0.05) {
  return setup(
    () => {
      const w = tf.variable(tf.tensor2d([[0.1], [0.2], [-0.1], [0]]));
      const b = tf.variable(tf.zeros([1]));
      return {
        forward: (input: tf.Tensor) => tf.add(tf.matMul(input as tf.Tensor2D, w), b),
        trainableVariables: () => [w, b],
        getWeights: () => [w, b],
        setWeights: ([a, c]: tf.Tensor[]) => { w.assign(a as tf.Tensor2D); b.assign(c as tf.Tensor1D); },
        weightNames: () => ['w', 'b'],
        dispose: () => { w.dispose(); b.dispose(); },
      };
    },
    {
      // A poisoned batch has an infinite loss, so inf/NaN gradients.
      loss: (p, t) => { const l = tf.losses.meanSquaredError(t, p); return poison.on ? tf.mul(l, Infinity) : l; },
      optimizer: () => tf.train.sgd(lr),
    },
  );
}

/** Records the gradients at onTrainBatchBeforeStep, at a given weight (before or after the scaler's -10). */
function gradRecorder(out: number[][][], weight: number): LuzCallback {
  return luzCallback({ name: `grads_${weight}`, weight, onTrainBatchBeforeStep(ctx) { out.push(Object.values(ctx.grads!).map((g) => Array.from(g.dataSync()))); } })();
}
/** Records weights before and after every step, and the scaler state after it. */
function stepRecorder(mp: LuzCallback, out: Array<{ before: number[]; after: number[]; scale: number; tracker: number }>): LuzCallback {
  let before: number[] = [];
  const weights = (ctx: any) => ctx.model.getWeights().flatMap((w: tf.Tensor) => Array.from(w.dataSync()));
  return luzCallback({
    name: 'steps',
    onTrainBatchBegin(ctx) { before = weights(ctx); },
    onTrainBatchEnd(ctx) {
      const s = mp.stateDict!() as { scale: number; growthTracker: number };
      out.push({ before, after: weights(ctx), scale: s.scale, tracker: s.growthTracker });
    },
  })();
}

afterEach(() => vi.restoreAllMocks());

describe('luzCallbackMixedPrecision', () => {
  it('warns once per process that compute stays float32, replaces ctx.stepOpt and keeps float32 tensors (test-callbacks-amp.R)', async () => {
    delete (globalThis as Record<symbol, unknown>)[Symbol.for('luzts.mixedPrecision.float32Warning')];
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const seen: { before?: unknown; after?: unknown; dtypes: string[] } = { dtypes: [] };
    const probeBefore = luzCallback({ name: 'b', weight: -100, onFitBegin(ctx) { seen.before = ctx.stepOpt; } });
    const probeAfter = luzCallback({
      name: 'a',
      onFitBegin(ctx) { seen.after = ctx.stepOpt; },
      onTrainBatchBeforeBackward(ctx) { if (ctx.iter === 1) seen.dtypes.push(ctx.pred.dtype, ctx.lossGrad!.dtype); },
    });
    await fit(linear(), data, { ...opts, epochs: 1, callbacks: [luzCallbackMixedPrecision(), probeBefore(), probeAfter()] });
    await fit(linear(), data, { ...opts, epochs: 1, callbacks: [luzCallbackMixedPrecision()] });
    const messages = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('float16'));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/compute stays float32 on the 'cpu' backend/);
    expect(typeof seen.after).toBe('function');
    expect(seen.after).not.toBe(seen.before);
    expect(seen.dtypes).toEqual(['float32', 'float32']);
  });

  it('multiplies the backward loss by the scale and divides the gradients by it before other callbacks see them', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const ref: number[][][] = [];
    await fit(linear(), data, { ...opts, epochs: 2, callbacks: [gradRecorder(ref, 0)] });
    const raw: number[][][] = [];
    const unscaled: number[][][] = [];
    await fit(linear(), data, { ...opts, epochs: 2, callbacks: [luzCallbackMixedPrecision(), gradRecorder(raw, -100), gradRecorder(unscaled, 0)] });
    expect(ref).toHaveLength(8);
    // Power-of-two scaling is exact in float32: raw = 65536 · g, unscaled = g, bit for bit.
    expect(raw).toEqual(ref.map((gs) => gs.map((g) => g.map((v) => v * 65536))));
    expect(unscaled).toEqual(ref);
  });

  it('trains like without it: same final losses on a small regression', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const plain = await fit(linear(), data, { ...opts, epochs: 15 });
    const amp = await fit(linear(), data, { ...opts, epochs: 15, callbacks: [luzCallbackMixedPrecision({ growthInterval: 5 })] });
    const loss = (f: typeof plain) => f.records.metrics.train.map((m) => m.loss as number);
    expect(loss(plain).at(-1)!).toBeLessThan(0.05 * loss(plain)[0]);
    for (const [a, b] of loss(amp).map((v, i) => [v, loss(plain)[i]])) expect(a).toBeCloseTo(b, 6);
    // 60 finite steps with growthInterval 5: the scale doubled 12 times (65536 · 2^12), recorded per epoch.
    expect(amp.records.amp?.scale).toEqual(Array.from({ length: 15 }, (_, i) => 65536 * 2 ** (((i + 1) * 4 - (((i + 1) * 4) % 5)) / 5)));
    expect(amp.records.amp?.scale.at(-1)).toBe(65536 * 2 ** 12);
    expect(amp.records.amp?.skipped).toEqual(Array(15).fill(0));
  });

  it('skips the step on an infinite loss (weights unchanged), halves the scale and resets the growth tracker', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const poison = { on: false };
    const mp = luzCallbackMixedPrecision({ initScale: 1024, growthInterval: 1000 });
    const steps: Array<{ before: number[]; after: number[]; scale: number; tracker: number }> = [];
    const poisoner = luzCallback({ name: 'poison', onTrainBatchBegin(ctx) { poison.on = ctx.epoch === 1 && ctx.iter === 3; } });
    const fitted = await fit(linear(poison), data, { ...opts, epochs: 2, callbacks: [mp, poisoner(), stepRecorder(mp, steps)] });
    expect(steps).toHaveLength(8);
    // Step 3 is skipped: the weights did not move; the others moved.
    expect(steps[2].after).toEqual(steps[2].before);
    for (const i of [0, 1, 3, 4, 5, 6, 7]) expect(steps[i].after).not.toEqual(steps[i].before);
    // torch's _amp_update_scale_: tracker 1, 2, then backoff 1024 → 512 and reset, then counting again.
    expect(steps.map((s) => s.scale)).toEqual([1024, 1024, 512, 512, 512, 512, 512, 512]);
    expect(steps.map((s) => s.tracker)).toEqual([1, 2, 0, 1, 2, 3, 4, 5]);
    expect(fitted.records.amp).toEqual({ scale: [512, 512], skipped: [1, 0] });
    expect(mp.stateDict!()).toEqual({ scale: 512, growthTracker: 5, skippedSteps: 1 });
  });

  it('grows the scale after growthInterval consecutive finite steps, and backs off on injected inf gradients', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    // Inject +Infinity into a gradient at step 4, before the scaler's onTrainBatchBeforeStep (weight -10).
    const inject = luzCallback({
      name: 'inject', weight: -100,
      onTrainBatchBeforeStep(ctx) {
        if (ctx.epoch === 1 && ctx.iter === 4) { const [k] = Object.keys(ctx.grads!); ctx.grads![k] = tf.fill(ctx.grads![k].shape, Infinity); }
      },
    });
    const mp = luzCallbackMixedPrecision({ initScale: 8, growthInterval: 3 });
    const steps: Array<{ before: number[]; after: number[]; scale: number; tracker: number }> = [];
    await fit(linear(), data, { ...opts, epochs: 2, callbacks: [mp, inject(), stepRecorder(mp, steps)] });
    // By hand: finite steps 1-3 → 16 at step 3; inf at 4 → 8; finite 5, 6, 7 → 16 at step 7; step 8 counts 1.
    expect(steps.map((s) => s.scale)).toEqual([8, 8, 16, 8, 8, 8, 16, 16]);
    expect(steps[3].after).toEqual(steps[3].before);
    // Without injection: 8 → 16 (step 3) → 32 (step 6).
    const mp2 = luzCallbackMixedPrecision({ initScale: 8, growthInterval: 3 });
    const steps2: typeof steps = [];
    await fit(linear(), data, { ...opts, epochs: 2, callbacks: [mp2, stepRecorder(mp2, steps2)] });
    expect(steps2.map((s) => s.scale)).toEqual([8, 8, 16, 16, 16, 32, 32, 32]);
  });

  it('implements torch _amp_update_scale_ (float32 scale, growth kept only when finite)', () => {
    const o = { initScale: 1, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2 };
    expect(updateScale({ scale: 4, growthTracker: 1 }, true, o)).toEqual({ scale: 2, growthTracker: 0 });
    expect(updateScale({ scale: 4, growthTracker: 0 }, false, o)).toEqual({ scale: 4, growthTracker: 1 });
    expect(updateScale({ scale: 4, growthTracker: 1 }, false, o)).toEqual({ scale: 8, growthTracker: 0 });
    // 2^127 · 2 overflows float32: the scale stays, the tracker still resets.
    expect(updateScale({ scale: 2 ** 127, growthTracker: 1 }, false, o)).toEqual({ scale: 2 ** 127, growthTracker: 0 });
    // A factor of 0.3 is applied in float32 arithmetic.
    expect(updateScale({ scale: 1, growthTracker: 0 }, true, { ...o, backoffFactor: 0.3 }).scale).toBe(Math.fround(0.3));
  });

  it('saves and restores its state (checkpoints): a resumed fit starts from the saved scale', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const mp = luzCallbackMixedPrecision({ initScale: 4, growthInterval: 3 });
    await fit(linear(), data, { ...opts, epochs: 1, callbacks: [mp] });
    const state = structuredClone(mp.stateDict!());
    expect(state).toEqual({ scale: 8, growthTracker: 1, skippedSteps: 0 });
    const resumed = luzCallbackMixedPrecision({ initScale: 4, growthInterval: 3 });
    resumed.loadStateDict!(state);
    const raw: number[][][] = [];
    const ref: number[][][] = [];
    await fit(linear(), data, { ...opts, epochs: 1, callbacks: [resumed, gradRecorder(raw, -100)] });
    await fit(linear(), data, { ...opts, epochs: 1, callbacks: [gradRecorder(ref, 0)] });
    // First step scaled by the restored 8; after two more finite steps the tracker reaches 3 → 16.
    expect(raw[0]).toEqual(ref[0].map((g) => g.map((v) => v * 8)));
    expect(raw[2]).toEqual(ref[2].map((g) => g.map((v) => v * 16)));
    expect(() => resumed.loadStateDict!({ scale: -1 })).toThrow(/loadStateDict\(\) expects/);
  });

  it('does nothing when enabled is false', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    delete (globalThis as Record<symbol, unknown>)[Symbol.for('luzts.mixedPrecision.float32Warning')];
    const ref: number[][][] = [];
    const raw: number[][][] = [];
    await fit(linear(), data, { ...opts, epochs: 1, callbacks: [gradRecorder(ref, 0)] });
    const fitted = await fit(linear(), data, { ...opts, epochs: 1, callbacks: [luzCallbackMixedPrecision({ enabled: false }), gradRecorder(raw, -100)] });
    expect(raw).toEqual(ref);
    expect(fitted.records.amp).toBeUndefined();
    expect(warn).not.toHaveBeenCalled();
  });

  it('validates its options', () => {
    expect(() => luzCallbackMixedPrecision({ growthFactor: 1 })).toThrow(/'growthFactor' must be a finite number > 1, got 1/);
    expect(() => luzCallbackMixedPrecision({ backoffFactor: 1 })).toThrow(/'backoffFactor' must be a number in \(0, 1\)/);
    expect(() => luzCallbackMixedPrecision({ growthInterval: 1.5 })).toThrow(/'growthInterval' must be a positive integer, got 1.5/);
    expect(() => luzCallbackMixedPrecision({ initScale: 0 })).toThrow(/'initScale'/);
    expect(() => luzCallbackMixedPrecision({ init_scale: 2 } as never)).toThrow(/unknown option 'init_scale'/);
  });

  it('does not leak tensors', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const counts: number[] = [];
    const probe = luzCallback({ name: 'probe', weight: Infinity, onEpochEnd() { counts.push(tf.memory().numTensors); } });
    const poison = { on: false };
    const poisoner = luzCallback({ name: 'poison', onTrainBatchBegin(ctx) { poison.on = ctx.iter === 2; } });
    await fit(linear(poison), data, { ...opts, epochs: 4, validData: 0.25, callbacks: [luzCallbackMixedPrecision(), poisoner(), probe()] });
    expect(counts[3]).toBe(counts[0]);
  });
});
