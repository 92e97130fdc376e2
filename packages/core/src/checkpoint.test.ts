import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  decodeCheckpoint,
  deserializeFitted,
  encodeCheckpoint,
  fit,
  luzCallback,
  predict,
  readOptimizerState,
  restoreCheckpoint,
  restoreModelWeights,
  restoreOptimizerState,
  serializeFitted,
  serializeModelWeights,
  setup,
  type LuzContext,
} from './index.js';
import { cpu } from './test-utils/helpers.js';

const base = { accelerator: cpu(), verbose: false, dataloaderOptions: { batchSize: 10 } };

/** Deterministic data: x[i, j] = sin(i * 3 + j), y = x · [1, -2, 0.5] + 0.3 cos(i). */
function data(n = 40): [tf.Tensor, tf.Tensor] {
  const x = Array.from({ length: n }, (_, i) => [0, 1, 2].map((j) => Math.sin(i * 3 + j)));
  const y = x.map((r, i) => [r[0] - 2 * r[1] + 0.5 * r[2] + 0.3 * Math.cos(i)]);
  return [tf.tensor2d(x), tf.tensor2d(y)];
}

/** A small layers model with seeded initialisers, trained by Adam. */
function mlp(units = 4, lr = 0.05) {
  return setup(
    () => tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    }),
    { loss: (p, t) => tf.losses.meanSquaredError(t, p), optimizer: () => tf.train.adam(lr) },
  );
}

const weightsOf = (model: { getWeights(): tf.Tensor[] }) => model.getWeights().map((w) => Array.from(w.dataSync()));

