/**
 * The 1cycle policy (PyTorch's `OneCycleLR`).
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import { LuzError } from '@luzts/core';
import { BaseScheduler, type LrSchedule } from './base.js';
import { momentumKind, setMomentum } from './optimizer-lr.js';
import { checkChoice, checkKeys, checkNumber } from './validate.js';

/** Options of {@link lrOneCycle}. Give `totalSteps`, or `epochs` and `stepsPerEpoch`. */
export interface LrOneCycleOptions {
  /** Peak learning rate. Required. */
  maxLr: number;
  /** Number of steps in the cycle. Default `epochs * stepsPerEpoch`. */
  totalSteps?: number;
  /** Number of epochs (with `stepsPerEpoch`, when `totalSteps` is not given). */
  epochs?: number;
  /** Steps per epoch (with `epochs`). */
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the learning rate. Default 0.3. */
  pctStart?: number;
  /** `'cos'` or `'linear'` annealing. Default `'cos'`. */
  annealStrategy?: 'cos' | 'linear';
  /** Initial learning rate = `maxLr / divFactor`. Default 25. */
  divFactor?: number;
  /** Final learning rate = initial / `finalDivFactor`. Default 1e4. */
  finalDivFactor?: number;
  /** Cycle the momentum (Momentum, RMSProp) or beta1 (Adam, Adamax) inversely to the learning rate. Default true. */
  cycleMomentum?: boolean;
  /** Lowest momentum (at the learning-rate peak). Default 0.85. */
  baseMomentum?: number;
  /** Highest momentum (at the start and end). Default 0.95. */
  maxMomentum?: number;
}

interface Phase {
  endStep: number;
  startLr: number;
  endLr: number;
  startMomentum: number;
  endMomentum: number;
}

/**
 * The 1cycle policy (PyTorch's `OneCycleLR`, luz's `lr_one_cycle`): the learning rate rises from
 * `maxLr / divFactor` to `maxLr` during the first `pctStart` of the cycle, then anneals to
 * `maxLr / divFactor / finalDivFactor`; the momentum (or Adam's beta1) moves the opposite way
 * between `maxMomentum` and `baseMomentum`. Step it every batch
 * (`callOn: 'onTrainBatchEnd'`). Stepping more than `totalSteps` times is an error.
 *
 * @example
 * ```ts
 * luzCallbackLrScheduler(lrOneCycle({ maxLr: 0.01, epochs: 10, stepsPerEpoch: 100 }), { callOn: 'onTrainBatchEnd' });
 * ```
 */
export function lrOneCycle(options: LrOneCycleOptions): LrSchedule {
  const where = 'lrOneCycle()';
  checkKeys(where, options, ['maxLr', 'totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'divFactor', 'finalDivFactor', 'cycleMomentum', 'baseMomentum', 'maxMomentum']);
  const maxLr = checkNumber(where, 'maxLr', options?.maxLr, { above: 0 });
  let totalSteps: number;
  if (options.totalSteps !== undefined) totalSteps = checkNumber(where, 'totalSteps', options.totalSteps, { integer: true, min: 1 });
  else if (options.epochs !== undefined || options.stepsPerEpoch !== undefined) {
    totalSteps = checkNumber(where, 'epochs', options.epochs, { integer: true, min: 1 }) * checkNumber(where, 'stepsPerEpoch', options.stepsPerEpoch, { integer: true, min: 1 });
  } else throw new LuzError(`${where}: you must define either 'totalSteps' or both 'epochs' and 'stepsPerEpoch'.`);
  const pctStart = checkNumber(where, 'pctStart', options.pctStart ?? 0.3, { min: 0, max: 1 });
  const anneal = checkChoice(where, 'annealStrategy', options.annealStrategy ?? 'cos', ['cos', 'linear'] as const);
  const divFactor = checkNumber(where, 'divFactor', options.divFactor ?? 25, { above: 0 });
  const finalDivFactor = checkNumber(where, 'finalDivFactor', options.finalDivFactor ?? 1e4, { above: 0 });
  const cycleMomentum = options.cycleMomentum ?? true;
  if (typeof cycleMomentum !== 'boolean') throw new LuzError(`${where}: 'cycleMomentum' must be a boolean, got ${String(cycleMomentum)}.`);
  const baseMomentum = checkNumber(where, 'baseMomentum', options.baseMomentum ?? 0.85, { min: 0 });
  const maxMomentum = checkNumber(where, 'maxMomentum', options.maxMomentum ?? 0.95, { min: 0 });
  const initialLr = maxLr / divFactor;
  const minLr = initialLr / finalDivFactor;
  const phases: Phase[] = [
    { endStep: pctStart * totalSteps - 1, startLr: initialLr, endLr: maxLr, startMomentum: maxMomentum, endMomentum: baseMomentum },
    { endStep: totalSteps - 1, startLr: maxLr, endLr: minLr, startMomentum: baseMomentum, endMomentum: maxMomentum },
  ];
  const annealFn = anneal === 'cos' ? annealCos : annealLinear;
  return (optimizer) => new OneCycleScheduler(optimizer, { totalSteps, phases, annealFn, cycleMomentum: cycleMomentum && momentumKind(optimizer) !== undefined, initialLr, maxMomentum });
}

function annealCos(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
}

function annealLinear(start: number, end: number, pct: number): number {
  return (end - start) * pct + start;
}

class OneCycleScheduler extends BaseScheduler {
  constructor(
    optimizer: tf.Optimizer,
    private readonly o: { totalSteps: number; phases: Phase[]; annealFn: (s: number, e: number, p: number) => number; cycleMomentum: boolean; initialLr: number; maxMomentum: number },
  ) {
    super('lr_one_cycle', optimizer, o.initialLr);
    if (o.cycleMomentum) setMomentum(optimizer, o.maxMomentum);
    this.init();
  }

  protected computeLr(): number {
    return this.compute()[0];
  }

  private compute(): [number, number] {
    const step = this.lastEpoch;
    if (step > this.o.totalSteps) {
      throw new LuzError(`lrOneCycle(): tried to step ${step} times. The specified number of total steps is ${this.o.totalSteps}.`);
    }
    let start = 0;
    const { phases, annealFn } = this.o;
    for (let i = 0; i < phases.length; i++) {
      const p = phases[i];
      if (step <= p.endStep || i === phases.length - 1) {
        const pct = (step - start) / (p.endStep - start);
        return [annealFn(p.startLr, p.endLr, pct), annealFn(p.startMomentum, p.endMomentum, pct)];
      }
      start = p.endStep;
    }
    /* c8 ignore next */
    throw new LuzError('lrOneCycle(): unreachable');
  }

  override step(): void {
    this.lastEpoch += 1;
    const [lr, momentum] = this.compute();
    // Step `totalSteps` extrapolates past the cycle's end; with linear annealing PyTorch then sets
    // a negative rate. It is never used for training: clamp it at 0.
    this.apply(Math.max(0, lr), this.o.cycleMomentum ? momentum : undefined);
  }
}
