/**
 * `fit()`: luz's training loop.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { accelerator as makeAccelerator, type Accelerator } from './accelerator.js';
import { CallbackDispatcher, orderCallbacks, type LuzCallback } from './callback.js';
import { luzCallbackInterrupt } from './callbacks/interrupt.js';
import { luzCallbackMetrics } from './callbacks/metrics.js';
import { luzCallbackProfile } from './callbacks/profile.js';
import { luzCallbackProgress } from './callbacks/progress.js';
import { luzCallbackTrainValid } from './callbacks/train-valid.js';
import { isTTY } from './callbacks/output.js';
import { LuzContext, type ContextMode } from './context.js';
import { asDataloader, checkDataloaderOptions, isDataloader, splitTuple, type DataloaderOptions, type LuzData, type LuzDataloader } from './data.js';
import { LuzError, LuzInterruptSignal, LuzSkipEpochSignal, LuzStopTrainingSignal, checkOptionKeys, describe } from './errors.js';
import { LuzModuleFitted } from './fitted.js';
import { forEachBatch, trainOneBatch, validLoop, validOneBatch } from './loop.js';
import { asLuzModule, buildOptimizers, checkGenerator, type LossFn, type LuzModule, type LuzModuleGenerator } from './module.js';
import { LuzRng } from './rng.js';

/** Options of {@link fit}. */
export interface FitOptions {
  /** Number of epochs, or `[minEpochs, maxEpochs]`. Default 10. */
  epochs?: number | [number, number];
  /** Callbacks, added after the defaults and sorted by weight. Default none. */
  callbacks?: LuzCallback[];
  /** Validation data, or a fraction in [0, 1) of `data` split off at random. Default none. */
  validData?: LuzData | number;
  /** The backend. Default `accelerator()` (auto). */
  accelerator?: Accelerator;
  /** Print progress. Default: whether stdout is a terminal. */
  verbose?: boolean;
  /** Loader options (`batchSize` 32; training shuffles and drops the last incomplete batch). */
  dataloaderOptions?: DataloaderOptions;
  /** Seed for shuffling, the validation split and callbacks' random draws. Default: random. */
  seed?: number;
  /** Aborting it interrupts training after the current batch. */
  signal?: AbortSignal;
}

const FIT_KEYS = ['epochs', 'callbacks', 'validData', 'accelerator', 'verbose', 'dataloaderOptions', 'seed', 'signal'] as const;

/**
 * Frees an optimizer. tfjs's MomentumOptimizer.dispose forgets the learning-rate scalar it inherits
 * from SGD (`c`), which would leak one tensor per fit.
 */
function disposeOptimizer(opt: tf.Optimizer): void {
  opt.dispose();
  const cached = (opt as unknown as { c?: tf.Tensor }).c;
  if (cached instanceof tf.Tensor && !cached.isDisposed) cached.dispose();
}

/** The default callbacks of each kind of run, in luz's order. */
export function defaultCallbacks(mode: ContextMode): LuzCallback[] {
  if (mode === 'fit') return [luzCallbackProfile(), luzCallbackTrainValid(), luzCallbackMetrics(), luzCallbackProgress(), luzCallbackInterrupt()];
  if (mode === 'evaluate') return [luzCallbackProfile(), luzCallbackMetrics(), luzCallbackProgress(), luzCallbackInterrupt()];
  return [luzCallbackProgress(), luzCallbackInterrupt()];
}

function parseEpochs(epochs: unknown): [number, number] {
  const isCount = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  if (isCount(epochs)) return [0, epochs as number];
  if (Array.isArray(epochs) && epochs.length === 2 && epochs.every(isCount)) {
    const [min, max] = epochs as [number, number];
    if (min > max) throw new LuzError(`'epochs': minEpochs (${min}) is higher than maxEpochs (${max}) and that's not allowed.`);
    return [min, max];
  }
  throw new LuzError(`'epochs' must be a non-negative integer or [minEpochs, maxEpochs], got ${describe(epochs)}.`);
}

