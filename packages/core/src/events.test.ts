import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { evaluate, fit, predict, setup, luzCallback, stopTraining, interruptTraining, skipEpoch, LuzCallbackError } from './index.js';
import { cpu, getData, linearModule, recorder } from './test-utils/helpers.js';

const trainStep = ['onTrainBatchAfterPred', 'onTrainBatchAfterLoss', 'onTrainBatchBeforeBackward', 'onTrainBatchBeforeStep', 'onTrainBatchAfterStep'];
const validStep = ['onValidBatchAfterPred', 'onValidBatchAfterLoss'];

/** luz's event diagram (§3.1), written out independently of the loop. */
function expectedFit({ epochs, trainBatches, validBatches = 0, nOpt = 1, customStep = false }: { epochs: number; trainBatches: number; validBatches?: number; nOpt?: number; customStep?: boolean }): string[] {
  const out = ['onFitBegin'];
  for (let e = 0; e < epochs; e++) out.push(...expectedEpoch({ trainBatches, validBatches, nOpt, customStep }));
  out.push('onFitEnd');
  return out;
}

function expectedEpoch({ trainBatches, validBatches = 0, nOpt = 1, customStep = false }: { trainBatches: number; validBatches?: number; nOpt?: number; customStep?: boolean }): string[] {
  const out = ['onEpochBegin', 'onTrainBegin'];
  for (let b = 0; b < trainBatches; b++) {
    out.push('onTrainBatchBegin');
    if (!customStep) for (let o = 0; o < nOpt; o++) out.push(...trainStep);
    out.push('onTrainBatchEnd');
  }
  out.push('onTrainEnd');
  if (validBatches) out.push(...expectedValid(validBatches, nOpt, customStep));
  out.push('onEpochEnd');
  return out;
}

function expectedValid(batches: number, nOpt = 1, customStep = false): string[] {
  const out = ['onValidBegin'];
  for (let b = 0; b < batches; b++) {
    out.push('onValidBatchBegin');
    if (!customStep) for (let o = 0; o < nOpt; o++) out.push(...validStep);
    out.push('onValidBatchEnd');
  }
  out.push('onValidEnd');
  return out;
}

const base = { accelerator: cpu(), verbose: false, dataloaderOptions: { batchSize: 10 } };

function twoOptimizerModule() {
  return setup(() => {
    const w = tf.variable(tf.zeros([3, 1]), true, undefined);
    const b = tf.variable(tf.zeros([1]), true, undefined);
    return {
      forward: (x: tf.Tensor) => tf.add(tf.matMul(x as tf.Tensor2D, w), b),
      trainableVariables: () => [w, b],
      getWeights: () => [w, b],
      setWeights: ([nw, nb]: tf.Tensor[]) => { w.assign(nw); b.assign(nb); },
      loss: (pred: tf.Tensor, target: tf.Tensor) => tf.losses.meanSquaredError(target, pred),
      setOptimizers: () => ({ weight: { optimizer: tf.train.sgd(0.1), variables: [w] }, bias: { optimizer: tf.train.sgd(0.1), variables: [b] } }),
    };
  });
}

