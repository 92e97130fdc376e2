import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LuzError, accelerator, fit, getMetrics, luzCallback, luzMetric, luzMetricSet, setup, type LossFn, type LuzContext, type LuzMetricGenerator } from '@luzts/core';
import { nnBceWithLogitsLoss, nnCrossEntropyLoss, nnMixupLoss, isMixedTarget, type MixedTarget } from '@luzts/losses';
import { luzMetricAccuracy } from '@luzts/metrics';
import { luzCallbackMixup } from './index.js';

const cpu = () => accelerator({ backend: 'cpu' });

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** luz's get_categorical_dl: x ~ N(0, 1) of shape (n, ...xSize), y uniform int32 classes. */
function categorical(n: number, xSize: number[], classes: number, seed = 1): [tf.Tensor, tf.Tensor] {
  return [tf.randomNormal([n, ...xSize], 0, 1, 'float32', seed), tf.randomUniform([n], 0, classes, 'int32', seed + 1)];
}

const seeded = () => tf.initializers.glorotUniform({ seed: 42 });

function classifier(xSize: number[], classes: number, loss: LossFn, metrics?: LuzMetricGenerator[] | ReturnType<typeof luzMetricSet>) {
  return setup(
    () =>
      tf.sequential({
        layers: xSize.length === 1
          ? [tf.layers.dense({ inputShape: xSize, units: classes, kernelInitializer: seeded() })]
          : [tf.layers.flatten({ inputShape: xSize }), tf.layers.dense({ units: classes, kernelInitializer: seeded() })],
      }),
    { loss, optimizer: () => tf.train.adam(0.01), metrics },
  );
}

/** Runs `fn` and returns everything written to stdout/stderr/console meanwhile. */
async function captureOutput(fn: () => Promise<unknown>): Promise<string> {
  const out: string[] = [];
  const push = (...a: unknown[]) => void out.push(a.map(String).join(' '));
  vi.spyOn(console, 'log').mockImplementation(push);
  vi.spyOn(console, 'warn').mockImplementation(push);
  vi.spyOn(console, 'error').mockImplementation(push);
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (push(s), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (push(s), true));
  await fn();
  vi.restoreAllMocks();
  return out.join('');
}

// Ports of luz's tests/testthat/test-callbacks-mixup.R (training tests).
describe('luzCallbackMixup (port of test-callbacks-mixup.R)', () => {
  for (const [label, xSize, classes] of [['1d', [768], 10], ['2d', [28, 28], 3], ['3d', [3, 28, 28], 33]] as const) {
    it(`works with ${label} input: 2 epochs with validData, silently`, async () => {
      const data = categorical(40, [...xSize], classes);
      const module = classifier([...xSize], classes, nnMixupLoss(nnCrossEntropyLoss({ ignoreIndex: 222 })));
      let fitted;
      const output = await captureOutput(async () => {
        fitted = await fit(module, data, { epochs: 2, validData: data, callbacks: [luzCallbackMixup()], verbose: false, accelerator: cpu(), seed: 1, dataloaderOptions: { batchSize: 10 } });
      });
      expect(output).toBe('');
      const rows = getMetrics(fitted!);
      expect(rows.filter((r) => r.metric === 'loss').map((r) => `${r.set}${r.epoch}`).sort()).toEqual(['train1', 'train2', 'valid1', 'valid2']);
      expect(rows.every((r) => Number.isFinite(r.value))).toBe(true);
    });
  }

  it('can use mixup with accuracy', async () => {
    const data = categorical(50, [10], 2, 3);
    const module = classifier([10], 2, nnCrossEntropyLoss({ reduction: 'none' }), luzMetricSet({ validMetrics: [luzMetricAccuracy()] }));
    const fitted = await fit(module, data, { epochs: 2, validData: 0.2, callbacks: [luzCallbackMixup({ autoLoss: true })], verbose: false, accelerator: cpu(), seed: 2 });
    const metrics = getMetrics(fitted).map((r) => r.metric);
    expect(metrics).toContain('acc');
  });
});

