import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { accelerator, decodeCheckpoint, fit, luzCallback, predict, setup, type LuzCallback } from '@luzts/core';
import { luzLoadCheckpoint } from '@luzts/core/node';
import { formatTemplate, luzCallbackModelCheckpoint } from './index.js';

const tmp = mkdtempSync(join(tmpdir(), 'luzts-mc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
const newDir = () => join(tmp, `d${++dirs}`) + '/';

/**
 * Linear regression trained full-batch (one batch per epoch) by SGD with a small step: the
 * epoch's training loss is the loss before its step, which decreases strictly every epoch.
 */
const module = (lr = 0.05) =>
  setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1, kernelInitializer: 'zeros' })] }), {
    loss: (p, t) => tf.losses.meanSquaredError(t, p),
    optimizer: () => tf.train.sgd(lr),
  });
function data(): [tf.Tensor, tf.Tensor] {
  const x = Array.from({ length: 20 }, (_, i) => [0, 1, 2].map((j) => Math.sin(i * 3 + j)));
  return [tf.tensor2d(x), tf.tensor2d(x.map((r) => [r[0] - 2 * r[1] + 0.5 * r[2] + 1]))];
}
const run = (epochs: number, callbacks: LuzCallback[], lr?: number) =>
  fit(module(lr), data(), { epochs, callbacks, verbose: false, accelerator: accelerator({ backend: 'cpu' }), dataloaderOptions: { batchSize: 20 } });
const files = (dir: string) => readdirSync(dir).sort();

describe('port of luz test-callbacks-monitor-metrics.R (model checkpoint)', () => {
  it('a directory path with saveBestOnly = false writes one file per epoch (luz file names)', async () => {
    const dir = newDir();
    const fitted = await run(5, [luzCallbackModelCheckpoint({ path: dir, monitor: 'train_loss' })]);
    const losses = fitted.records.metrics.train.map((r) => r.loss as number);
    expect(files(dir)).toEqual(losses.map((l, i) => `epoch-0${i + 1}-train_loss-${l.toFixed(3)}.luzckpt`));
  });

  it('saveBestOnly = true with a loss improving every epoch writes a file every epoch', async () => {
    const dir = newDir();
    await run(10, [luzCallbackModelCheckpoint({ path: dir, monitor: 'train_loss', saveBestOnly: true })]);
    expect(files(dir)).toHaveLength(10);
  });

  it('luzLoadCheckpoint(fitted, files[0]) changes the predictions; files[4] restores the final ones', async () => {
    const dir = newDir();
    const fitted = await run(5, [luzCallbackModelCheckpoint({ path: dir, monitor: 'train_loss', saveBestOnly: true })]);
    const list = files(dir);
    expect(list).toHaveLength(5);
    const [x] = data();
    const preds = async () => Array.from(((await predict(fitted, x, { verbose: false, accelerator: accelerator({ backend: 'cpu' }) })) as tf.Tensor).dataSync());
    const final = await preds();
    await luzLoadCheckpoint(fitted, join(dir, list[0]));
    expect(await preds()).not.toEqual(final);
    await luzLoadCheckpoint(fitted, join(dir, list[4]));
    expect(await preds()).toEqual(final);
  });
});

