/**
 * `evaluate()` and `predict()` of a fitted model.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { Accelerator } from './accelerator.js';
import type { LuzCallback } from './callback.js';
import type { DataloaderOptions, LuzData, LuzDataloader } from './data.js';
import { isDataloader } from './data.js';
import { LuzError, LuzInterruptSignal, checkOptionKeys, describe } from './errors.js';
import { loaderFor, makeContext, resolveLoss } from './fit.js';
import { LuzModuleEvaluation, LuzModuleFitted } from './fitted.js';
import { forEachBatch, tensorsIn, validLoop, validOneBatch } from './loop.js';
import { isLuzMetricSet, luzMetricSet, type LuzMetricGenerator, type LuzMetricSet } from './metric.js';

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Metrics for this evaluation only (the loss is always included). Default: the module's. */
  metrics?: LuzMetricGenerator[] | LuzMetricSet;
  /** Extra callbacks. Default none. */
  callbacks?: LuzCallback[];
  /** The backend. Default `accelerator()`. */
  accelerator?: Accelerator;
  /** Print progress. Default: whether stdout is a terminal. */
  verbose?: boolean;
  /** Loader options (`batchSize` 32, never shuffled). */
  dataloaderOptions?: DataloaderOptions;
  /** Aborting it stops after the current batch. */
  signal?: AbortSignal;
}

/** Options of {@link predict}. */
export interface PredictOptions {
  /** Concatenate per-batch outputs along the batch axis (per output for multi-output models). Default true. */
  stack?: boolean;
  /** Extra callbacks. Default none. */
  callbacks?: LuzCallback[];
  /** The backend. Default `accelerator()`. */
  accelerator?: Accelerator;
  /** Print progress. Default: whether stdout is a terminal. */
  verbose?: boolean;
  /** Loader options (`batchSize` 32, never shuffled; `dropLast` as given). */
  dataloaderOptions?: DataloaderOptions;
  /** Aborting it stops after the current batch (the predictions so far are returned). */
  signal?: AbortSignal;
}

function checkFitted(where: string, object: unknown): asserts object is LuzModuleFitted {
  if (!(object instanceof LuzModuleFitted)) throw new LuzError(`${where}: expected a fitted model returned by fit(), got ${describe(object)}.`);
}

function predictionLoader(where: string, data: LuzData, options: DataloaderOptions | undefined, owned: LuzDataloader[], rng: import('./rng.js').LuzRng): LuzDataloader {
  if (options !== undefined && isDataloader(data)) {
    console.warn(`luzts: ${where}: 'dataloaderOptions' will be ignored since 'data' is already a dataloader.`);
    return loaderFor(where, data, undefined, { shuffle: false, dropLast: false }, rng, owned);
  }
  if (options?.shuffle) console.warn(`luzts: ${where}: 'shuffle: true' will be ignored for predictions.`);
  return loaderFor(where, data, { ...options, shuffle: false }, { shuffle: false, dropLast: false }, rng, owned);
}

/**
 * Computes the loss and metrics of a fitted model on data (luz's `evaluate`), logged as the
 * `valid` set of epoch 1.
 *
 * @example
 * ```ts
 * const ev = await evaluate(fitted, [xTest, yTest], { metrics: [luzMetricMae()] });
 * console.log(String(ev)); // loss: 1.5146, mae: 1.0251
 * ```
 */
