import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DOMParser, type Element as XElement } from '@xmldom/xmldom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accelerator, fit, getMetrics, luzMetric, setup, type LuzModuleFitted } from '@luzts/core';
import { plotFit, plotFitSpec } from './index.js';
import { writePlotFit } from './node.js';

const dir = mkdtempSync(join(tmpdir(), 'luzts-plot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Parses SVG as XML, failing on any well-formedness error. */
function parseSvg(svg: string) {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, msg) => { if (level !== 'warning') errors.push(msg); } }).parseFromString(svg, 'image/svg+xml');
  expect(errors).toEqual([]);
  return doc;
}
const byRole = (doc: ReturnType<typeof parseSvg>, role: string) =>
  Array.from(doc.getElementsByTagName('path') as unknown as ArrayLike<XElement>).filter((p) => p.getAttribute('aria-roledescription') === role);

/** The value in a point's label; d3-format writes negatives with U+2212. */
const pointValue = (label: string) => Number(/value: ([^;]+)/.exec(label)![1].replace('\u2212', '-'));

const meanPred = luzMetric({
  abbrev: 'MeanPred',
  initialize() { this.sum = 0; this.n = 0; },
  update(p: tf.Tensor) { this.sum += p.sum().dataSync()[0]; this.n += p.size; },
  compute() { return this.sum / this.n; },
});

let fitted: LuzModuleFitted;
beforeAll(async () => {
  const module = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [5], units: 1 })] }), {
    loss: (p, t) => tf.losses.meanSquaredError(t, p),
    optimizer: () => tf.train.adam(0.05),
    metrics: [meanPred()],
  });
  const data: [tf.Tensor, tf.Tensor] = [tf.randomNormal([60, 5], 0, 1, 'float32', 1), tf.randomNormal([60, 1], 0, 1, 'float32', 2)];
  fitted = await fit(module, data, { epochs: 3, validData: 0.25, seed: 1, verbose: false, accelerator: accelerator({ backend: 'cpu' }), dataloaderOptions: { batchSize: 15 } });
});

describe('plotFit', () => {
  it('renders valid SVG with one line per metric and set, and one point per epoch', async () => {
    const svg = await plotFit(fitted);
    expect(svg.startsWith('<svg')).toBe(true);
    const doc = parseSvg(svg);
    expect(doc.documentElement!.tagName).toBe('svg');
    const lines = byRole(doc, 'line mark');
    expect(lines.map((l) => l.getAttribute('aria-label')).sort()).toEqual(['loss (train)', 'loss (valid)', 'meanpred (train)', 'meanpred (valid)']);
    // Each line goes through the 3 epochs: one move and two line-to commands.
    for (const l of lines) expect(l.getAttribute('d')!.match(/[ML]/g)).toEqual(['M', 'L', 'L']);
    // Every point is labelled with its epoch, value and set; together they are exactly getMetrics().
    const points = byRole(doc, 'point').map((p) => p.getAttribute('aria-label')!);
    const rows = getMetrics(fitted);
    expect(points).toHaveLength(rows.length);
    expect(rows).toHaveLength(12);
    for (const r of rows) {
      const hit = points.find((p) => p.includes(`epoch: ${r.epoch};`) && p.includes(`set: ${r.set}`) && Math.abs(pointValue(p) - r.value) < 1e-9);
      expect(hit, `${r.metric} ${r.set} ${r.epoch}`).toBeDefined();
    }
    // One panel per metric, each with its own y axis.
    expect(svg.match(/aria-roledescription="axis" aria-label="Y-axis/g)).toHaveLength(2);
  });

  it('sizes each panel by width and height', async () => {
    const svg = await plotFit(fitted, { width: 210, height: 90 });
    // Each metric's cell has a framed background of width x height.
    expect(svg.match(/class="background" aria-hidden="true" d="M0\.5,0\.5h210v90h-210Z" stroke="#ddd"/g)).toHaveLength(2);
    expect(svg).not.toContain('h400v150h');
  });

  it('writes the SVG to a file with @luzts/plot/node', async () => {
    const path = join(dir, 'metrics.svg');
    const svg = await writePlotFit(fitted, path);
    expect(readFileSync(path, 'utf8')).toBe(svg);
    parseSvg(svg);
  });

  it('plots a fit without validation, named (multi-optimizer) values as separate metrics, and skips non-finite values', async () => {
    const records = { metrics: { train: [{ loss: { gen: 1, disc: 2 } }, { loss: { gen: 0.5, disc: Infinity } }], valid: [] } };
    const doc = parseSvg(await plotFit({ records }));
    expect(byRole(doc, 'line mark').map((l) => l.getAttribute('aria-label')).sort()).toEqual(['loss.disc (train)', 'loss.gen (train)']);
    expect(byRole(doc, 'point')).toHaveLength(3);
  });

  it('rejects bad input naming the argument', async () => {
    await expect(plotFit(fitted, { width: -1 })).rejects.toThrow(/'width' must be a positive number of pixels, got -1/);
    await expect(plotFit(fitted, { colour: 'red' } as never)).rejects.toThrow(/unknown option 'colour'/);
    await expect(plotFit({ records: { metrics: { train: [], valid: [] } } })).rejects.toThrow(/no metrics to plot/);
    expect(() => plotFitSpec(undefined as never)).toThrow(/expected a fitted model/);
  });
});