/** Shared set-up of a context: callbacks, verbosity, accelerator. @internal */
export async function makeContext(mode: ContextMode, options: { callbacks?: unknown; verbose?: boolean; accelerator?: Accelerator; seed?: number; signal?: AbortSignal }): Promise<LuzContext> {
  if (options.seed !== undefined && (typeof options.seed !== 'number' || !Number.isFinite(options.seed))) {
    throw new LuzError(`'seed' must be a finite number, got ${describe(options.seed)}.`);
  }
  if (options.verbose !== undefined && typeof options.verbose !== 'boolean') {
    throw new LuzError(`'verbose' must be a boolean, got ${describe(options.verbose)}.`);
  }
  const callbacks = orderCallbacks(defaultCallbacks(mode), options.callbacks);
  const acc = options.accelerator ?? makeAccelerator();
  if (!acc || typeof acc.prepare !== 'function') throw new LuzError(`'accelerator' must come from accelerator(), got ${describe(acc)}.`);
  await acc.prepare();
  const ctx = new LuzContext(mode, new LuzRng(options.seed));
  ctx.verbose = options.verbose ?? isTTY();
  ctx.accelerator = acc;
  ctx.callbacks = callbacks;
  ctx._dispatcher = new CallbackDispatcher(callbacks);
  ctx.signal = options.signal;
  return ctx;
}

/** The loss of a module: `setup`'s, else the module's own. @internal */
export function resolveLoss(generator: LuzModuleGenerator, model: LuzModule, ctx: LuzContext): LossFn | undefined {
  if (generator.loss) return generator.loss;
  if (model.loss) return (pred, target) => model.loss!(pred, target, ctx);
  return undefined;
}

/** Turns `data` into a loader following luz's option rules. @internal */
export function loaderFor(where: string, data: LuzData, options: DataloaderOptions | undefined, defaults: { shuffle: boolean; dropLast: boolean }, rng: LuzRng, owned: LuzDataloader[]): LuzDataloader {
  if (isDataloader(data)) return asDataloader(data);
  const o = checkDataloaderOptions(`${where}: 'dataloaderOptions'`, options);
  const loader = asDataloader(data, {
    batchSize: o.batchSize,
    shuffle: options?.shuffle ?? defaults.shuffle,
    dropLast: options?.dropLast ?? defaults.dropLast,
  });
  loader.rng = rng;
  owned.push(loader);
  return loader;
}

/**
 * Trains a model (luz's `fit`): builds the model and optimizers from the generator, then runs the
 * epoch loop, firing callback events in luz's order.
 *
 * @param module - a generator from `setup()`.
 * @param data - training data: tensors `[x, y]`, a `tf.data.Dataset`, or a dataloader.
 * @param options - see {@link FitOptions}.
 * @returns the fitted model, with records of every epoch.
 * @example
 * ```ts
 * const fitted = await fit(module, [x, y], { epochs: 10, validData: 0.2, seed: 1 });
 * console.log(String(fitted));
 * ```
 */
