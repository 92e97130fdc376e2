import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { accelerator, fit, getMetrics, luzCallback, luzMetric, setup, type LuzCallback, type LuzContext } from '@luzts/core';
import { luzCallbackCsvLogger } from '@luzts/csv-logger';
import { luzCallbackEarlyStopping } from './index.js';

const tmp = mkdtempSync(join(tmpdir(), 'luzts-es-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** luz's get_model / get_dl: a linear model on N(0, 1) data (seeded). */
const model = (lr = 0.01) =>
  setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })] }), {
    loss: (p, t) => tf.losses.meanSquaredError(t, p),
    optimizer: () => tf.train.adam(lr),
  });
const data = (): [tf.Tensor, tf.Tensor] => [tf.randomNormal([100, 10], 0, 1, 'float32', 1), tf.randomNormal([100, 1], 0, 1, 'float32', 2)];

async function run(epochs: number | [number, number], callbacks: LuzCallback[], lr = 0.01, validData?: number) {
  return fit(model(lr), data(), { epochs, callbacks, verbose: false, accelerator: accelerator({ backend: 'cpu' }), dataloaderOptions: { batchSize: 10 }, seed: 1, validData });
}
const epochsRun = (f: { records: { metrics: { train: unknown[] } } }) => f.records.metrics.train.length;

/** A mean-absolute-error metric (abbrev MAE) for the train_mae scenario. */
const mae = luzMetric({
  abbrev: 'MAE',
  initialize() { this.sum = 0; this.n = 0; },
  update(pred: tf.Tensor, target: tf.Tensor) { this.sum += tf.abs(tf.sub(pred, target)).sum().dataSync()[0]; this.n += pred.size; },
  compute() { return this.sum / this.n; },
});

describe('port of luz test-callbacks-monitor-metrics.R (early stopping)', () => {
  it('train_loss with min_delta = 100 never improves: patience 1 -> 2 epochs, patience 2 -> 3 epochs', async () => {
    expect(epochsRun(await run(25, [luzCallbackEarlyStopping({ monitor: 'train_loss', patience: 1, minDelta: 100 })]))).toBe(2);
    expect(epochsRun(await run(25, [luzCallbackEarlyStopping({ monitor: 'train_loss', patience: 2, minDelta: 100 })]))).toBe(3);
  });

  it('honours minEpochs: epochs = [5, 25], patience 2 -> 5 epochs', async () => {
    expect(epochsRun(await run([5, 25], [luzCallbackEarlyStopping({ monitor: 'train_loss', patience: 2, minDelta: 100 })]))).toBe(5);
  });

  it('baseline = 0, patience 1, epochs = [1, 25] -> 1 epoch (the first epoch is compared to the baseline)', async () => {
    expect(epochsRun(await run([1, 25], [luzCallbackEarlyStopping({ monitor: 'train_loss', patience: 1, baseline: 0 })]))).toBe(1);
  });

  it('patience 5 with an unreachable baseline (0.001) stops at epoch 5 and prints "Early stopping at epoch 5 of 25" when verbose', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const fitted = await fit(model(), data(), {
        epochs: 25, verbose: true, accelerator: accelerator({ backend: 'cpu' }), dataloaderOptions: { batchSize: 10 },
        callbacks: [luzCallbackEarlyStopping({ monitor: 'train_loss', patience: 5, baseline: 0.001 })],
      });
      expect(epochsRun(fitted)).toBe(5);
      expect(log.mock.calls.map((c) => String(c[0]))).toContain('Early stopping at epoch 5 of 25');
    } finally {
      log.mockRestore();
    }
  });

  it('a user callback sees onEarlyStopping exactly once, then onFitEnd', async () => {
    const events: string[] = [];
    const spy = luzCallback({ name: 'spy', onEarlyStopping(ctx: LuzContext) { events.push(`stop@${ctx.epoch}`); }, onFitEnd() { events.push('end'); } });
    await run(25, [luzCallbackEarlyStopping({ monitor: 'train_loss', patience: 1, minDelta: 100 }), spy()]);
    expect(events).toEqual(['stop@2', 'end']);
  });

  it('monitoring train_mae (baseline 0.91 never beaten: lr 0) with patience 2 stops at epoch 2', async () => {
    const module = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 1, kernelInitializer: 'zeros' })] }), {
      loss: (p, t) => tf.losses.meanSquaredError(t, p),
      optimizer: () => tf.train.sgd(0),
      metrics: [mae()],
    });
    // y = 1 everywhere and the prediction stays 0: MAE = 1 > 0.91 at every epoch.
    const fitted = await fit(module, [tf.randomNormal([40, 10]), tf.ones([40, 1])], {
      epochs: 25, verbose: false, accelerator: accelerator({ backend: 'cpu' }), dataloaderOptions: { batchSize: 10 },
      callbacks: [luzCallbackEarlyStopping({ monitor: 'TRAIN_MAE', baseline: 0.91, patience: 2, minDelta: 0.01 })],
    });
    expect(fitted.records.metrics.train.map((r) => r.mae)).toEqual([1, 1]);
  });

  it('early stopping + CSV logger: the stopping epoch is recorded and logged (CSV rows == getMetrics rows)', async () => {
    const path = join(tmp, 'log.csv');
    const fitted = await run(25, [luzCallbackEarlyStopping({ monitor: 'train_loss', patience: 2, minDelta: 100 }), luzCallbackCsvLogger({ path })], 0.01, 0.2);
    expect(epochsRun(fitted)).toBe(3);
    expect(fitted.records.metrics.valid).toHaveLength(3);
    const rows = readFileSync(path, 'utf8').trim().split('\n').slice(1);
    expect(rows).toHaveLength(getMetrics(fitted).length);
    expect(rows.some((r) => r.startsWith('3,'))).toBe(true);
  });
});

