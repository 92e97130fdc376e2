/**
 * `lrFinder()`: the learning-rate range test (luz's `lr_finder`), with loss smoothing and a
 * suggested learning rate.
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import {
  LuzError,
  fit,
  interruptTraining,
  luzCallback,
  setOptHparams,
  type FitOptions,
  type LuzContext,
  type LuzModuleGenerator,
  type LuzData,
} from '@luzts/core';
import { setLearningRate } from './optimizer-lr.js';
import { checkKeys, checkNumber } from './validate.js';

/** One row of {@link LrRecords}. */
export interface LrRecord {
  /** Learning rate used for the batch. */
  lr: number;
  /** The batch's training loss. */
  loss: number;
  /** Bias-corrected exponential moving average of the loss (β = 0.9). */
  smoothedLoss: number;
}

/** What {@link lrFinder} returns: one row per step, plus the suggested learning rate. */
export type LrRecords = LrRecord[] & {
  /** Learning rate at the steepest descent of the smoothed loss (`NaN` if it can't be computed). */
  suggestedLr: number;
};

/** Options of {@link lrFinder}: its own, plus `fit` options forwarded to the training run. */
export interface LrFinderOptions extends Pick<FitOptions, 'accelerator' | 'dataloaderOptions' | 'seed' | 'signal' | 'callbacks'> {
  /** Number of batches (one learning rate each). Default 100. */
  steps?: number;
  /** Smallest learning rate. Default 1e-7. */
  startLr?: number;
  /** Largest learning rate (the last step's). Default 0.1. */
  endLr?: number;
  /** Log-spaced (`true`) or evenly spaced (`false`) learning rates. Default true. */
  logSpacedIntervals?: boolean;
  /** Print a line every 10% of the steps. Default false. */
  verbose?: boolean;
}

/** Default smoothing factor β of {@link smoothLosses}. */
export const LR_FINDER_BETA = 0.9;

/**
 * Bias-corrected exponential moving average: `avg_i = β·avg_{i-1} + (1-β)·loss_i`,
 * `smoothed_i = avg_i / (1 - β^i)` (i from 1).
 *
 * @example
 * ```ts
 * smoothLosses([1, 1, 1]); // [1, 1, 1]
 * ```
 */
export function smoothLosses(losses: readonly number[], beta = LR_FINDER_BETA): number[] {
  let avg = 0;
  return losses.map((loss, i) => {
    avg = beta * avg + (1 - beta) * loss;
    return avg / (1 - beta ** (i + 1));
  });
}

/**
 * The suggested learning rate: where the smoothed loss falls fastest against `log10(lr)`. The
 * slope at each point is the least-squares slope over a window of ±5% of the points (at least ±1),
 * which keeps batch noise from dominating. Like fastai, it ignores the first 10% and the last 5
 * points when there are enough, and everything after the loss diverges (smoothed loss > 4 × its
 * minimum so far). `NaN` with fewer than 3 usable points.
 *
 * @example
 * ```ts
 * suggestLr(records); // e.g. 0.003
 * ```
 */
export function suggestLr(records: ReadonlyArray<Pick<LrRecord, 'lr' | 'smoothedLoss'>>): number {
  let end = records.length;
  let best = Infinity;
  for (let i = 0; i < records.length; i++) {
    const s = records[i].smoothedLoss;
    if (!Number.isFinite(s) || (best > 0 && s > 4 * best)) {
      end = i;
      break;
    }
    best = Math.min(best, s);
  }
  let start = Math.floor(records.length / 10);
  let stop = Math.min(end, records.length - 5);
  if (stop - start < 3) {
    start = 0;
    stop = end;
  }
  if (stop - start < 3) return NaN;
  const x = records.slice(start, stop).map((r) => Math.log10(r.lr));
  const y = records.slice(start, stop).map((r) => r.smoothedLoss);
  const half = Math.max(1, Math.floor(records.length / 20));
  let argmin = -1;
  let steepest = Infinity;
  for (let i = 0; i < x.length; i++) {
    const g = slope(x, y, Math.max(0, i - half), Math.min(x.length - 1, i + half));
    if (Number.isFinite(g) && g < steepest) {
      steepest = g;
      argmin = i;
    }
  }
  return argmin < 0 ? NaN : records[start + argmin].lr;
}