/** A callback (after mixup) that inspects ctx during training. */
const probe = luzCallback<{ seen: Record<string, unknown[]> }>({
  name: 'probe_callback',
  weight: 1,
  initialize({ seen }) {
    this.seen = seen;
  },
  push(key: string, value: unknown) {
    (this.seen[key] ??= []).push(value);
  },
  onTrainBatchAfterLoss(ctx: LuzContext) {
    this.push('trainTarget', isMixedTarget(ctx.target) ? 'mixed' : ctx.target.dtype);
    if (isMixedTarget(ctx.target)) {
      // Reference: mean_i(w_i * CE(pred_i, y1_i) + (1 - w_i) * CE(pred_i, y2_i)) in plain JS.
      const p = ctx.pred.arraySync() as number[][];
      const t = ctx.target as MixedTarget;
      const [y1, y2] = t.ys.map((y) => Array.from(y.dataSync()));
      const w = Array.from((t.weight as tf.Tensor).dataSync());
      const ce = (row: number[], c: number) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[c];
      const ref = p.reduce((s, row, i) => s + w[i] * ce(row, y1[i]) + (1 - w[i]) * ce(row, y2[i]), 0) / p.length;
      this.push('lossError', Math.abs(ctx.loss['opt'].dataSync()[0] - ref));
      this.push('weights', ...w);
    }
  },
  onTrainBatchEnd(ctx: LuzContext) {
    this.push('trainTargetAtEnd', isMixedTarget(ctx.target) ? 'mixed' : ctx.target.dtype);
  },
  onValidBatchAfterPred(ctx: LuzContext) {
    this.push('validTarget', isMixedTarget(ctx.target) ? 'mixed' : `${ctx.target.dtype}${ctx.target.rank}`);
  },
  onValidBatchEnd(ctx: LuzContext) {
    this.push('validTargetAtEnd', isMixedTarget(ctx.target) ? 'mixed' : ctx.target.dtype);
  },
  onTrainBegin(ctx: LuzContext) {
    this.push('lossFnTrain', ctx.lossFn);
  },
  onValidBegin(ctx: LuzContext) {
    this.push('lossFnValid', ctx.lossFn);
  },
  onEpochEnd(ctx: LuzContext) {
    this.push('lossFnEpochEnd', ctx.lossFn);
    this.push('numTensors', tf.memory().numTensors);
  },
});