export async function fit(module: LuzModuleGenerator, data: LuzData, options: FitOptions = {}): Promise<LuzModuleFitted> {
  checkGenerator('fit()', module);
  checkOptionKeys('fit()', options, FIT_KEYS);
  const [minEpochs, maxEpochs] = parseEpochs(options.epochs ?? 10);
  if (options.dataloaderOptions !== undefined && isDataloader(data)) {
    throw new LuzError("'dataloaderOptions' won't be used because 'data' is already a dataloader.");
  }
  const ctx = await makeContext('fit', options);
  const loaders: LuzDataloader[] = [];
  const split: tf.Tensor[] = [];
  let completed = false;
  try {
    ctx.hparams = module.hparams;
    ctx.optHparams = module.optHparams;
    ctx.model = asLuzModule(module.factory(module.hparams));
    const { optimizers, variables } = buildOptimizers(module, ctx.model);
    ctx.optimizers = optimizers;
    ctx.optimizerVariables = variables;
    const loss = resolveLoss(module, ctx.model, ctx);
    if (!loss && !ctx.model.step) {
      throw new LuzError('No loss function has been provided. Use the `loss` option of setup(), implement `loss` in the module, or implement a custom `step` that optimizes the parameters.');
    }
    ctx.lossFn = loss as LossFn;
    ctx.metricSet = module.metrics;

    let trainSource: LuzData = data;
    let validSource: LuzData | undefined;
    const vd = options.validData;
    if (typeof vd === 'number') {
      if (!(vd >= 0 && vd < 1)) throw new LuzError(`'validData' must be a value between 0 and 1 when it is a number, got ${vd}.`);
      if (vd > 0) {
        const s = splitTuple(data, vd, ctx.rng);
        split.push(...s.owned);
        trainSource = s.train as LuzData;
        validSource = s.valid as LuzData;
      }
    } else if (vd !== undefined && vd !== null) {
      validSource = vd;
      if (options.dataloaderOptions !== undefined && isDataloader(vd)) {
        console.warn("luzts: 'dataloaderOptions' will be ignored for 'validData' since it's already a dataloader.");
      }
    }
    ctx.trainData = loaderFor('fit()', trainSource, options.dataloaderOptions, { shuffle: true, dropLast: true }, ctx.rng, loaders);
    if (validSource !== undefined) {
      const { shuffle: _ignored, ...validOptions } = options.dataloaderOptions ?? {};
      ctx.validData = loaderFor('fit()', validSource, validOptions, { shuffle: false, dropLast: false }, ctx.rng, loaders);
    }
    ctx.data = ctx.trainData;
    ctx.minEpochs = minEpochs;
    ctx.maxEpochs = maxEpochs;
    ctx.training = true;

    const optimizerNames = Object.keys(ctx.optimizers);
    const backward = module.backward ?? (ctx.model.backward ? (l: tf.Scalar) => ctx.model.backward!(l, ctx) : undefined);
    const step = ctx.model.step
      ? async () => ctx.model.step!(ctx)
      : async () => (ctx.training ? trainOneBatch(ctx, backward) : validOneBatch(ctx, optimizerNames.length ? optimizerNames : ['opt']));

    await ctx.callCallbacks('onFitBegin');
    try {
      if (!Number.isInteger(ctx.startEpoch) || ctx.startEpoch < 1) throw new LuzError(`ctx.startEpoch must be a positive integer, got ${describe(ctx.startEpoch)}.`);
      for (let epoch = ctx.startEpoch; epoch <= ctx.maxEpochs; epoch++) {
        tf.engine().startScope();
        try {
          ctx.epoch = epoch;
          ctx.iter = 0;
          ctx.data = ctx.trainData;
          ctx.clearStep();
          await ctx.callCallbacks('onEpochBegin');
          await ctx.callCallbacks('onTrainBegin');
          await forEachBatch(ctx, ctx.trainData!, async () => {
            await ctx.callCallbacks('onTrainBatchBegin');
            await step();
            await ctx.callCallbacks('onTrainBatchEnd');
          });
          await ctx.callCallbacks('onTrainEnd');
          if (ctx.validData) {
            ctx.data = ctx.validData;
            ctx.clearStep();
            await validLoop(ctx, step);
          }
          await ctx.callCallbacks('onEpochEnd');
        } catch (e) {
          if (!(e instanceof LuzSkipEpochSignal)) throw e;
        } finally {
          tf.engine().endScope();
        }
      }
    } catch (e) {
      if (e instanceof LuzStopTrainingSignal) {
        if (e.event) await ctx.callCallbacks(e.event);
      } else if (e instanceof LuzInterruptSignal) {
        await ctx.callCallbacks('onInterrupt');
      } else throw e;
    }
    await ctx.callCallbacks('onFitEnd');
    completed = true;
    return new LuzModuleFitted(ctx.model, ctx.records, { hparams: ctx.hparams, optHparams: ctx.optHparams }, module, optimizerNames);
  } finally {
    ctx.runCleanups();
    ctx.metrics.train.forEach((m) => m.dispose());
    ctx.metrics.valid.forEach((m) => m.dispose());
    loaders.forEach((l) => l.dispose());
    split.forEach((t) => t.dispose());
    for (const opt of Object.values(ctx.optimizers)) disposeOptimizer(opt);
    if (!completed && ctx.model) {
      // An error escaped: the model is not returned, free it.
      try {
        ctx.model.dispose?.();
      } catch {
        /* already disposed */
      }
    }
  }
}