describe('checkpoints (encodeCheckpoint / restoreCheckpoint)', () => {
  it('a run restored from its epoch-2 checkpoint continues bit for bit like the uninterrupted run (Adam state, RNG, records)', async () => {
    const [x, y] = data();
    let saved: Uint8Array | undefined;
    const saver = luzCallback({ name: 'saver', weight: Infinity, async onEpochEnd(ctx: LuzContext) { if (ctx.epoch === 2) saved = await encodeCheckpoint(ctx); } });
    const full = await fit(mlp(), [x, y], { ...base, epochs: 4, seed: 7, validData: 0.25, callbacks: [saver()] });

    const resume = luzCallback({
      name: 'resume',
      onFitBegin(ctx: LuzContext) {
        const state = restoreCheckpoint(ctx, saved!);
        ctx.startEpoch = state.epoch + 1;
      },
    });
    // A different seed: the RNG state comes from the checkpoint; the split is seeded by `seed` only before onFitBegin, so keep it.
    const resumed = await fit(mlp(), [x, y], { ...base, epochs: 4, seed: 7, validData: 0.25, callbacks: [resume()] });
    expect(weightsOf(resumed.model)).toEqual(weightsOf(full.model));
    expect(resumed.records.metrics).toEqual(full.records.metrics);
    // The checkpointed epochs' profile entries come from the checkpoint: 2 + 2 epochs.
    expect(resumed.records.profile?.epoch).toHaveLength(4);
  });

  it('stores model weights by structural name, every optimizer slot, records, callback states, epoch and RNG state', async () => {
    const [x, y] = data();
    let bytes: Uint8Array | undefined;
    let rngAtSave: number[] = [];
    const counter = luzCallback({
      name: 'counter',
      initialize() { this.n = 0; },
      onTrainBatchEnd() { this.n += 1; },
      stateDict() { return { n: this.n, t: tf.tensor1d([this.n, NaN]) }; },
      loadStateDict(s: { n: number }) { this.n = s.n; },
      async onEpochEnd(ctx: LuzContext) { rngAtSave = ctx.rng.getState(); bytes = await encodeCheckpoint(ctx); },
    });
    await fit(mlp(), [x, y], { ...base, epochs: 1, seed: 3, callbacks: [counter()] });
    const c = decodeCheckpoint(bytes!);
    expect(c.epoch).toBe(1);
    expect(c.model.names).toEqual(['0.kernel', '0.bias', '1.kernel', '1.bias']);
    expect(c.model.weights.map((w) => w.shape)).toEqual([[3, 4], [4], [4, 1], [1]]);
    const adam = c.optimizers.opt;
    expect(adam.className).toBe('Adam');
    expect(adam.iterations).toBe(4); // 40 rows / batch 10, one epoch
    const fields = adam.slots.map((s) => `${s.field}${s.index ?? ''}`);
    expect(fields).toEqual(['accumulatedFirstMoment0', 'accumulatedFirstMoment1', 'accumulatedFirstMoment2', 'accumulatedFirstMoment3', 'accumulatedSecondMoment0', 'accumulatedSecondMoment1', 'accumulatedSecondMoment2', 'accumulatedSecondMoment3', 'accBeta1', 'accBeta2']);
    // accBeta1 = 0.9^(steps + 1) (tfjs starts it at beta1).
    expect(adam.slots.find((s) => s.field === 'accBeta1')!.tensor.values[0]).toBeCloseTo(0.9 ** 5, 6);
    const cb = c.callbacks.find((s) => s.name === 'counter')!;
    expect((cb.state as { n: number }).n).toBe(4);
    expect(Array.from(((cb.state as { t: { values: Float32Array } }).t.values))).toEqual([4, NaN]);
    expect(c.rng).toEqual(rngAtSave);
    expect(Object.keys(c.records.metrics.train[0])).toEqual(['loss']);
  });

  it('restores a fresh optimizer that has no slots yet, and replaces (disposes) existing slots', async () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const opt = tf.train.adam(0.1);
    for (let i = 0; i < 3; i++) opt.minimize(() => v.square().sum() as tf.Scalar, false, [v]);
    const state = readOptimizerState(opt);
    const snapshot = state.slots.map((s) => Array.from(s.tensor.dataSync()));

    const fresh = tf.train.adam(0.1);
    restoreOptimizerState(fresh, state, (t) => t);
    expect(readOptimizerState(fresh).slots.map((s) => Array.from(s.tensor.dataSync()))).toEqual(snapshot);
    expect(fresh.iterations).toBe(3);

    // Both continue identically.
    const w = tf.variable(v.clone());
    opt.minimize(() => v.square().sum() as tf.Scalar, false, [v]);
    fresh.minimize(() => w.square().sum() as tf.Scalar, false, [w]);
    expect(Array.from(w.dataSync())).toEqual(Array.from(v.dataSync()));

    const before = tf.memory().numTensors;
    restoreOptimizerState(fresh, state, (t) => t);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([v, w]);
    opt.dispose();
    fresh.dispose();
  });

  it("keeps Adam's running beta products exactly, which tfjs's getWeights/setWeights would recompute with pow (and drift)", async () => {
    const v = tf.variable(tf.tensor1d([1, -2]));
    const opt = tf.train.adam(0.1);
    for (let i = 0; i < 8; i++) opt.minimize(() => v.square().sum() as tf.Scalar, false, [v]);
    const running = (readOptimizerState(opt).slots.find((s) => s.field === 'accBeta1')!.tensor as tf.Tensor).dataSync()[0];
    const viaTfjs = tf.train.adam(0.1);
    await viaTfjs.setWeights(await opt.getWeights());
    const recomputed = (readOptimizerState(viaTfjs).slots.find((s) => s.field === 'accBeta1')!.tensor as tf.Tensor).dataSync()[0];
    const ours = tf.train.adam(0.1);
    restoreOptimizerState(ours, readOptimizerState(opt), (t) => t);
    const restored = (readOptimizerState(ours).slots.find((s) => s.field === 'accBeta1')!.tensor as tf.Tensor).dataSync()[0];
    // float32: 0.9 multiplied 9 times (the running product) is not float32(pow(0.9, 9)).
    expect(restored).toBe(running);
    expect(recomputed).not.toBe(running);
    expect(recomputed).toBeCloseTo(running, 6);
    [opt, viaTfjs, ours].forEach((o) => o.dispose());
    v.dispose();
  });

  it('a checkpoint of another model is an error naming the first mismatching weight, and changes nothing', async () => {
    const [x, y] = data();
    let bytes: Uint8Array | undefined;
    const saver = luzCallback({ name: 'saver', async onEpochEnd(ctx: LuzContext) { bytes = await encodeCheckpoint(ctx); } });
    await fit(mlp(4), [x, y], { ...base, epochs: 1, callbacks: [saver()] });
    const other = await fit(mlp(5), [x, y], { ...base, epochs: 1 });
    const before = weightsOf(other.model);
    expect(() => restoreCheckpoint(other, bytes!)).toThrow(/weight 1 is '0\.kernel' \[3, 4\] \(float32\) in the checkpoint but '0\.kernel' \[3, 5\]/);
    expect(weightsOf(other.model)).toEqual(before);
    let error: unknown;
    const loader = luzCallback({ name: 'loader', onFitBegin(ctx: LuzContext) { try { restoreCheckpoint(ctx, bytes!); } catch (e) { error = e; } } });
    await fit(mlp(5), [x, y], { ...base, epochs: 1, callbacks: [loader()] });
    expect(String(error)).toMatch(/does not match the model/);
  });

  it('restore options: records, optimizer and callback states are each optional', async () => {
    const [x, y] = data();
    let bytes: Uint8Array | undefined;
    const saver = luzCallback({ name: 'saver', async onEpochEnd(ctx: LuzContext) { bytes = await encodeCheckpoint(ctx); } });
    const first = await fit(mlp(), [x, y], { ...base, epochs: 2, callbacks: [saver()] });
    let seen: { records: number; iterations: number } | undefined;
    const probe = luzCallback({
      name: 'probe',
      onFitBegin(ctx: LuzContext) {
        restoreCheckpoint(ctx, bytes!, { restoreRecords: false, restoreOptimizerState: false });
        seen = { records: ctx.records.metrics.train.length, iterations: ctx.optimizers.opt.iterations };
      },
      onEpochBegin(ctx: LuzContext) { if (ctx.epoch === 1) this.w = weightsOf(ctx.model); },
    });
    const p = probe();
    await fit(mlp(), [x, y], { ...base, epochs: 1, callbacks: [p] });
    expect(seen).toEqual({ records: 0, iterations: 0 });
    expect(p.w).toEqual(weightsOf(first.model));
    expect(() => restoreCheckpoint(first, bytes!, { restoreModel: true } as never)).toThrow(/unknown option 'restoreModel'/);
  });
});

