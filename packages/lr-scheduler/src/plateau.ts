/**
 * Reduce-on-plateau (PyTorch's `ReduceLROnPlateau`).
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import { LuzError } from '@luzts/core';
import { BaseScheduler, type LrSchedule, type LrSchedulerState } from './base.js';
import { checkChoice, checkKeys, checkNumber } from './validate.js';

/** Options of {@link lrReduceOnPlateau}. */
export interface LrReduceOnPlateauOptions {
  /**
   * The epoch metric to watch, `'<set>_<metric>'` as in `records.metrics` (e.g. `'valid_loss'`,
   * `'train_mae'`; with several optimizers `'valid_loss_<optName>'` or the scheduler's optimizer is
   * used). Without validation data a `valid_*` monitor falls back to `train_*`. Default `'valid_loss'`.
   */
  monitor?: string;
  /** `'min'`: reduce when the metric stops decreasing; `'max'`: when it stops increasing. Default `'min'`. */
  mode?: 'min' | 'max';
  /** New lr = lr × factor. Must be < 1. Default 0.1. */
  factor?: number;
  /** Number of steps without improvement after which the lr is reduced. Default 10. */
  patience?: number;
  /** Least significant change. Default 1e-4. */
  threshold?: number;
  /** `'rel'`: improvement beyond `best·(1 ∓ threshold)`; `'abs'`: beyond `best ∓ threshold`. Default `'rel'`. */
  thresholdMode?: 'rel' | 'abs';
  /** Steps to wait after a reduction before counting again. Default 0. */
  cooldown?: number;
  /** Lower bound on the learning rate. Default 0. */
  minLr?: number;
  /** Reductions smaller than this are ignored. Default 1e-8. */
  eps?: number;
}

/**
 * Reduces the learning rate when a metric has stopped improving (PyTorch's `ReduceLROnPlateau`,
 * luz's `lr_reduce_on_plateau`). With {@link luzCallbackLrScheduler} the metric is the epoch value
 * of `monitor` from `ctx.records` (luz passes the last batch's loss instead); used directly, pass
 * the value to `step(metric)`.
 *
 * @example
 * ```ts
 * luzCallbackLrScheduler(lrReduceOnPlateau({ monitor: 'valid_loss', patience: 2, factor: 0.5 }));
 * ```
 */
export function lrReduceOnPlateau(options: LrReduceOnPlateauOptions = {}): LrSchedule {
  const where = 'lrReduceOnPlateau()';
  checkKeys(where, options, ['monitor', 'mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
  const monitor = options.monitor ?? 'valid_loss';
  if (typeof monitor !== 'string' || !/^(train|valid)_./.test(monitor)) {
    throw new LuzError(`${where}: 'monitor' must be '<set>_<metric>' with set 'train' or 'valid' (e.g. 'valid_loss'), got ${JSON.stringify(monitor)}.`);
  }
  const o = {
    monitor,
    mode: checkChoice(where, 'mode', options.mode ?? 'min', ['min', 'max'] as const),
    factor: checkNumber(where, 'factor', options.factor ?? 0.1, { min: 0, below: 1 }),
    patience: checkNumber(where, 'patience', options.patience ?? 10, { integer: true, min: 0 }),
    threshold: checkNumber(where, 'threshold', options.threshold ?? 1e-4, { min: 0 }),
    thresholdMode: checkChoice(where, 'thresholdMode', options.thresholdMode ?? 'rel', ['rel', 'abs'] as const),
    cooldown: checkNumber(where, 'cooldown', options.cooldown ?? 0, { integer: true, min: 0 }),
    minLr: checkNumber(where, 'minLr', options.minLr ?? 0, { min: 0 }),
    eps: checkNumber(where, 'eps', options.eps ?? 1e-8, { min: 0 }),
  };
  return (optimizer) => new PlateauScheduler(optimizer, o);
}

type PlateauOptions = Required<Omit<LrReduceOnPlateauOptions, 'mode' | 'thresholdMode'>> & { mode: 'min' | 'max'; thresholdMode: 'rel' | 'abs' };

class PlateauScheduler extends BaseScheduler {
  readonly monitor: string;
  /** Best value so far (±Infinity before the first step, as PyTorch's `mode_worse`). */
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;

  constructor(optimizer: tf.Optimizer, private readonly o: PlateauOptions) {
    super('lr_reduce_on_plateau', optimizer);
    this.monitor = o.monitor;
    this.best = this.worst();
    this.lastEpoch = 0;
    this.lastLr = this.baseLr;
  }

  protected computeLr(): number {
    return this.currentLr;
  }

  private worst(): number {
    return this.o.mode === 'min' ? Infinity : -Infinity;
  }

  private isBetter(a: number, best: number): boolean {
    const { mode, thresholdMode, threshold } = this.o;
    if (mode === 'min') return thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return thresholdMode === 'rel' ? a > best * (threshold + 1) : a > best + threshold;
  }

  override step(metric?: number): void {
    if (typeof metric !== 'number') {
      throw new LuzError(`lrReduceOnPlateau: step(metric) needs the value of '${this.monitor}', got ${metric === undefined ? 'undefined' : typeof metric}.`);
    }
    this.lastEpoch += 1;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.o.patience) {
      const old = this.currentLr;
      const next = Math.max(old * this.o.factor, this.o.minLr);
      if (old - next > this.o.eps) this.apply(next);
      this.cooldownCounter = this.o.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.currentLr;
  }

  protected override extraState(): Record<string, unknown> {
    return { best: Number.isFinite(this.best) ? this.best : null, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter };
  }

  protected override loadExtraState(state: LrSchedulerState): void {
    this.best = typeof state.best === 'number' ? state.best : this.worst();
    this.numBadEpochs = Number(state.numBadEpochs ?? 0);
    this.cooldownCounter = Number(state.cooldownCounter ?? 0);
  }
}