describe('luzCallbackModelCheckpoint: beyond luz', () => {
  it('saveBestOnly with mode max (a decreasing loss never improves) keeps only the first epoch', async () => {
    const dir = newDir();
    await run(4, [luzCallbackModelCheckpoint({ path: dir, monitor: 'train_loss', saveBestOnly: true, mode: 'max' })]);
    expect(files(dir)).toEqual([expect.stringMatching(/^epoch-01-train_loss-/)]);
  });

  it('saveTopK keeps the k best files and deletes the others; saveLast writes last.luzckpt', async () => {
    const dir = newDir();
    // mode max on a decreasing loss: the best are epochs 1 and 2.
    await run(5, [luzCallbackModelCheckpoint({ path: `${dir}ck-{epoch}.luzckpt`, monitor: 'train_loss', mode: 'max', saveTopK: 2, saveLast: true })]);
    expect(files(dir)).toEqual(['ck-1.luzckpt', 'ck-2.luzckpt', 'last.luzckpt']);
    expect(decodeCheckpoint(readFileSync(join(dir, 'last.luzckpt'))).epoch).toBe(5);
    const cb = luzCallbackModelCheckpoint({ path: `${newDir()}x-{epoch}.luzckpt`, monitor: 'train_loss', saveTopK: 2 });
    await run(5, [cb]);
    // mode min: the last two epochs are the best.
    expect((cb.saved as Array<{ epoch: number }>).map((s) => s.epoch)).toEqual([4, 5]);
  });

  it('path templates: {epoch:03d}, {monitor:.2f}, {monitorName}; a constant path is overwritten', async () => {
    expect(formatTemplate('a/{epoch:03d}_{monitorName}_{monitor:.2f}_{monitor:8.4f}_{ epoch }.x', { epoch: 7, monitor: 0.125, monitorName: 'valid_acc' })).toBe('a/007_valid_acc_0.13_  0.1250_7.x');
    expect(formatTemplate('{monitor:06.2f}|{epoch:3d}|{monitor}', { epoch: 2, monitor: -1.5, monitorName: 'm' })).toBe('-01.50|  2|-1.5');
    expect(() => luzCallbackModelCheckpoint({ path: 'x-{loss}.luzckpt' })).toThrow(/unknown name '\{loss\}'. Available: \{epoch\}, \{monitor\}, \{monitorName\}/);
    expect(() => luzCallbackModelCheckpoint({ path: 'x-{epoch:x}.luzckpt' })).toThrow(/unsupported format ':x'/);
    const dir = newDir();
    await run(3, [luzCallbackModelCheckpoint({ path: `${dir}model.luzckpt`, monitor: 'train_loss' })]);
    expect(files(dir)).toEqual(['model.luzckpt']);
    expect(decodeCheckpoint(readFileSync(join(dir, 'model.luzckpt'))).epoch).toBe(3);
  });

  it('an unwritable path fails at onFitBegin, before any epoch runs', async () => {
    const file = join(tmp, 'plain-file');
    writeFileSync(file, 'x');
    let epochs = 0;
    const counter = luzCallback({ name: 'counter', onEpochBegin() { epochs += 1; } });
    await expect(run(3, [luzCallbackModelCheckpoint({ path: `${file}/sub/`, monitor: 'train_loss' }), counter()])).rejects.toThrow(/luzCallbackModelCheckpoint\(\): can't write checkpoints to/);
    expect(epochs).toBe(0);
  });

  it('the monitored metric must exist (default valid_loss without validation data is an error at epoch 1)', async () => {
    await expect(run(3, [luzCallbackModelCheckpoint({ path: newDir() })])).rejects.toThrow(/'valid_loss' was not found at epoch 1.*Available: 'train_loss'/);
  });

  it('validates its options', () => {
    expect(() => luzCallbackModelCheckpoint(undefined as never)).toThrow(/'path' must be a non-empty string .* got undefined/);
    expect(() => luzCallbackModelCheckpoint({ path: 'a/', saveTopK: 0 })).toThrow(/'saveTopK' must be a positive integer, got 0/);
    expect(() => luzCallbackModelCheckpoint({ path: 'a/', save_best_only: true } as never)).toThrow(/unknown option 'save_best_only'/);
  });

  it('no tensor growth across epochs', async () => {
    const counts: number[] = [];
    const probe = luzCallback({ name: 'probe', weight: Infinity, onEpochEnd() { counts.push(tf.memory().numTensors); } });
    await run(4, [luzCallbackModelCheckpoint({ path: newDir(), monitor: 'train_loss' }), probe()]);
    expect(counts[3]).toBe(counts[0]);
  });
});
