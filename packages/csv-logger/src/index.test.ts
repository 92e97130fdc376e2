import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { accelerator, fit, getMetrics, luzCallback, luzMetric, luzMetricSet, setup, stopTraining, LuzCallbackError, LuzError, type SetupOptions } from '@luzts/core';
import { luzCallbackCsvLogger, quoteField } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'luzts-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cpu = () => accelerator({ backend: 'cpu' });
const data = (n = 100): [tf.Tensor, tf.Tensor] => [tf.randomNormal([n, 10], 0, 1, 'float32', 1), tf.randomNormal([n, 1], 0, 1, 'float32', 2)];
const linear = (metrics?: SetupOptions['metrics']) =>
  setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 1 })] }), {
    loss: (p, t) => tf.losses.meanSquaredError(t, p),
    optimizer: () => tf.train.adam(0.01),
    metrics,
  });
const opts = { accelerator: cpu(), verbose: false, dataloaderOptions: { batchSize: 25 }, seed: 1 };

/** An independent RFC 4180 reader (quoted fields, doubled quotes, commas and newlines inside quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}
const readCsv = (path: string) => parseCsv(readFileSync(path, 'utf8'));

describe('luzCallbackCsvLogger (luz test-callbacks.R)', () => {
  it('writes 5 rows epoch,set,loss for 5 epochs without validation, then a new instance overwrites with 10 rows', async () => {
    const path = join(dir, 'log.csv');
    const d = data();
    const fitted = await fit(linear(), d, { ...opts, epochs: 5, callbacks: [luzCallbackCsvLogger({ path })] });
    const rows = readCsv(path);
    expect(rows[0]).toEqual(['epoch', 'set', 'loss']);
    expect(rows.slice(1)).toHaveLength(5);
    // Each row holds exactly the recorded metric (shortest round-trip form, so parsing gives the same number).
    const expected = getMetrics(fitted).map((r) => [String(r.epoch), r.set, r.value]);
    expect(rows.slice(1).map(([e, s, v]) => [e, s, Number(v)])).toEqual(expected);

    await fit(linear(), d, { ...opts, epochs: 5, validData: 0.2, callbacks: [luzCallbackCsvLogger({ path })] });
    const rows2 = readCsv(path);
    expect(rows2[0]).toEqual(['epoch', 'set', 'loss']);
    expect(rows2.slice(1)).toHaveLength(10);
    expect(rows2.slice(1, 3).map((r) => r.slice(0, 2))).toEqual([['1', 'train'], ['1', 'valid']]);
  });

  it('has as many rows as getMetrics when training stops early (luz test-callbacks-monitor-metrics.R), and appends when the instance is reused', async () => {
    const path = join(dir, 'stop.csv');
    const stopAt3 = luzCallback({ name: 'stop', weight: Infinity, onEpochEnd(ctx) { if (ctx.epoch === 3) stopTraining('onEarlyStopping'); } });
    const logger = luzCallbackCsvLogger({ path });
    const fitted = await fit(linear(), data(), { ...opts, epochs: 5, validData: 0.2, callbacks: [logger, stopAt3()] });
    const rows = readCsv(path).slice(1);
    expect(rows).toHaveLength(getMetrics(fitted).length);
    expect(rows.map((r) => r[0])).toEqual(['1', '1', '2', '2', '3', '3']);
    // Reusing the instance appends without a second header (luz's `append <- TRUE`).
    await fit(linear(), data(), { ...opts, epochs: 2, callbacks: [logger] });
    expect(readCsv(path).map((r) => r[0])).toEqual(['epoch', '1', '1', '2', '2', '3', '3', '1', '2']);
  });

  it('flushes rows every epoch: a crash during epoch 3 leaves epochs 1 and 2 on disk', async () => {
    const path = join(dir, 'crash.csv');
    const crash = luzCallback({ name: 'crash', onTrainBatchBegin(ctx) { if (ctx.epoch === 3) throw new Error('boom'); } });
    await expect(fit(linear(), data(), { ...opts, epochs: 5, callbacks: [luzCallbackCsvLogger({ path }), crash()] })).rejects.toThrow(/boom/);
    expect(readCsv(path)).toHaveLength(3);
  });
});

const constMetric = (abbrev: string, value: number) =>
  luzMetric({ abbrev, update() {}, compute() { return value; } });

describe('luzCallbackCsvLogger: columns', () => {
  it('aligns columns when train and valid have different metrics (union, empty cells)', async () => {
    const path = join(dir, 'misaligned.csv');
    const metrics = luzMetricSet({ trainMetrics: [constMetric('MSE', 2)()], validMetrics: [constMetric('MAE', 3)()] });
    await fit(linear(metrics), data(), { ...opts, epochs: 2, validData: 0.2, callbacks: [luzCallbackCsvLogger({ path })] });
    const rows = readCsv(path);
    expect(rows[0]).toEqual(['epoch', 'set', 'loss', 'mse', 'mae']);
    expect(rows.slice(1).map((r) => [r[0], r[1], r[3], r[4]])).toEqual([
      ['1', 'train', '2', ''], ['1', 'valid', '', '3'], ['2', 'train', '2', ''], ['2', 'valid', '', '3'],
    ]);
    expect(rows.every((r) => r.length === 5)).toBe(true);
  });

  it('rewrites the file with a widened header when a metric appears mid-run', async () => {
    const path = join(dir, 'widen.csv');
    const extra = luzCallback({
      name: 'extra', weight: -1,
      onEpochEnd(ctx) { if (ctx.epoch >= 2) ctx.log('metrics', 'train', { extra: ctx.epoch * 10 }, { index: ctx.epoch }); },
    });
    await fit(linear(), data(), { ...opts, epochs: 3, callbacks: [luzCallbackCsvLogger({ path }), extra()] });
    const rows = readCsv(path);
    expect(rows[0]).toEqual(['epoch', 'set', 'loss', 'extra']);
    expect(rows.slice(1).map((r) => [r[0], r[3]])).toEqual([['1', ''], ['2', '20'], ['3', '30']]);
  });

  it('flattens named values of several optimizers into loss.<name> columns', async () => {
    const path = join(dir, 'named.csv');
    const module = setup(
      () => {
        const w = tf.variable(tf.zeros([10, 1]));
        const b = tf.variable(tf.zeros([1]));
        return {
          forward: (x: tf.Tensor) => tf.add(tf.matMul(x as tf.Tensor2D, w), b),
          trainableVariables: () => [w, b],
          getWeights: () => [w, b],
          setWeights: ([a, c]: tf.Tensor[]) => { w.assign(a); b.assign(c); },
          setOptimizers: () => ({ weight: { optimizer: tf.train.sgd(0.01), variables: [w] }, bias: { optimizer: tf.train.sgd(0.01), variables: [b] } }),
          dispose: () => { w.dispose(); b.dispose(); },
        };
      },
      { loss: (p, t) => tf.losses.meanSquaredError(t, p) },
    );
    const fitted = await fit(module, data(), { ...opts, epochs: 2, validData: 0.2, callbacks: [luzCallbackCsvLogger({ path })] });
    const rows = readCsv(path);
    expect(rows[0]).toEqual(['epoch', 'set', 'loss.weight', 'loss.bias']);
    expect(rows).toHaveLength(5);
    const rec = fitted.records.metrics.valid[1].loss as Record<string, number>;
    expect(rows[4].slice(1).map((x, i) => (i === 0 ? x : Number(x)))).toEqual(['valid', rec.weight, rec.bias]);
  });

  it('quotes fields per RFC 4180', async () => {
    expect(quoteField('plain')).toBe('plain');
    expect(quoteField('a,b')).toBe('"a,b"');
    expect(quoteField('say "hi"')).toBe('"say ""hi"""');
    expect(quoteField('two\nlines')).toBe('"two\nlines"');
    expect(quoteField(0.25)).toBe('0.25');
    const path = join(dir, 'quoted.csv');
    const metrics = [constMetric('Odd, "name"', 1.5)()];
    await fit(linear(metrics), data(), { ...opts, epochs: 1, callbacks: [luzCallbackCsvLogger({ path })] });
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')[0]).toBe('epoch,set,loss,"odd, ""name"""');
    expect(readCsv(path)[0]).toEqual(['epoch', 'set', 'loss', 'odd, "name"']);
    expect(readCsv(path)[1][3]).toBe('1.5');
  });
});

describe('luzCallbackCsvLogger: errors and memory', () => {
  it('fails at onFitBegin on an unwritable path, before training', async () => {
    const trained = { n: 0 };
    const count = luzCallback({ name: 'count', onTrainBatchBegin() { trained.n++; } });
    const missing = join(dir, 'no', 'such', 'dir', 'log.csv');
    const err = await fit(linear(), data(), { ...opts, epochs: 1, callbacks: [luzCallbackCsvLogger({ path: missing }), count()] }).catch((e) => e);
    expect(err).toBeInstanceOf(LuzCallbackError);
    expect(err.event).toBe('onFitBegin');
    expect(err.cause).toBeInstanceOf(LuzError);
    expect(err.message).toContain(missing);
    const err2 = await fit(linear(), data(), { ...opts, epochs: 1, callbacks: [luzCallbackCsvLogger({ path: dir })] }).catch((e) => e);
    expect(err2.message).toMatch(/is a directory/);
    expect(trained.n).toBe(0);
  });

  it('rejects bad options naming the argument', () => {
    expect(() => luzCallbackCsvLogger({} as never)).toThrow(/'path' must be a non-empty string.*undefined/);
    expect(() => luzCallbackCsvLogger({ path: 'x.csv', append: true } as never)).toThrow(/unknown option 'append'/);
  });

  it('does not leak tensors', async () => {
    const path = join(dir, 'mem.csv');
    const counts: number[] = [];
    const probe = luzCallback({ name: 'probe', weight: Infinity, onEpochEnd() { counts.push(tf.memory().numTensors); } });
    writeFileSync(path, 'old content\n');
    await fit(linear(), data(), { ...opts, epochs: 4, validData: 0.2, callbacks: [luzCallbackCsvLogger({ path }), probe()] });
    expect(counts[3]).toBe(counts[0]);
    expect(readFileSync(path, 'utf8')).not.toContain('old content');
  });
});