describe('event sequence (recording callback)', () => {
  it('fit without validation', async () => {
    const events: string[] = [];
    await fit(linearModule(), getData(30), { ...base, epochs: 2, callbacks: [recorder(events)] });
    expect(events).toEqual(expectedFit({ epochs: 2, trainBatches: 3 }));
  });

  it('fit with validation', async () => {
    const events: string[] = [];
    await fit(linearModule(), getData(30), { ...base, epochs: 2, validData: getData(15), callbacks: [recorder(events)] });
    expect(events).toEqual(expectedFit({ epochs: 2, trainBatches: 3, validBatches: 2 }));
  });

  it('fit with two optimizers repeats the inner step events per optimizer', async () => {
    const events: string[] = [];
    const names: string[] = [];
    const spy = luzCallback({ name: 'spy', onTrainBatchAfterLoss(ctx) { names.push(ctx.optName); }, onValidBatchAfterLoss(ctx) { names.push(`v:${ctx.optName}`); } });
    const data = getData(20, 3);
    const fitted = await fit(twoOptimizerModule(), data, { ...base, epochs: 1, validData: getData(10, 3), callbacks: [recorder(events), spy()] });
    expect(events).toEqual(expectedFit({ epochs: 1, trainBatches: 2, validBatches: 1, nOpt: 2 }));
    expect(names).toEqual(['weight', 'bias', 'weight', 'bias', 'v:weight', 'v:bias']);
    expect(Object.keys(fitted.records.metrics.train[0].loss)).toEqual(['weight', 'bias']);
  });

  it('fit with a custom step fires only the outer events', async () => {
    const events: string[] = [];
    const w = tf.variable(tf.zeros([10, 1]));
    const opt = tf.train.sgd(0.01);
    const module = setup(() => ({
      forward: (x: tf.Tensor) => tf.matMul(x as tf.Tensor2D, w),
      trainableVariables: () => [w],
      getWeights: () => [w],
      setWeights: ([v]: tf.Tensor[]) => w.assign(v),
      step(ctx) {
        const loss = () => tf.losses.meanSquaredError(ctx.target, ctx.model.forward(ctx.input, { training: ctx.training })) as tf.Scalar;
        if (ctx.training) {
          const value = opt.minimize(loss, true, [w])!;
          ctx.loss = { opt: value };
          ctx.pred = ctx.model.forward(ctx.input, { training: true });
        } else {
          ctx.pred = ctx.model.forward(ctx.input, { training: false });
          ctx.loss = { opt: loss() };
        }
      },
    }));
    const fitted = await fit(module, getData(20), { ...base, epochs: 2, validData: getData(10), callbacks: [recorder(events)] });
    expect(events).toEqual(expectedFit({ epochs: 2, trainBatches: 2, validBatches: 1, customStep: true }));
    expect(fitted.records.metrics.train).toHaveLength(2);
    expect(fitted.records.metrics.train[1].loss).toBeLessThan(fitted.records.metrics.train[0].loss as number);
  });

  it('evaluate fires the validation events only', async () => {
    const events: string[] = [];
    const fitted = await fit(linearModule(), getData(20), { ...base, epochs: 1 });
    await evaluate(fitted, getData(25), { ...base, callbacks: [recorder(events)] });
    expect(events).toEqual(expectedValid(3));
  });

  it('predict fires the predict events only', async () => {
    const events: string[] = [];
    const fitted = await fit(linearModule(), getData(20), { ...base, epochs: 1 });
    const pred = (await predict(fitted, getData(25)[0], { ...base, callbacks: [recorder(events)] })) as tf.Tensor;
    expect(events).toEqual(['onPredictBegin', ...Array(3).fill(['onPredictBatchBegin', 'onPredictBatchEnd']).flat(), 'onPredictEnd']);
    expect(pred.shape).toEqual([25, 1]);
  });
});