describe('port of luz test-serialization.R', () => {
  it('luz_save -> luz_load reproduces predictions (layers model, rebuilt from its topology)', async () => {
    const [x, y] = data();
    const fitted = await fit(mlp(), [x, y], { ...base, epochs: 2 });
    const expected = (await predict(fitted, x, { verbose: false, accelerator: cpu() })) as tf.Tensor;
    const loaded = await deserializeFitted(await serializeFitted(fitted));
    const got = (await predict(loaded, x, { verbose: false, accelerator: cpu() })) as tf.Tensor;
    expect(Array.from(got.dataSync())).toEqual(Array.from(expected.dataSync()));
    expect(loaded.records).toEqual(fitted.records);
    expect(String(loaded)).toContain('Total time:');
  });

  it('a model whose forward depends on the training flag predicts zeros before and after save/load (custom model + generator)', async () => {
    const module = setup(
      ({ size = 3 }) => {
        const w = tf.variable(tf.ones([size as number, 1]));
        return {
          forward: (input: tf.Tensor, { training }: { training: boolean }) => (training ? tf.matMul(input as tf.Tensor2D, w) : tf.zeros([input.shape[0], 1])),
          trainableVariables: () => [w],
          getWeights: () => [w],
          setWeights: ([v]: tf.Tensor[]) => w.assign(v),
          weightNames: () => ['linear.weight'],
        };
      },
      { loss: (p, t) => tf.losses.meanSquaredError(t, p), optimizer: () => tf.train.sgd(0.01) },
    );
    const [x, y] = data();
    const fitted = await fit(module, [x, y], { ...base, epochs: 1 });
    const before = (await predict(fitted, x, { verbose: false, accelerator: cpu() })) as tf.Tensor;
    expect(before.max().dataSync()[0]).toBe(0);
    const bytes = await serializeFitted(fitted);
    await expect(deserializeFitted(bytes)).rejects.toThrow(/custom model .* Pass the module generator/);
    const loaded = await deserializeFitted(bytes, module);
    const after = (await predict(loaded, x, { verbose: false, accelerator: cpu() })) as tf.Tensor;
    expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()));
    expect(Array.from(loaded.model.getWeights()[0].dataSync())).toEqual(Array.from(fitted.model.getWeights()[0].dataSync()));
  });

  it('luz_save_model_weights / luz_load_model_weights restore parameters after in-place modification', async () => {
    const [x, y] = data();
    const fitted = await fit(mlp(), [x, y], { ...base, epochs: 1 });
    const original = weightsOf(fitted.model);
    const bytes = await serializeModelWeights(fitted);
    fitted.model.setWeights(fitted.model.getWeights().map((w) => tf.zerosLike(w)));
    expect(weightsOf(fitted.model)).not.toEqual(original);
    restoreModelWeights(fitted, bytes);
    expect(weightsOf(fitted.model)).toEqual(original);
  });

  it('saving and loading leaks no tensors', async () => {
    const [x, y] = data();
    const fitted = await fit(mlp(), [x, y], { ...base, epochs: 1 });
    const bytes = await serializeModelWeights(fitted);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) restoreModelWeights(fitted, bytes);
    await serializeFitted(fitted);
    expect(tf.memory().numTensors).toBe(before);
  });
});
