// Ports of luz's tests/testthat/test-module.R (spec §8), adapted to TypeScript names.
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { asDataloader, evaluate, fit, getMetrics, LuzError, LuzModuleFitted, luzCallback, predict, setHparams, setOptHparams, setup, luzMetric } from './index.js';
import { cpu, getData, linearModule } from './test-utils/helpers.js';

const base = { accelerator: cpu(), verbose: false };
afterEach(() => vi.restoreAllMocks());

const maeMetric = luzMetric({
  abbrev: 'MAE',
  initialize() { this.sum = tf.scalar(0); this.n = 0; },
  update(preds: tf.Tensor, target: tf.Tensor) { this.sum = this.sum.add(preds.sub(target).abs().sum()); this.n += target.size; },
  compute() { return this.sum.dataSync()[0] / this.n; },
});

describe('setup and fit', () => {
  it('fully managed fit returns a fitted module (setup returns a generator)', async () => {
    const module = linearModule();
    expect(module.kind).toBe('luz_module_generator');
    const fitted = await fit(module, getData(), { ...base, epochs: 2 });
    expect(fitted).toBeInstanceOf(LuzModuleFitted);
    expect(fitted.records.metrics.train).toHaveLength(2);
    expect(fitted.records.metrics.valid).toHaveLength(0);
  });

  it('a module with its own setOptimizers trains', async () => {
    const w = tf.variable(tf.zeros([10, 1]));
    const module = setup(() => ({
      forward: (x: tf.Tensor) => tf.matMul(x as tf.Tensor2D, w),
      trainableVariables: () => [w],
      getWeights: () => [w],
      setWeights: ([v]: tf.Tensor[]) => w.assign(v),
      setOptimizers: ({ lr }: Record<string, unknown>) => tf.train.sgd(lr as number),
    }), { loss: (p, t) => tf.losses.meanSquaredError(t, p) });
    const before = w.dataSync().slice();
    const fitted = await fit(setOptHparams(module, { lr: 0.1 }), getData(), { ...base, epochs: 1 });
    expect(Array.from(w.dataSync())).not.toEqual(Array.from(before));
    expect(fitted.ctx.optHparams).toEqual({ lr: 0.1 });
  });

  it('hparams and optHparams reach the factories and are kept in the fitted object', async () => {
    const seen: unknown[] = [];
    const module = setup(({ inputSize }) => {
      seen.push(inputSize);
      return tf.sequential({ layers: [tf.layers.dense({ inputShape: [inputSize as number], units: 1 })] });
    }, { loss: (p, t) => tf.losses.meanSquaredError(t, p), optimizer: ({ lr }) => tf.train.adam(lr as number) });
    const fitted = await fit(setOptHparams(setHparams(module, { inputSize: 10 }), { lr: 0.001 }), getData(), { ...base, epochs: 1 });
    expect(seen).toEqual([10]);
    expect(fitted.ctx.hparams.inputSize).toBe(10);
    expect(fitted.ctx.optHparams.lr).toBe(0.001);
  });

  it('a missing loss or optimizer is a clear error', async () => {
    const noLoss = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 1 })] }), { optimizer: () => tf.train.sgd(0.1) });
    await expect(fit(noLoss, getData(), base)).rejects.toThrow(/No loss function has been provided/);
    const noOpt = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 1 })] }), { loss: tf.losses.meanSquaredError });
    await expect(fit(noOpt, getData(), base)).rejects.toThrow(/No optimizer definition has been provided/);
  });

  it('a custom backward is called', async () => {
    const calls: string[] = [];
    const module = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 1 })] }), {
      loss: (p, t) => tf.losses.meanSquaredError(t, p),
      optimizer: () => tf.train.sgd(0.01),
      backward: (loss, ctx) => {
        if (ctx.iter === 1 && ctx.epoch === 1) calls.push('hello');
        return loss;
      },
    });
    await fit(module, getData(), { ...base, epochs: 1 });
    expect(calls).toEqual(['hello']);
  });

  it('ctx.device reports the backend and cannot be assigned', async () => {
    const seen: string[] = [];
    const assign = luzCallback({ name: 'assign_device', onFitBegin(ctx) { seen.push(ctx.device); (ctx as { device: string }).device = 'gpu'; } });
    await expect(fit(linearModule(), getData(), { ...base, epochs: 1, callbacks: [assign()] })).rejects.toThrow(/Not allowed to modify the device/);
    expect(seen).toEqual(['cpu']);
  });

  it('trains without validation data', async () => {
    const fitted = await fit(linearModule(), getData(), { ...base, epochs: 3 });
    expect(getMetrics(fitted).map((r) => r.set)).toEqual(['train', 'train', 'train']);
  });
});

