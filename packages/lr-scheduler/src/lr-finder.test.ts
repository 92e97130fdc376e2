import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accelerator, setup } from '@luzts/core';
import { lrFinder, lrFinderSvg, smoothLosses, suggestLr } from './index.js';
import { plotLrFinder } from './node.js';

let x: tf.Tensor;
let y: tf.Tensor;

beforeAll(() => {
  // y = x·w + small noise: the loss falls once the lr is large enough, then diverges.
  x = tf.randomNormal([64, 4], 0, 1, 'float32', 3);
  const w = tf.tensor2d([[1], [-2], [0.5], [3]]);
  y = tf.tidy(() => tf.matMul(x, w).add(tf.randomNormal([64, 1], 0, 0.1, 'float32', 4)));
  w.dispose();
});
afterAll(() => tf.dispose([x, y]));

const module = () =>
  setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 1, kernelInitializer: 'zeros' })] }), {
    loss: (pred, target) => tf.losses.meanSquaredError(target, pred),
    optimizer: ({ lr }) => tf.train.sgd(lr as number),
  });

const opts = { accelerator: accelerator({ backend: 'cpu' }), dataloaderOptions: { batchSize: 8 }, seed: 1 };

describe('lrFinder', () => {
  it('returns exactly `steps` rows with log-spaced lrs from startLr·m to endLr, over several epochs', async () => {
    const before = tf.memory().numTensors;
    // 64 rows / batch 8 = 8 batches per epoch: 30 steps need 4 epochs.
    const records = await lrFinder(module(), [x, y], { ...opts, steps: 30, startLr: 1e-4, endLr: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(records).toHaveLength(30);
    const m = (1 / 1e-4) ** (1 / 30);
    records.forEach((r, i) => expect(r.lr).toBeCloseTo(1e-4 * m ** (i + 1), 12));
    expect(records[0].lr).toBeCloseTo(1e-4 * m, 15);
    expect(records[29].lr).toBe(1);
    for (let i = 1; i < 30; i++) expect(records[i].lr).toBeGreaterThan(records[i - 1].lr);
    expect(records.every((r) => Number.isFinite(r.loss) || Number.isNaN(r.loss) || r.loss === Infinity)).toBe(true);

    // Smoothed loss by hand: avg_i = 0.9 avg_{i-1} + 0.1 loss_i, smoothed_i = avg_i / (1 - 0.9^i).
    let avg = 0;
    records.forEach((r, i) => {
      avg = 0.9 * avg + 0.1 * r.loss;
      if (Number.isFinite(avg)) expect(r.smoothedLoss).toBeCloseTo(avg / (1 - 0.9 ** (i + 1)), 10);
    });

    // The suggestion lies inside the range, where the loss is falling.
    expect(records.suggestedLr).toBeGreaterThanOrEqual(1e-4);
    expect(records.suggestedLr).toBeLessThanOrEqual(1);
    const at = records.findIndex((r) => r.lr === records.suggestedLr);
    expect(at).toBeGreaterThan(0);
    expect(records[at + 1].smoothedLoss).toBeLessThan(records[at - 1].smoothedLoss);
  });

  it('spaces the lrs evenly with logSpacedIntervals: false', async () => {
    const records = await lrFinder(module(), [x, y], { ...opts, steps: 10, startLr: 0.01, endLr: 0.11, logSpacedIntervals: false });
    expect(records.map((r) => Number(r.lr.toFixed(10)))).toEqual([0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.11]);
  });

  it('validates its options', async () => {
    await expect(lrFinder(module(), [x, y], { steps: 0 })).rejects.toThrow(/'steps' must be an integer >= 1, got 0/);
    await expect(lrFinder(module(), [x, y], { startLr: 1, endLr: 0.5 })).rejects.toThrow(/'endLr' must be a number > 1, got 0.5/);
    await expect(lrFinder(module(), [x, y], { epochs: 3 } as never)).rejects.toThrow(/unknown option 'epochs'/);
  });
});

describe('smoothLosses / suggestLr', () => {
  it('smooths with bias correction', () => {
    expect(smoothLosses([2, 2, 2])).toEqual([2, 2, 2].map((v) => expect.closeTo(v, 12) as unknown as number));
    const s = smoothLosses([1, 3]);
    expect(s[0]).toBeCloseTo(1, 12);
    expect(s[1]).toBeCloseTo((0.9 * 0.1 + 0.1 * 3) / (1 - 0.81), 12);
  });

  it('finds the steepest descent against log10(lr) and ignores the diverged tail', () => {
    // Loss = 1 - tanh(2·(log10 lr + 2.5)) up to log10 lr = -1, then it explodes.
    const records = Array.from({ length: 101 }, (_, i) => {
      const e = -5 + (5 * i) / 100;
      const smoothedLoss = e <= -1 ? 1 - Math.tanh(2 * (e + 2.5)) : 1e3 * (e + 2);
      return { lr: 10 ** e, smoothedLoss };
    });
    expect(Math.log10(suggestLr(records))).toBeCloseTo(-2.5, 6);
    expect(suggestLr(records.slice(0, 2))).toBeNaN();
  });
});

describe('SVG plot', () => {
  const records = Array.from({ length: 50 }, (_, i) => {
    const lr = 1e-6 * 10 ** (i / 10);
    return { lr, loss: 2 - Math.tanh(Math.log10(lr) + 3) + (i % 3) * 0.05 + (i > 45 ? 50 : 0) };
  });

  it('is well-formed XML with a log lr axis, both curves and the labels', () => {
    const svg = lrFinderSvg(records, { title: 'LR <finder> & co' });
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(svg);
    expect(doc.svg['@_xmlns']).toBe('http://www.w3.org/2000/svg');
    expect(svg).toContain('Learning Rate');
    expect(svg).toContain('>Loss<');
    expect(svg).toContain('LR &lt;finder&gt; &amp; co');
    // Decade ticks 1e-6 ... 1e-2 on the log axis.
    for (const d of [-6, -5, -4, -3, -2]) expect(svg).toContain(`>1e${d}<`);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toMatch(/suggested: /);
  });

  it('plotLrFinder writes the file (Node entry)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lr-finder-'));
    const path = join(dir, 'lr.svg');
    const svg = await plotLrFinder(records, path);
    const text = await readFile(path, 'utf8');
    expect(text).toBe(svg);
    expect(XMLValidator.validate(text)).toBe(true);
    await rm(dir, { recursive: true });
  });

  it('handles records without any finite loss', () => {
    const svg = lrFinderSvg([{ lr: 0.1, loss: NaN }]);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('No finite loss');
  });
});