export async function evaluate(object: LuzModuleFitted, data: LuzData, options: EvaluateOptions = {}): Promise<LuzModuleEvaluation> {
  checkFitted('evaluate()', object);
  checkOptionKeys('evaluate()', options, ['metrics', 'callbacks', 'accelerator', 'verbose', 'dataloaderOptions', 'signal']);
  const ctx = await makeContext('evaluate', options);
  const loaders: LuzDataloader[] = [];
  try {
    ctx.model = object.model;
    ctx.hparams = object.ctx.hparams;
    ctx.optHparams = object.ctx.optHparams;
    ctx.training = false;
    ctx.epoch = 1;
    const loss = resolveLoss(object.generator, object.model, ctx);
    if (!loss && !object.model.step) throw new LuzError('evaluate(): the module has no loss function.');
    ctx.lossFn = loss!;
    ctx.metricSet = options.metrics === undefined ? object.generator.metrics : isLuzMetricSet(options.metrics) ? options.metrics : luzMetricSet({ metrics: options.metrics });
    ctx.data = predictionLoader('evaluate()', data, options.dataloaderOptions, loaders, ctx.rng);
    ctx.validData = ctx.data;
    const names = object.optimizerNames.length ? object.optimizerNames : ['opt'];
    const step = object.model.step ? async () => object.model.step!(ctx) : async () => validOneBatch(ctx, names);
    try {
      await validLoop(ctx, step);
    } catch (e) {
      if (!(e instanceof LuzInterruptSignal)) throw e;
      await ctx.callCallbacks('onInterrupt');
    }
    return new LuzModuleEvaluation(ctx.records);
  } finally {
    ctx.runCleanups();
    ctx.metrics.valid.forEach((m) => m.dispose());
    loaders.forEach((l) => l.dispose());
  }
}

function stackPredictions(preds: unknown[]): unknown {
  if (preds.length === 0) throw new LuzError('predict(): no batches were predicted, nothing to stack. Use stack: false to get an empty list.');
  const first = preds[0];
  if (first instanceof tf.Tensor) return tf.concat(preds as tf.Tensor[], 0);
  if (Array.isArray(first) && first.every((t) => t instanceof tf.Tensor)) {
    return first.map((_, i) => tf.concat(preds.map((p) => (p as tf.Tensor[])[i]), 0));
  }
  throw new LuzError(`predict(): can't stack predictions that are ${describe(first)}; use stack: false to get the per-batch outputs.`);
}

/**
 * Predicts on new data (luz's `predict`): the model's `predict` method if it has one, else its
 * forward pass in inference mode. Only `batch[0]` is used; targets are ignored.
 *
 * @returns a tensor (or one per output) when `stack` (default), else the list of per-batch outputs.
 * @example
 * ```ts
 * const pred = (await predict(fitted, xTest, { dataloaderOptions: { batchSize: 256 } })) as tf.Tensor;
 * ```
 */
export async function predict(object: LuzModuleFitted, newdata: LuzData, options: PredictOptions = {}): Promise<tf.Tensor | tf.Tensor[] | unknown[]> {
  checkFitted('predict()', object);
  checkOptionKeys('predict()', options, ['stack', 'callbacks', 'accelerator', 'verbose', 'dataloaderOptions', 'signal']);
  const stack = options.stack ?? true;
  const ctx = await makeContext('predict', options);
  const loaders: LuzDataloader[] = [];
  const outputs: unknown[] = [];
  try {
    ctx.model = object.model;
    ctx.hparams = object.ctx.hparams;
    ctx.optHparams = object.ctx.optHparams;
    ctx.training = false;
    ctx.pred = outputs;
    ctx.data = predictionLoader('predict()', newdata, options.dataloaderOptions, loaders, ctx.rng);
    const model = object.model;
    const predictFn = model.predict ? (x: unknown) => model.predict!(x) : (x: unknown) => model.forward(x, { training: false });
    await ctx.callCallbacks('onPredictBegin');
    try {
      await forEachBatch(
        ctx,
        ctx.data,
        async () => {
          await ctx.callCallbacks('onPredictBatchBegin');
          const out = predictFn(ctx.input);
          tensorsIn(out).forEach((t) => tf.keep(t));
          outputs.push(out);
          await ctx.callCallbacks('onPredictBatchEnd');
        },
        false,
      );
    } catch (e) {
      if (!(e instanceof LuzInterruptSignal)) throw e;
      await ctx.callCallbacks('onInterrupt');
    }
    await ctx.callCallbacks('onPredictEnd');
    if (!stack) return outputs;
    const stacked = stackPredictions(outputs);
    tf.dispose(tensorsIn(outputs));
    return stacked as tf.Tensor | tf.Tensor[];
  } catch (e) {
    tf.dispose(tensorsIn(outputs));
    throw e;
  } finally {
    ctx.runCleanups();
    loaders.forEach((l) => l.dispose());
  }
}
