import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { accelerator, fit, luzCallback, setup, type LuzCallback, type LuzContext } from '@luzts/core';
import { luzCheckpoint } from '@luzts/core/node';
import { luzCallbackResumeFromCheckpoint } from './index.js';

const tmp = mkdtempSync(join(tmpdir(), 'luzts-rfc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const x = tf.tensor2d(Array.from({ length: 40 }, (_, i) => [0, 1, 2].map((j) => Math.sin(i * 3 + j))));
const y = tf.tensor2d(Array.from({ length: 40 }, (_, i) => [Math.cos(i)]));
const linear = () =>
  setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1 })] }), {
    loss: (p, t) => tf.losses.meanSquaredError(t, p),
    optimizer: () => tf.train.adam(0.05),
  });
const run = (callbacks: LuzCallback[], epochs = 3) =>
  fit(linear(), [x, y], { epochs, callbacks, verbose: false, accelerator: accelerator({ backend: 'cpu' }), dataloaderOptions: { batchSize: 10 } });
const values = (ctx: { model: { getWeights(): tf.Tensor[] } }) => ctx.model.getWeights().map((w) => Array.from(w.dataSync()));

/** Writes `dir/epoch-NN.luzckpt` at every epoch end. */
const saver = (dir: string) => luzCallback({ name: 'saver', async onEpochEnd(ctx: LuzContext) { await luzCheckpoint(ctx, join(dir, `epoch-${String(ctx.epoch).padStart(2, '0')}.luzckpt`)); } })();

/** Model weights and Adam's iteration count at the first onEpochBegin. */
function firstEpoch() {
  const seen: { weights?: number[][]; iterations?: number; records?: number } = {};
  const cb = luzCallback({
    name: 'first_epoch',
    onEpochBegin(ctx: LuzContext) {
      if (seen.weights) return;
      seen.weights = values(ctx);
      seen.iterations = ctx.optimizers.opt.iterations;
      seen.records = ctx.records.metrics.train.length;
    },
  });
  return { cb: cb(), seen };
}

describe('port of luz test-callbacks-resume.R (resume from checkpoint)', () => {
  it('a directory path loads the latest checkpoint: the new run starts from the epoch-10 weights', async () => {
    const dir = join(tmp, 'ten');
    const fitted = await run([saver(dir)], 10);
    const t = firstEpoch();
    const resumed = await run([luzCallbackResumeFromCheckpoint({ path: dir }), t.cb], 2);
    expect(t.seen.weights).toEqual(values(fitted));
    // Defaults: weights only — a fresh optimizer, fresh records, and all epochs run.
    expect(t.seen.iterations).toBe(0);
    expect(t.seen.records).toBe(0);
    expect(resumed.records.metrics.train).toHaveLength(2);
  });
});

describe('luzCallbackResumeFromCheckpoint: beyond luz', () => {
  it('restoreOptimizerState and restoreRecords on request; a file path', async () => {
    const dir = join(tmp, 'opt');
    await run([saver(dir)], 2);
    const t = firstEpoch();
    await run([luzCallbackResumeFromCheckpoint({ path: join(dir, 'epoch-02.luzckpt'), restoreOptimizerState: true, restoreRecords: true }), t.cb], 1);
    expect(t.seen.iterations).toBe(8); // 2 epochs x 4 batches
    expect(t.seen.records).toBe(2);
  });

  it('the latest by modification time wins over the last name; temporary files are ignored', async () => {
    const dir = join(tmp, 'mtime');
    const fitted = await run([saver(dir)], 3);
    const epoch1 = firstEpoch();
    await run([luzCallbackResumeFromCheckpoint({ path: join(dir, 'epoch-01.luzckpt') }), epoch1.cb], 1);
    const future = new Date(Date.now() + 60_000);
    utimesSync(join(dir, 'epoch-01.luzckpt'), future, future);
    writeFileSync(join(dir, '.epoch-04.luzckpt.123.abcd.tmp'), 'partial');
    const t = firstEpoch();
    await run([luzCallbackResumeFromCheckpoint({ path: dir }), t.cb], 1);
    expect(t.seen.weights).toEqual(epoch1.seen.weights);
    expect(t.seen.weights).not.toEqual(values(fitted));
  });

  it('a missing path (or an empty directory) warns and trains from the initial state', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const fitted = await run([luzCallbackResumeFromCheckpoint({ path: join(tmp, 'nope.luzckpt') })], 1);
      expect(fitted.records.metrics.train).toHaveLength(1);
      mkdirSync(join(tmp, 'empty'));
      await run([luzCallbackResumeFromCheckpoint({ path: join(tmp, 'empty') })], 1);
      expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
        expect.stringMatching(/the checkpoint path '.*nope\.luzckpt' does not exist\. Training starts from the state initialized by default/),
        expect.stringMatching(/'.*empty' does not exist \(the directory is empty\)/),
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  it('a checkpoint of another model is an error naming the first mismatching weight', async () => {
    const dir = join(tmp, 'other');
    await run([saver(dir)], 1);
    const wide = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] }), {
      loss: (p, t) => tf.losses.meanSquaredError(t, tf.tile(t, [1, 2])),
      optimizer: () => tf.train.adam(0.05),
    });
    await expect(fit(wide, [x, y], { epochs: 1, verbose: false, accelerator: accelerator({ backend: 'cpu' }), callbacks: [luzCallbackResumeFromCheckpoint({ path: dir })] })).rejects.toThrow(
      /weight 1 is '0\.kernel' \[3, 1\] \(float32\) in the checkpoint but '0\.kernel' \[3, 2\]/,
    );
  });

  it('validates its options', () => {
    expect(() => luzCallbackResumeFromCheckpoint({} as never)).toThrow(/'path' must be a checkpoint file or a directory, got undefined/);
    expect(() => luzCallbackResumeFromCheckpoint({ path: 'x', restoreRecords: 'yes' } as never)).toThrow(/'restoreRecords' must be a boolean, got "yes"/);
    expect(() => luzCallbackResumeFromCheckpoint({ path: 'x', restore: true } as never)).toThrow(/unknown option 'restore'/);
  });
});
