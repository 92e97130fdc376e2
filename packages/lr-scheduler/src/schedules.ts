/**
 * Learning-rate schedules mirroring PyTorch's `torch.optim.lr_scheduler` (the schedules luz users
 * pass to `luz_callback_lr_scheduler`). A schedule is a factory `(optimizer) => scheduler`;
 * creating the scheduler sets the optimizer's initial learning rate (PyTorch's construction step),
 * each `step()` moves to the next one.
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import { BaseScheduler, type LrSchedule } from './base.js';
import { checkFunction, checkKeys, checkNumber } from './validate.js';

/** Options of {@link lrStep}. */
export interface LrStepOptions {
  /** Period of learning-rate decay, in steps. Required. */
  stepSize: number;
  /** Multiplicative factor of decay. Default 0.1. */
  gamma?: number;
}

/**
 * Decays the learning rate by `gamma` every `stepSize` steps (PyTorch's `StepLR`, luz's `lr_step`):
 * `lr = baseLr * gamma ^ floor(epoch / stepSize)`.
 *
 * @example
 * ```ts
 * luzCallbackLrScheduler(lrStep({ stepSize: 30, gamma: 0.1 })); // ÷10 every 30 epochs
 * ```
 */
export function lrStep(options: LrStepOptions): LrSchedule {
  const where = 'lrStep()';
  checkKeys(where, options, ['stepSize', 'gamma']);
  const stepSize = checkNumber(where, 'stepSize', options?.stepSize, { integer: true, min: 1 });
  const gamma = checkNumber(where, 'gamma', options.gamma ?? 0.1, { min: 0 });
  return (optimizer) => new StepScheduler(optimizer, stepSize, gamma);
}

class StepScheduler extends BaseScheduler {
  constructor(optimizer: tf.Optimizer, private readonly stepSize: number, private readonly gamma: number) {
    super('lr_step', optimizer);
    this.init();
  }
  protected computeLr(): number {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.currentLr;
    return this.currentLr * this.gamma;
  }
}

/** Options of {@link lrMultiplicative}. */
export interface LrMultiplicativeOptions {
  /** `(epoch) => factor`: the learning rate is multiplied by `lrLambda(epoch)` at each step. Required. */
  lrLambda: (epoch: number) => number;
}

/**
 * Multiplies the learning rate by `lrLambda(epoch)` at each step (PyTorch's `MultiplicativeLR`,
 * luz's `lr_multiplicative`).
 *
 * @example
 * ```ts
 * luzCallbackLrScheduler(lrMultiplicative({ lrLambda: () => 0.95 }));
 * ```
 */
export function lrMultiplicative(options: LrMultiplicativeOptions): LrSchedule {
  const where = 'lrMultiplicative()';
  checkKeys(where, options, ['lrLambda']);
  checkFunction(where, 'lrLambda', options?.lrLambda);
  return (optimizer) => new MultiplicativeScheduler(optimizer, options.lrLambda);
}

function factorOf(where: string, f: (epoch: number) => number, epoch: number): number {
  return checkNumber(where, `lrLambda(${epoch})`, f(epoch), { infinite: false });
}

class MultiplicativeScheduler extends BaseScheduler {
  constructor(optimizer: tf.Optimizer, private readonly lrLambda: (epoch: number) => number) {
    super('lr_multiplicative', optimizer);
    this.init();
  }
  protected computeLr(): number {
    if (this.lastEpoch > 0) return this.currentLr * factorOf('lrMultiplicative()', this.lrLambda, this.lastEpoch);
    return this.currentLr;
  }
}

/** Options of {@link lrExponential}. */
export interface LrExponentialOptions {
  /** Multiplicative factor of decay at each step. Required. */
  gamma: number;
}

/**
 * Decays the learning rate by `gamma` at every step (PyTorch's `ExponentialLR`): `lr = baseLr * gamma ^ epoch`.
 *
 * @example
 * ```ts
 * luzCallbackLrScheduler(lrExponential({ gamma: 0.9 }));
 * ```
 */
export function lrExponential(options: LrExponentialOptions): LrSchedule {
  const where = 'lrExponential()';
  checkKeys(where, options, ['gamma']);
  const gamma = checkNumber(where, 'gamma', options?.gamma, { min: 0 });
  return (optimizer) => new ExponentialScheduler(optimizer, gamma);
}

class ExponentialScheduler extends BaseScheduler {
  constructor(optimizer: tf.Optimizer, private readonly gamma: number) {
    super('lr_exponential', optimizer);
    this.init();
  }
  protected computeLr(): number {
    return this.lastEpoch === 0 ? this.currentLr : this.currentLr * this.gamma;
  }
}

/** Options of {@link lrLambda}. */
export interface LrLambdaOptions {
  /** `(epoch) => factor`: the learning rate is `baseLr * lrLambda(epoch)`. Required. */
  lrLambda: (epoch: number) => number;
}

/**
 * Sets the learning rate to `baseLr * lrLambda(epoch)` (PyTorch's `LambdaLR`, luz's `lr_lambda`).
 *
 * @example
 * ```ts
 * luzCallbackLrScheduler(lrLambda({ lrLambda: (epoch) => 1 / (1 + epoch) }));
 * ```
 */
export function lrLambda(options: LrLambdaOptions): LrSchedule {
  const where = 'lrLambda()';
  checkKeys(where, options, ['lrLambda']);
  checkFunction(where, 'lrLambda', options?.lrLambda);
  return (optimizer) => new LambdaScheduler(optimizer, options.lrLambda);
}

class LambdaScheduler extends BaseScheduler {
  constructor(optimizer: tf.Optimizer, private readonly lrLambda: (epoch: number) => number) {
    super('lr_lambda', optimizer);
    this.init();
  }
  protected computeLr(): number {
    return this.baseLr * factorOf('lrLambda()', this.lrLambda, this.lastEpoch);
  }
}

/** Options of {@link lrCosineAnnealing}. */
export interface LrCosineAnnealingOptions {
  /** Number of steps of a half cosine period. Required. */
  tMax: number;
  /** Minimum learning rate. Default 0. */
  etaMin?: number;
}

/**
 * Cosine annealing from the base learning rate down to `etaMin` over `tMax` steps, then back up
 * (PyTorch's `CosineAnnealingLR`, recursive form): `lr = etaMin + (baseLr - etaMin)(1 + cos(π·epoch/tMax))/2`.
 *
 * @example
 * ```ts
 * luzCallbackLrScheduler(lrCosineAnnealing({ tMax: 50, etaMin: 1e-5 }));
 * ```
 */
export function lrCosineAnnealing(options: LrCosineAnnealingOptions): LrSchedule {
  const where = 'lrCosineAnnealing()';
  checkKeys(where, options, ['tMax', 'etaMin']);
  const tMax = checkNumber(where, 'tMax', options?.tMax, { integer: true, min: 1 });
  const etaMin = checkNumber(where, 'etaMin', options.etaMin ?? 0, { min: 0 });
  return (optimizer) => new CosineScheduler(optimizer, tMax, etaMin);
}

class CosineScheduler extends BaseScheduler {
  constructor(optimizer: tf.Optimizer, private readonly tMax: number, private readonly etaMin: number) {
    super('lr_cosine_annealing', optimizer);
    this.init();
  }
  protected computeLr(): number {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    const lr = this.currentLr;
    if (e === 0) return lr;
    if ((e - 1 - T) % (2 * T) === 0) return lr + ((this.baseLr - etaMin) * (1 - Math.cos(Math.PI / T))) / 2;
    return ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - etaMin) + etaMin;
  }
}