describe('stop paths', () => {
  it('stopTraining ends the loop, fires its event once, then onFitEnd; later callbacks miss that event', async () => {
    const events: string[] = [];
    const stopper = luzCallback({ name: 'stopper', onEpochEnd(ctx) { if (ctx.epoch === 2) stopTraining('onEarlyStopping'); } });
    const fitted = await fit(linearModule(), getData(20), { ...base, epochs: 5, callbacks: [stopper(), recorder(events)] });
    const epoch = expectedEpoch({ trainBatches: 2 });
    expect(events).toEqual(['onFitBegin', ...epoch, ...epoch.slice(0, -1), 'onEarlyStopping', 'onFitEnd']);
    expect(fitted.records.metrics.train).toHaveLength(2);
  });

  it('interruptTraining (Ctrl-C path) fires onInterrupt then onFitEnd and returns the epochs completed', async () => {
    const events: string[] = [];
    const stop = luzCallback({ name: 'interrupt_at_3', onEpochBegin(ctx) { if (ctx.epoch === 3) interruptTraining(); } });
    const fitted = await fit(linearModule(), getData(20), { ...base, epochs: 5, callbacks: [stop(), recorder(events)] });
    const epoch = expectedEpoch({ trainBatches: 2 });
    expect(events).toEqual(['onFitBegin', ...epoch, ...epoch, 'onInterrupt', 'onFitEnd']);
    expect(fitted.records.metrics.train).toHaveLength(2);
  });

  it('an AbortSignal interrupts after the current batch', async () => {
    const events: string[] = [];
    const controller = new AbortController();
    const abortAt = luzCallback({ name: 'abort', onTrainBatchBegin(ctx) { if (ctx.epoch === 2 && ctx.iter === 1) controller.abort(); } });
    await fit(linearModule(), getData(30), { ...base, epochs: 5, signal: controller.signal, callbacks: [abortAt(), recorder(events)] });
    const epoch = expectedEpoch({ trainBatches: 3 });
    const firstBatch = ['onTrainBatchBegin', ...trainStep, 'onTrainBatchEnd'];
    expect(events).toEqual(['onFitBegin', ...epoch, 'onEpochBegin', 'onTrainBegin', ...firstBatch, 'onInterrupt', 'onFitEnd']);
  });

  it('skipEpoch abandons the epoch body and continues', async () => {
    const events: string[] = [];
    const skip = luzCallback({ name: 'skip_2', onEpochBegin(ctx) { if (ctx.epoch === 2) skipEpoch(); } });
    const fitted = await fit(linearModule(), getData(20), { ...base, epochs: 3, callbacks: [skip(), recorder(events)] });
    const epoch = expectedEpoch({ trainBatches: 2 });
    expect(events).toEqual(['onFitBegin', ...epoch, ...epoch, 'onFitEnd']);
    expect(fitted.records.metrics.train.filter(Boolean)).toHaveLength(2);
  });

  it('an error is rethrown with the callback name and event, the original as cause, and no onFitEnd', async () => {
    const events: string[] = [];
    const boom = new Error('boom');
    const broken = luzCallback({ name: 'broken_callback', onEpochEnd() { throw boom; } });
    const err = await fit(linearModule(), getData(20), { ...base, epochs: 3, callbacks: [recorder(events), broken()] }).catch((e) => e);
    expect(err).toBeInstanceOf(LuzCallbackError);
    expect(err.message).toContain("'broken_callback'");
    expect(err.message).toContain('onEpochEnd');
    expect(err.cause).toBe(boom);
    expect(events.at(-1)).toBe('onEpochEnd');
    expect(events).not.toContain('onFitEnd');
  });

  it('a promise returned from a synchronous event is an error naming the callback and event', async () => {
    const bad = luzCallback({ name: 'async_after_loss', async onTrainBatchAfterLoss() {} });
    const err = await fit(linearModule(), getData(20), { ...base, epochs: 1, callbacks: [bad()] }).catch((e) => e);
    expect(err).toBeInstanceOf(LuzCallbackError);
    expect(err.message).toMatch(/async_after_loss.*onTrainBatchAfterLoss.*synchronous/s);
  });

  it('async handlers are awaited in order on the other events', async () => {
    const order: string[] = [];
    const slow = luzCallback({ name: 'slow', async onEpochEnd() { await new Promise((r) => setTimeout(r, 5)); order.push('slow'); } });
    const fast = luzCallback({ name: 'fast', onEpochEnd() { order.push('fast'); } });
    await fit(linearModule(), getData(20), { ...base, epochs: 1, callbacks: [slow(), fast()] });
    expect(order).toEqual(['slow', 'fast']);
  });
});

describe('ordering', () => {
  it('sorts stably by weight, defaults first, Infinity last', async () => {
    const order: string[] = [];
    const make = (name: string, weight?: number) => luzCallback({ name, weight, onFitBegin() { order.push(name); } })();
    const fitted = await fit(linearModule(), getData(20), { ...base, epochs: 1, callbacks: [make('inf', Infinity), make('a'), make('neg', -1), make('b')] });
    expect(order).toEqual(['neg', 'a', 'b', 'inf']);
    expect(fitted.records.metrics.train).toHaveLength(1);
  });

  it('custom events fired with ctx.callCallbacks reach every callback', async () => {
    const seen: string[] = [];
    const emitter = luzCallback({ name: 'emitter', async onEpochEnd(ctx) { await ctx.callCallbacks('onMyEvent'); } });
    const listener = luzCallback({ name: 'listener', onMyEvent(ctx) { seen.push(`epoch ${ctx.epoch}`); } });
    await fit(linearModule(), getData(20), { ...base, epochs: 2, callbacks: [emitter(), listener()] });
    expect(seen).toEqual(['epoch 1', 'epoch 2']);
  });
});