describe('luzCallbackMixup: autoLoss, runValid, targets', () => {
  const data = () => categorical(60, [6], 3, 5);
  const valid = () => categorical(20, [6], 3, 9);
  const run = async (options: Parameters<typeof luzCallbackMixup>[0], loss: LossFn, seen: Record<string, unknown[]> = {}, d = data(), v = valid(), epochs = 2) =>
    fit(classifier([6], 3, loss, luzMetricSet({ validMetrics: [luzMetricAccuracy()] })), d, {
      epochs, validData: v, callbacks: [luzCallbackMixup(options), probe({ seen })], verbose: false, accelerator: cpu(), seed: 3, dataloaderOptions: { batchSize: 16 },
    });

  it('autoLoss: trains on the per-sample mixup loss, validates on the mean of the unreduced loss, logs accuracy', async () => {
    const seen: Record<string, unknown[]> = {};
    const loss = nnCrossEntropyLoss({ reduction: 'none' });
    const [vx, vy] = valid();
    const fitted = await run({ autoLoss: true }, loss, seen, data(), [vx, vy]);
    expect(seen['trainTarget']!.every((t) => t === 'mixed')).toBe(true);
    expect(seen['lossError']).toHaveLength(6); // 3 batches x 2 epochs
    expect(Math.max(...(seen['lossError'] as number[]))).toBeLessThan(1e-5);
    expect(seen['validTarget']!.every((t) => t === 'int321')).toBe(true);
    // metrics see the original int32 target, never the mixed structure
    expect(seen['trainTargetAtEnd']!.every((t) => t === 'int32')).toBe(true);
    // the loss is wrapped during the run and restored after each phase
    expect(seen['lossFnTrain']![0]).not.toBe(loss);
    expect(seen['lossFnEpochEnd']!.every((f) => f === loss)).toBe(true);
    // valid loss = mean CE of the final model on the (unmixed) validation data, averaged over
    // the two validation batches (16 + 4 samples) as luz's loss metric does
    const pred = fitted.model.forward(vx, { training: false }) as tf.Tensor;
    const perSample = Array.from(nnCrossEntropyLoss({ reduction: 'none' })(pred, vy).dataSync());
    const batchMean = (v: number[]) => v.reduce((s, u) => s + u, 0) / v.length;
    const expected = (batchMean(perSample.slice(0, 16)) + batchMean(perSample.slice(16))) / 2;
    expect(fitted.records.metrics.valid[1]['loss'] as number).toBeCloseTo(expected, 5);
    const acc = fitted.records.metrics.valid[1]['acc'] as number;
    const hits = pred.argMax(-1).equal(vy).toFloat().mean().dataSync()[0];
    expect(acc).toBeCloseTo(hits, 6);
  });

  it('runValid: validation batches are mixed (nnMixupLoss), metrics still get the original target', async () => {
    const seen: Record<string, unknown[]> = {};
    const fitted = await run({ runValid: true }, nnMixupLoss(nnCrossEntropyLoss()), seen);
    expect(seen['validTarget']!.every((t) => t === 'mixed')).toBe(true);
    expect(seen['validTargetAtEnd']!.every((t) => t === 'int32')).toBe(true);
    expect(typeof fitted.records.metrics.valid[1]['acc']).toBe('number');
  });

  it('runValid + autoLoss together (luz 0.4 fails here) train and log accuracy', async () => {
    const seen: Record<string, unknown[]> = {};
    const loss = nnCrossEntropyLoss({ reduction: 'none' });
    const fitted = await run({ runValid: true, autoLoss: true }, loss, seen);
    expect(seen['validTarget']!.every((t) => t === 'mixed')).toBe(true);
    expect(seen['lossFnValid']![0]).not.toBe(loss);
    expect(seen['lossFnEpochEnd']!.every((f) => f === loss)).toBe(true);
    const valid = fitted.records.metrics.valid;
    expect(valid.every((m) => Number.isFinite(m['loss']) && Number.isFinite(m['acc']))).toBe(true);
  });

  it('autoLoss also accepts a reduced loss of @luzts/losses and an nnMixupLoss (not wrapped twice)', async () => {
    const seen: Record<string, unknown[]> = {};
    await run({ autoLoss: true }, nnCrossEntropyLoss(), seen);
    expect(seen['lossError']).toHaveLength(6);
    expect(Math.max(...(seen['lossError'] as number[]))).toBeLessThan(1e-5);
    const mixupLoss = nnMixupLoss(nnCrossEntropyLoss());
    const seen2: Record<string, unknown[]> = {};
    await run({ autoLoss: true }, mixupLoss, seen2);
    expect(seen2['lossFnTrain']![0]).toBe(mixupLoss);
  });

  it('one-hot targets are mixed directly and train with the plain loss (autoLoss on or off)', async () => {
    const [x, y] = data();
    const oneHot = tf.oneHot(y, 3).toFloat();
    const [vx, vy] = valid();
    const vOneHot = tf.oneHot(vy, 3).toFloat();
    const mixedTargets: tf.Tensor[] = [];
    const grab = luzCallback({ name: 'grab', weight: 1, onTrainBatchAfterPred(ctx: LuzContext) { if (mixedTargets.length === 0) mixedTargets.push(tf.keep(ctx.target.clone())); } })();
    for (const autoLoss of [false, true]) {
      const loss = autoLoss ? nnCrossEntropyLoss({ reduction: 'none' }) : nnCrossEntropyLoss();
      const module = classifier([6], 3, loss, luzMetricSet({ validMetrics: [luzMetricAccuracy()] }));
      const fitted = await fit(module, [x, oneHot], { epochs: 2, validData: [vx, vOneHot], callbacks: [luzCallbackMixup({ autoLoss }), grab], verbose: false, accelerator: cpu(), seed: 4, dataloaderOptions: { batchSize: 16 } });
      expect(fitted.records.metrics.valid.every((m) => Number.isFinite(m['acc']))).toBe(true);
    }
    // a mixed one-hot row: two entries w and 1 - w (or one entry 1 when paired with its own class), summing to 1
    const rows = mixedTargets[0].arraySync() as number[][];
    expect(rows.every((r) => Math.abs(r[0] + r[1] + r[2] - 1) < 1e-6 && Math.max(...r) >= 0.5 - 1e-6)).toBe(true);
    expect(rows.some((r) => r.some((v) => v > 0.01 && v < 0.99))).toBe(true);
    tf.dispose(mixedTargets);
  });

  it('binary float targets (B, 1) are mixed directly (BCE with logits)', async () => {
    const x = tf.randomNormal([40, 4], 0, 1, 'float32', 8);
    const y = x.slice([0, 0], [40, 1]).greater(0).toFloat();
    const targets: number[][] = [];
    const grab = luzCallback({ name: 'grab', weight: 1, onTrainBatchAfterPred(ctx: LuzContext) { targets.push(Array.from(ctx.target.dataSync())); } })();
    const module = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 1 })] }), { loss: nnBceWithLogitsLoss(), optimizer: () => tf.train.adam(0.01) });
    const fitted = await fit(module, [x, y], { epochs: 2, callbacks: [luzCallbackMixup(), grab], verbose: false, accelerator: cpu(), seed: 5, dataloaderOptions: { batchSize: 20 } });
    expect(fitted.records.metrics.train.every((m) => Number.isFinite(m['loss']))).toBe(true);
    expect(targets.length).toBe(4);
    const all = targets.flat();
    expect(all.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(all.some((v) => v > 0 && v < 0.5)).toBe(true); // a 0-label mixed with a 1-label partner
  });

  it('training metrics compute on the original target (no crash)', async () => {
    const seenTargets: string[] = [];
    const spy = luzMetric({
      abbrev: 'Spy',
      initialize() { this.n = 0; },
      update(_p: unknown, t: unknown) { seenTargets.push(t instanceof tf.Tensor ? t.dtype : 'other'); this.n += 1; },
      compute() { return this.n; },
    });
    const module = classifier([6], 3, nnMixupLoss(nnCrossEntropyLoss()), [luzMetricAccuracy(), spy()]);
    const fitted = await fit(module, data(), { epochs: 1, callbacks: [luzCallbackMixup()], verbose: false, accelerator: cpu(), seed: 6, dataloaderOptions: { batchSize: 16 } });
    expect(seenTargets).toEqual(['int32', 'int32', 'int32']);
    expect(fitted.records.metrics.train[0]['acc']).toBeGreaterThanOrEqual(0);
  });

  it('is reproducible with fit({ seed }) and draws weights in [0.5, 1]', async () => {
    const a: Record<string, unknown[]> = {};
    const b: Record<string, unknown[]> = {};
    const loss = nnCrossEntropyLoss({ reduction: 'none' });
    const fa = await run({ autoLoss: true }, loss, a);
    const fb = await run({ autoLoss: true }, loss, b);
    expect(a['weights']).toEqual(b['weights']);
    expect(fa.records.metrics).toEqual(fb.records.metrics);
    expect((a['weights'] as number[]).every((w) => w >= 0.5 && w <= 1)).toBe(true);
  });

  it('does not leak tensors across epochs', async () => {
    const seen: Record<string, unknown[]> = {};
    await run({ runValid: true, autoLoss: true }, nnCrossEntropyLoss({ reduction: 'none' }), seen, data(), valid(), 4);
    const counts = seen['numTensors'] as number[];
    expect(counts[3]).toBe(counts[0]);
  });
});

