import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { fit, luzCallback, LuzCallbackError, setup } from './index.js';
import { LuzContext } from './context.js';
import { LuzRng } from './rng.js';
import { cpu, getData, linearModule } from './test-utils/helpers.js';

const base = { accelerator: cpu(), verbose: false, dataloaderOptions: { batchSize: 10 } };

describe('ctx', () => {
  it('is sealed: writing an unknown field is an error pointing to ctx.buffers', async () => {
    const writer = luzCallback({ name: 'writer', onEpochBegin(ctx) { (ctx as unknown as Record<string, number>).myCounter = 1; } });
    const err = await fit(linearModule(), getData(20), { ...base, epochs: 1, callbacks: [writer()] }).catch((e) => e);
    expect(err).toBeInstanceOf(LuzCallbackError);
    expect(err.message).toMatch(/ctx has no field 'myCounter'.*ctx\.buffers/);
  });

  it('ctx.buffers is scratch space kept across events', async () => {
    const seen: number[] = [];
    const counter = luzCallback({
      name: 'counter',
      onFitBegin(ctx) { ctx.buffers.n = 0; },
      onTrainBatchEnd(ctx) { ctx.buffers.n = (ctx.buffers.n as number) + 1; },
      onFitEnd(ctx) { seen.push(ctx.buffers.n as number); },
    });
    await fit(linearModule(), getData(30), { ...base, epochs: 2, callbacks: [counter()] });
    expect(seen).toEqual([6]);
  });

  it('records are read-only and log/logMetric/getLog/getMetric behave like luz', () => {
    const ctx = new LuzContext('fit', new LuzRng(1));
    expect(() => { (ctx as { records: unknown }).records = {}; }).toThrow(/Not allowed to modify records manually/);
    ctx.epoch = 1;
    ctx.training = true;
    ctx.logMetric('loss', 1.5).logMetric('acc', 0.5);
    ctx.training = false;
    ctx.logMetric('loss', 2);
    expect(ctx.records.metrics.train).toEqual([{ loss: 1.5, acc: 0.5 }]);
    expect(ctx.getMetric('acc', 'train')).toBe(0.5);
    expect(ctx.getMetrics('valid', 1)).toEqual({ loss: 2 });
    ctx.log('lr', 'opt', 0.1);
    ctx.log('lr', 'opt', 0.05);
    ctx.log('lr', 'opt', 0.01, { index: 2 });
    expect(ctx.records.lr?.opt).toEqual([0.1, [0.05, 0.01]]);
    ctx.log('lr', 'opt', 0.2, { index: 2, append: false });
    expect(ctx.getLog('lr', 'opt')).toBe(0.2);
    expect(ctx.getLog('lr', 'missing')).toBeUndefined();
    expect(ctx.getFormattedMetrics('train')).toBe('loss: 1.5 - acc: 0.5');
  });

  it('opt and optName fall back to the single optimizer and error with several', async () => {
    const seen: string[] = [];
    const spy = luzCallback({ name: 'spy', onTrainBegin(ctx) { seen.push(ctx.optName, String(ctx.opt === ctx.optimizers.opt)); } });
    await fit(linearModule(), getData(20), { ...base, epochs: 1, callbacks: [spy()] });
    expect(seen).toEqual(['opt', 'true']);
    const ctx = new LuzContext('fit', new LuzRng(1));
    ctx.optimizers = { a: tf.train.sgd(1), b: tf.train.sgd(1) };
    expect(() => ctx.opt).toThrow(/ctx.opt is not set/);
  });

  it('input and target are views of batch[0] and batch[1]; iter counts from 1 and resets for validation', async () => {
    const iters: string[] = [];
    const spy = luzCallback({
      name: 'spy',
      onTrainBatchBegin(ctx) { iters.push(`t${ctx.iter}`); expect(ctx.input).toBe(ctx.batch[0]); ctx.target = ctx.target.mul(0); },
      onTrainBatchEnd(ctx) { expect((ctx.batch[1] as tf.Tensor).abs().sum().dataSync()[0]).toBe(0); },
      onValidBatchBegin(ctx) { iters.push(`v${ctx.iter}`); },
    });
    await fit(linearModule(), getData(20), { ...base, epochs: 1, validData: getData(20), callbacks: [spy()] });
    expect(iters).toEqual(['t1', 't2', 'v1', 'v2']);
  });

  it('ctx.training is true while training and false in validation; the model sees it', async () => {
    const modes: boolean[] = [];
    const module = setup(() => {
      const w = tf.variable(tf.ones([10, 1]));
      return {
        forward: (x: tf.Tensor, { training }: { training: boolean }) => { modes.push(training); return tf.matMul(x as tf.Tensor2D, w); },
        trainableVariables: () => [w], getWeights: () => [w], setWeights: ([v]: tf.Tensor[]) => w.assign(v),
      };
    }, { loss: (p, t) => tf.losses.meanSquaredError(t, p), optimizer: () => tf.train.sgd(0.01) });
    await fit(module, getData(10), { ...base, epochs: 1, validData: getData(10) });
    expect(modes).toEqual([true, false]);
  });

  it('gradients are exposed in onTrainBatchBeforeStep and replacing them changes the step', async () => {
    const names: string[][] = [];
    const zeroGrads = luzCallback({
      name: 'zero_grads',
      onTrainBatchBeforeStep(ctx) {
        names.push(Object.keys(ctx.grads!));
        for (const k of Object.keys(ctx.grads!)) ctx.grads![k] = tf.zerosLike(ctx.grads![k]);
      },
    });
    const fitted = await fit(linearModule(), getData(20), { ...base, epochs: 3, callbacks: [zeroGrads()] });
    const losses = fitted.records.metrics.train.map((m) => m.loss);
    expect(names[0]).toHaveLength(2);
    // Zero gradients: Adam moves nothing, so every epoch sees the same loss (up to summation order).
    for (const l of losses) expect(l as number).toBeCloseTo(losses[0] as number, 6);
  });
});