describe('validation data and dataloader options', () => {
  it('validData: 0.1 creates a valid set; 100 rows, batch 2 → 45 training iterations', async () => {
    let iters = 0;
    const count = luzCallback({ name: 'count', onTrainBatchEnd() { iters += 1; } });
    const fitted = await fit(linearModule(), getData(100), { ...base, epochs: 1, validData: 0.1, dataloaderOptions: { batchSize: 2, shuffle: false }, callbacks: [count()] });
    expect(iters).toBe(45);
    expect(getMetrics(fitted).some((r) => r.set === 'valid')).toBe(true);
  });

  it.each([2, -1, 1, Number.NaN])('validData: %s is an error naming validData and the value', async (v) => {
    await expect(fit(linearModule(), getData(), { ...base, validData: v })).rejects.toThrow(new RegExp(`'validData'.*${String(v).replace('-', '\\-')}`));
  });

  it('validData: 0 trains on everything without validation (luz empties the training set)', async () => {
    let iters = 0;
    const count = luzCallback({ name: 'count', onTrainBatchEnd() { iters += 1; } });
    const fitted = await fit(linearModule(), getData(100), { ...base, epochs: 1, validData: 0, dataloaderOptions: { batchSize: 10 }, callbacks: [count()] });
    expect(iters).toBe(10);
    expect(fitted.records.metrics.valid).toHaveLength(0);
  });

  it('a fraction with a dataloader is an error mentioning the dataloader', async () => {
    const dl = asDataloader(getData(), { batchSize: 10 });
    await expect(fit(linearModule(), dl, { ...base, validData: 0.2 })).rejects.toThrow(/dataloader/);
  });

  it('dataloaderOptions with a dataloader as data is an error; with a dataloader as validData a warning', async () => {
    const dl = asDataloader(getData(), { batchSize: 10 });
    await expect(fit(linearModule(), dl, { ...base, dataloaderOptions: { batchSize: 2 } })).rejects.toThrow(/already a dataloader/);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await fit(linearModule(), getData(), { ...base, epochs: 1, validData: dl, dataloaderOptions: { batchSize: 20 } });
    expect(warn.mock.calls.flat().join(' ')).toMatch(/ignored for 'validData'/);
  });

  it('unknown options are errors naming the option', async () => {
    await expect(fit(linearModule(), getData(), { ...base, epoch: 3 } as never)).rejects.toThrow(/unknown option 'epoch'/);
    await expect(fit(linearModule(), getData(), { ...base, dataloaderOptions: { batch_size: 3 } as never })).rejects.toThrow(/unknown option 'batch_size'/);
  });

  it('epochs as [min, max] sets minEpochs and maxEpochs; min > max is an error', async () => {
    let seen: number[] = [];
    const spy = luzCallback({ name: 'spy', onFitBegin(ctx) { seen = [ctx.minEpochs, ctx.maxEpochs]; } });
    await fit(linearModule(), getData(), { ...base, epochs: [2, 3], callbacks: [spy()] });
    expect(seen).toEqual([2, 3]);
    await expect(fit(linearModule(), getData(), { ...base, epochs: [5, 3] })).rejects.toThrow(/minEpochs \(5\) is higher than maxEpochs \(3\)/);
    await expect(fit(linearModule(), getData(), { ...base, epochs: 1.5 })).rejects.toThrow(/'epochs'/);
  });

  it('an uninitialised callback is an error with a hint', async () => {
    const factory = luzCallback({ name: 'x', onFitBegin() {} });
    await expect(fit(linearModule(), getData(), { ...base, callbacks: [factory as never] })).rejects.toThrow(/Perhaps you forgot to call the callback factory/);
  });
});