describe('luzCallbackEarlyStopping: behaviour beyond luz', () => {
  it('an improving epoch never stops training, even with patience 0 (luz stops at epoch 2)', async () => {
    // Reference run without the callback (same seed: same shuffles and initial weights).
    const reference = (await run(10, [], 0.05)).records.metrics.train.map((r) => r.loss as number);
    let best = reference[0];
    let expected = reference.length;
    for (let e = 2; e <= reference.length; e++) {
      if (!(reference[e - 1] < best)) { expected = e; break; }
      best = reference[e - 1];
    }
    expect(expected).toBeGreaterThan(2);
    const fitted = await run(10, [luzCallbackEarlyStopping({ monitor: 'train_loss' })], 0.05);
    expect(fitted.records.metrics.train.map((r) => r.loss)).toEqual(reference.slice(0, expected));
  });

  it('mode max and zero', async () => {
    // max: a decreasing loss never improves -> stops at epoch 2.
    expect(epochsRun(await run(10, [luzCallbackEarlyStopping({ monitor: 'train_loss', mode: 'max' })], 0.05))).toBe(2);
    // zero: a decreasing (positive) loss moves toward zero -> improves every epoch.
    expect(epochsRun(await run(4, [luzCallbackEarlyStopping({ monitor: 'train_loss', mode: 'zero' })], 0.05))).toBe(4);
  });

  it('monitoring a metric that does not exist is an error at the first epoch end, listing the available ones', async () => {
    await expect(run(5, [luzCallbackEarlyStopping()])).rejects.toThrow(/'valid_loss' was not found at epoch 1\. No validation metrics were logged.*Available: 'train_loss'/);
  });

  it('state: stateDict / loadStateDict round-trip, reset after fit; options validated', async () => {
    const es = luzCallbackEarlyStopping({ monitor: 'train_loss', patience: 3, minDelta: 100 });
    es.loadStateDict!({ currentBest: 1.5, patienceCounter: 2 });
    expect(es.stateDict!()).toEqual({ currentBest: 1.5, patienceCounter: 2 });
    // Restored mid-run: one more non-improving epoch reaches patience 3 at epoch 1.
    const fitted = await run(10, [es]);
    expect(epochsRun(fitted)).toBe(1);
    expect(es.stoppedEpoch).toBe(1);
    expect(es.stateDict!()).toEqual({ currentBest: undefined, patienceCounter: 0 });
    expect(() => luzCallbackEarlyStopping({ patience: 1.5 })).toThrow(/'patience' must be a non-negative integer, got 1\.5/);
    expect(() => luzCallbackEarlyStopping({ baseline: NaN })).toThrow(/'baseline' must be a finite number, got NaN/);
    expect(() => luzCallbackEarlyStopping({ mode: 'avg' as never })).toThrow(/'mode' must be one of/);
    expect(() => luzCallbackEarlyStopping({ patiance: 1 } as never)).toThrow(/unknown option 'patiance'/);
  });

  it('no tensor growth across epochs', async () => {
    const counts: number[] = [];
    const probe = luzCallback({ name: 'probe', weight: Infinity, onEpochEnd() { counts.push(tf.memory().numTensors); } });
    await run(4, [luzCallbackEarlyStopping({ monitor: 'train_loss', patience: 10 }), probe()]);
    expect(counts).toHaveLength(4);
    expect(counts[3]).toBe(counts[0]);
  });
});
