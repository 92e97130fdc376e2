// Default callbacks: progress output, profile records, metrics errors (luz's test-callbacks.R,
// test-callbacks-profile.R, test-metrics.R error snapshots).
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { fit, luzMetric, predict, setup } from './index.js';
import { cpu, getData, linearModule } from './test-utils/helpers.js';

afterEach(() => vi.restoreAllMocks());

function captureStdout(isTTY: boolean): { text: () => string } {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (chunks.push(String(s)), true));
  const desc = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
  Object.defineProperty(process.stdout, 'isTTY', { value: isTTY, configurable: true });
  onTestFinished(() => {
    if (desc) Object.defineProperty(process.stdout, 'isTTY', desc);
    else delete (process.stdout as { isTTY?: boolean }).isTTY;
  });
  return { text: () => chunks.join('') };
}

describe('luzCallbackProgress', () => {
  it('prints luz epoch lines without a terminal', async () => {
    const out = captureStdout(false);
    await fit(linearModule(), getData(40), { accelerator: cpu(), verbose: true, epochs: 2, validData: getData(20), dataloaderOptions: { batchSize: 10 } });
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe('Epoch 1/2');
    expect(lines[1]).toMatch(/^Train metrics: Loss: \d+\.\d{1,4}$/);
    expect(lines[2]).toMatch(/^Valid metrics: Loss: \d+\.\d{1,4}$/);
    expect(lines[3]).toBe('Epoch 2/2');
    expect(out.text()).not.toContain('\r');
  });

  it('draws progress bars with ETA and metrics on a terminal; unknown lengths show n/unk', async () => {
    const out = captureStdout(true);
    await fit(linearModule(), getData(40), { accelerator: cpu(), verbose: true, epochs: 1, validData: getData(20), dataloaderOptions: { batchSize: 10 } });
    const text = out.text();
    expect(text).toMatch(/\r4\/4 \[=+\] - ETA: 0s - Loss: \d/);
    expect(text).toMatch(/\r2\/2 \[=+\] - ETA: 0s - Loss: \d/);
    const [x, y] = getData(30);
    const iterable = { async *[Symbol.asyncIterator]() { for (let i = 0; i < 3; i++) yield [x.slice(i * 10, 10), y.slice(i * 10, 10)]; } };
    await fit(linearModule(), iterable, { accelerator: cpu(), verbose: true, epochs: 1 });
    expect(out.text()).toMatch(/3\/unk \[.\] - Rate: [\d.]+ iter\/s - Loss: \d/);
  });

  it('prints nothing when not verbose, and predict shows a bar without metrics', async () => {
    const out = captureStdout(true);
    const fitted = await fit(linearModule(), getData(20), { accelerator: cpu(), verbose: false, epochs: 1 });
    expect(out.text()).toBe('');
    await predict(fitted, getData(50)[0], { accelerator: cpu(), verbose: true, dataloaderOptions: { batchSize: 10 } });
    expect(out.text()).toMatch(/\r5\/5 \[=+\] - ETA: 0s\x1b\[K\n$/);
  });
});

describe('luzCallbackProfile', () => {
  it('5 epochs with validation → fit 1 entry, epoch/train/valid 5 entries', async () => {
    const fitted = await fit(linearModule(), getData(20), { accelerator: cpu(), verbose: false, epochs: 5, validData: getData(10), dataloaderOptions: { batchSize: 10 } });
    const p = fitted.records.profile!;
    expect(p.fit).toHaveLength(1);
    expect(p.epoch).toHaveLength(5);
    expect(p.train).toHaveLength(5);
    expect(p.valid).toHaveLength(5);
    expect(p.fit[0]).toBeGreaterThanOrEqual(p.epoch.reduce((a, b) => a + b, 0));
  });
});

describe('luzCallbackMetrics', () => {
  const failing = (where: 'update' | 'compute') =>
    luzMetric({
      abbrev: 'Fails',
      initialize() { this.n = 0; },
      update() { this.n += 1; if (where === 'update' && this.n === 3) throw new Error('error in update'); },
      compute() { if (where === 'compute') throw new Error('error in compute'); return this.n; },
    });
  const module = (m: ReturnType<typeof failing>) =>
    setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 1 })] }), { loss: (p, t) => tf.losses.meanSquaredError(t, p), optimizer: () => tf.train.sgd(0.01), metrics: [m()] });

  it('a failing update names the metric, iteration, epoch and mode', async () => {
    const err = await fit(module(failing('update')), getData(50), { accelerator: cpu(), verbose: false, epochs: 1, dataloaderOptions: { batchSize: 10 } }).catch((e) => e);
    expect(err.message).toMatch(/metrics_callback.*onTrainBatchEnd/);
    expect(err.cause.message).toMatch(/Error when evaluating update for metric with abbrev 'Fails': error in update/);
    expect(err.cause.message).toContain('at iter 3 of epoch 1');
    expect(err.cause.message).toContain('The model was in training mode');
  });

  it('a failing compute names the metric and the phase', async () => {
    const err = await fit(module(failing('compute')), getData(50), { accelerator: cpu(), verbose: false, epochs: 1, dataloaderOptions: { batchSize: 10 } }).catch((e) => e);
    expect(err.message).toMatch(/metrics_callback.*onTrainEnd/);
    expect(err.cause.message).toMatch(/Error when evaluating compute for metric with abbrev 'Fails'/);
    expect(err.cause.message).toContain('at iter 5 of epoch 1');
  });

  it('the loss average of an epoch equals the mean of the batch losses', async () => {
    const batchLosses: number[] = [];
    const spy = (await import('./index.js')).luzCallback({ name: 'spy', onTrainBatchEnd(ctx) { batchLosses.push(ctx.loss.opt.dataSync()[0]); } });
    const fitted = await fit(linearModule(), getData(50), { accelerator: cpu(), verbose: false, epochs: 1, dataloaderOptions: { batchSize: 10 }, callbacks: [spy()] });
    const mean = batchLosses.reduce((a, b) => a + b, 0) / batchLosses.length;
    expect(fitted.records.metrics.train[0].loss).toBeCloseTo(mean, 5);
  });
});