describe('luzCallbackMixup: errors', () => {
  it('validates its options', () => {
    expect(() => luzCallbackMixup({ alpha: 0.4, run_valid: true } as never)).toThrow(/unknown option 'run_valid'. Expected one of: alpha, runValid, autoLoss/);
    expect(() => luzCallbackMixup({ alpha: 0 })).toThrow(/'alpha' must be a positive number, got 0/);
    expect(() => luzCallbackMixup({ runValid: 'yes' as never })).toThrow(/'runValid' must be a boolean, got "yes"/);
    expect(() => luzCallbackMixup(0.4 as never)).toThrow(/expected an options object/);
    const cb = luzCallbackMixup();
    expect(cb.name).toBe('mixup_callback');
    expect(cb.weight).toBe(0);
    expect([cb['alpha'], cb['runValid'], cb['autoLoss']]).toEqual([0.4, false, false]);
  });

  it('a plain loss without autoLoss fails with a hint, and a reduced non-LuzLoss with autoLoss too', async () => {
    const data = categorical(20, [4], 2);
    const opts = { epochs: 1, verbose: false, accelerator: cpu(), dataloaderOptions: { batchSize: 10 } };
    await expect(fit(classifier([4], 2, nnCrossEntropyLoss()), data, { ...opts, callbacks: [luzCallbackMixup()] })).rejects.toThrow(/wrap the loss with nnMixupLoss\(loss\), or use luzCallbackMixup\(\{ autoLoss: true \}\)/);
    const reduced: LossFn = (p, t) => tf.losses.softmaxCrossEntropy(tf.oneHot(t, 2), p);
    await expect(fit(classifier([4], 2, reduced), data, { ...opts, callbacks: [luzCallbackMixup({ autoLoss: true })] })).rejects.toThrow(/unreduced per-sample losses/);
    const err = await fit(classifier([4], 2, nnCrossEntropyLoss()), [data[0].toInt(), data[1]], { ...opts, callbacks: [luzCallbackMixup()] }).catch((e) => e);
    expect(err.cause).toBeInstanceOf(LuzError);
    expect(err.message).toMatch(/mixup_callback.*onTrainBatchBegin.*'x' must be float32/);
  });
});