describe('predict and evaluate', () => {
  it('predict returns (100, 1) and is deterministic across calls and loaders', async () => {
    const fitted = await fit(linearModule(), getData(), { ...base, epochs: 1 });
    const x = getData(100)[0];
    const p1 = (await predict(fitted, x, base)) as tf.Tensor;
    const p2 = (await predict(fitted, asDataloader(x, { batchSize: 7 }), base)) as tf.Tensor;
    expect(p1.shape).toEqual([100, 1]);
    expect(Array.from(p1.dataSync())).toEqual(Array.from(p2.dataSync()));
  });

  it('predict with batchSize 45 and dropLast on 100 rows gives 90 rows', async () => {
    const fitted = await fit(linearModule(), getData(), { ...base, epochs: 1 });
    const p = (await predict(fitted, getData(100), { ...base, dataloaderOptions: { batchSize: 45, dropLast: true } })) as tf.Tensor;
    expect(p.shape).toEqual([90, 1]);
  });

  it('predict warns for shuffle: true and for options with a dataloader; stack: false returns batches', async () => {
    const fitted = await fit(linearModule(), getData(), { ...base, epochs: 1 });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await predict(fitted, getData(20), { ...base, dataloaderOptions: { shuffle: true } });
    await predict(fitted, asDataloader(getData(20)), { ...base, dataloaderOptions: { batchSize: 2 } });
    const messages = warn.mock.calls.flat().join(' ');
    expect(messages).toMatch(/ignored for predictions/);
    expect(messages).toMatch(/already a dataloader/);
    const batches = (await predict(fitted, getData(20), { ...base, stack: false, dataloaderOptions: { batchSize: 8 } })) as tf.Tensor[];
    expect(batches.map((b) => b.shape[0])).toEqual([8, 8, 4]);
  });

  it('predict stacks multi-output models per output', async () => {
    const module = setup(() => {
      const input = tf.input({ shape: [10] });
      const a = tf.layers.dense({ units: 1 }).apply(input) as tf.SymbolicTensor;
      const b = tf.layers.dense({ units: 3 }).apply(input) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: [a, b] });
    }, { loss: (p: tf.Tensor[], t) => tf.losses.meanSquaredError(t, p[0]), optimizer: () => tf.train.sgd(0.01) });
    const fitted = await fit(module, getData(), { ...base, epochs: 1 });
    const [a, b] = (await predict(fitted, getData(50)[0], base)) as tf.Tensor[];
    expect(a.shape).toEqual([50, 1]);
    expect(b.shape).toEqual([50, 3]);
  });

  it('evaluate returns loss and metrics; evaluate({ metrics }) replaces them for that call only', async () => {
    const module = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 1 })] }), {
      loss: (p, t) => tf.losses.meanSquaredError(t, p),
      optimizer: () => tf.train.adam(0.01),
      metrics: [maeMetric()],
    });
    const fitted = await fit(module, getData(), { ...base, epochs: 1 });
    const data = getData(64);
    const ev = await evaluate(fitted, data, base);
    expect(getMetrics(ev).map((r) => r.metric)).toEqual(['loss', 'mae']);
    const only = await evaluate(fitted, data, { ...base, metrics: [] });
    expect(getMetrics(only).map((r) => r.metric)).toEqual(['loss']);
    const again = await evaluate(fitted, data, base);
    expect(getMetrics(again)).toEqual(getMetrics(ev));
    // Independent reference: MSE and MAE over the whole set.
    const pred = fitted.model.forward(data[0], { training: false }) as tf.Tensor;
    const mae = pred.sub(data[1]).abs().mean().dataSync()[0];
    expect(getMetrics(ev)[1].value).toBeCloseTo(mae, 5);
    expect(String(ev)).toMatch(/^A `luz_module_evaluation`[\s\S]*loss: [\d.]+\nmae: [\d.]+$/);
  });

  it('prints a summary of a fitted model', async () => {
    const fitted = await fit(linearModule(), getData(), { ...base, epochs: 2, validData: 0.2 });
    const text = String(fitted);
    expect(text).toContain('Total time:');
    expect(text).toMatch(/Training:\n\s+loss: [\d.]+/);
    expect(text).toMatch(/Validation:\n\s+loss: [\d.]+/);
    expect(text).toContain('11 trainable parameters');
  });

  it('bad arguments name the argument', async () => {
    expect(() => setup(tf.sequential() as never)).toThrow(/'moduleFactory' must be a function/);
    expect(() => setup(() => tf.sequential(), { loss: 'mse' as never })).toThrow(/'loss' must be a function/);
    await expect(predict({} as never, getData())).rejects.toThrow(LuzError);
  });
});