/** Least-squares slope of y against x over indices lo..hi. */
function slope(x: number[], y: number[], lo: number, hi: number): number {
  const n = hi - lo + 1;
  let mx = 0;
  let my = 0;
  for (let i = lo; i <= hi; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  for (let i = lo; i <= hi; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxy / sxx;
}

/** The learning rate of step `k` (1-based) of `steps`. */
export function finderLr(k: number, steps: number, startLr: number, endLr: number, logSpaced: boolean): number {
  if (k === steps) return endLr;
  return logSpaced ? startLr * (endLr / startLr) ** (k / steps) : startLr + ((endLr - startLr) * k) / steps;
}

const FINDER_KEYS = ['steps', 'startLr', 'endLr', 'logSpacedIntervals', 'verbose', 'accelerator', 'dataloaderOptions', 'seed', 'signal', 'callbacks'] as const;

const lrFinderCallback = luzCallback<{ steps: number; startLr: number; endLr: number; logSpaced: boolean; verbose: boolean }>({
  name: 'lr_finder_callback',
  initialize(o) {
    Object.assign(this, o);
    this.rows = [] as Array<{ lr: number; loss: number }>;
    this.k = 0;
    this.lr = o.startLr;
  },
  opt(ctx: LuzContext): tf.Optimizer {
    const names = Object.keys(ctx.optimizers);
    if (names.length !== 1) {
      throw new LuzError(`lrFinder() needs a model with exactly one optimizer, got ${names.length} (${names.join(', ')}).`);
    }
    return ctx.optimizers[names[0]];
  },
  onFitBegin(ctx: LuzContext) {
    setLearningRate(this.opt(ctx), this.startLr);
  },
  onTrainBatchBegin(ctx: LuzContext) {
    this.k += 1;
    this.lr = finderLr(this.k, this.steps, this.startLr, this.endLr, this.logSpaced);
    setLearningRate(this.opt(ctx), this.lr);
  },
  async onTrainBatchEnd(ctx: LuzContext) {
    const loss = Object.values(ctx.loss)[0] as tf.Tensor;
    this.rows.push({ lr: this.lr, loss: (await loss.data())[0] });
    if (this.verbose && this.k % Math.max(1, Math.round(this.steps / 10)) === 0) {
      console.log(`Finding the learning rate: ${this.k}/${this.steps}`);
    }
    if (this.k >= this.steps) interruptTraining('Learning rate range test finished');
  },
});

/**
 * The learning-rate range test (luz's `lr_finder`): trains a fresh model for `steps` batches
 * while the learning rate grows from `startLr·m` to `endLr` (`m = (endLr/startLr)^(1/steps)`),
 * recording each batch's loss. The data is iterated over as many epochs as needed.
 *
 * @param module - a generator from `setup()` (its optimizer's learning rate is overridden).
 * @param data - training data, as for `fit`.
 * @param options - see {@link LrFinderOptions}.
 * @returns `steps` rows `{ lr, loss, smoothedLoss }` with `suggestedLr`.
 * @example
 * ```ts
 * const records = await lrFinder(module, [x, y], { steps: 100, dataloaderOptions: { batchSize: 16 } });
 * console.log(records.suggestedLr);
 * const svg = lrFinderSvg(records); // or, in Node: await plotLrFinder(records, 'lr.svg')
 * ```
 */
export async function lrFinder(module: LuzModuleGenerator, data: LuzData, options: LrFinderOptions = {}): Promise<LrRecords> {
  const where = 'lrFinder()';
  checkKeys(where, options, FINDER_KEYS);
  const steps = checkNumber(where, 'steps', options.steps ?? 100, { integer: true, min: 1 });
  const startLr = checkNumber(where, 'startLr', options.startLr ?? 1e-7, { above: 0 });
  const endLr = checkNumber(where, 'endLr', options.endLr ?? 0.1, { above: startLr });
  const logSpaced = options.logSpacedIntervals ?? true;
  if (typeof logSpaced !== 'boolean') throw new LuzError(`${where}: 'logSpacedIntervals' must be a boolean, got ${String(logSpaced)}.`);
  const { steps: _s, startLr: _a, endLr: _b, logSpacedIntervals: _l, verbose = false, callbacks = [], ...fitOptions } = options;
  const finder = lrFinderCallback({ steps, startLr, endLr, logSpaced, verbose });
  const fitted = await fit(setOptHparams(module, { ...module.optHparams, lr: startLr }), data, {
    ...fitOptions,
    // Each epoch has at least one batch, so `steps` epochs are enough.
    epochs: steps,
    callbacks: [...callbacks, finder],
    verbose: false,
  });
  fitted.model.dispose?.();
  const rows = finder.rows as Array<{ lr: number; loss: number }>;
  const smoothed = smoothLosses(rows.map((r) => r.loss));
  const records = rows.map((r, i) => ({ ...r, smoothedLoss: smoothed[i] }));
  return Object.assign(records, { suggestedLr: suggestLr(records) });
}
