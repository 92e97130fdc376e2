/**
 * The scheduler interface and PyTorch's `LRScheduler` machinery shared by the schedules.
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import { LuzError } from '@luzts/core';
import { getLearningRate, momentumKind, setLearningRate, setMomentum } from './optimizer-lr.js';

/** Plain-data state of a scheduler, for checkpoints. */
export interface LrSchedulerState {
  /** Which schedule produced it (`'lr_step'`, ...). */
  schedule: string;
  /** Number of `step()` calls so far (PyTorch's `last_epoch`). */
  lastEpoch: number;
  /** Learning rate when the scheduler was created (PyTorch's `base_lrs`). */
  baseLr: number;
  /** Learning rate set by the last step. */
  lastLr: number;
  /** Momentum / beta1 set by the last step (one-cycle), if any. */
  lastMomentum?: number;
  /** Schedule-specific fields. */
  [key: string]: unknown;
}

/** A learning-rate scheduler driving one optimizer (what a {@link LrSchedule} returns). */
export interface LrScheduler {
  /** The schedule's name, e.g. `'lr_step'`. */
  readonly schedule: string;
  /** The optimizer it drives. */
  readonly optimizer: tf.Optimizer;
  /** Number of `step()` calls so far (PyTorch's `last_epoch`). */
  readonly lastEpoch: number;
  /**
   * For schedules that need a metric (reduce-on-plateau): the record the callback reads, e.g.
   * `'valid_loss'`. `undefined` for the others.
   */
  readonly monitor?: string;
  /** Advances the schedule and sets the optimizer's learning rate. `metric`: the monitored value (plateau only). */
  step(metric?: number): void;
  /** The learning rate set by the last step. */
  getLastLr(): number;
  /** Plain-data state (for checkpoints and auto-resume). */
  stateDict(): LrSchedulerState;
  /** Restores a state from {@link LrScheduler.stateDict}, including the optimizer's learning rate (and momentum). */
  loadStateDict(state: LrSchedulerState): void;
}

/** A schedule: a factory that attaches a scheduler to an optimizer. */
export type LrSchedule = (optimizer: tf.Optimizer) => LrScheduler;

/** Common machinery: PyTorch's `LRScheduler` (construction step, `last_epoch`, `base_lrs`). */
/** @internal */
export abstract class BaseScheduler implements LrScheduler {
  lastEpoch = -1;
  baseLr: number;
  protected lastLr = NaN;
  protected lastMomentum: number | undefined = undefined;

  constructor(readonly schedule: string, readonly optimizer: tf.Optimizer, initialLr?: number) {
    if (initialLr !== undefined) setLearningRate(optimizer, initialLr);
    this.baseLr = getLearningRate(optimizer);
  }

  /** PyTorch's construction step; call at the end of the subclass constructor. */
  protected init(): void {
    this.step();
  }

  /** The next learning rate, PyTorch's `get_lr()` (chainable forms read the current lr). */
  protected abstract computeLr(): number;

  get currentLr(): number {
    return getLearningRate(this.optimizer);
  }

  step(_metric?: number): void {
    this.lastEpoch += 1;
    this.apply(this.computeLr());
  }

  protected apply(lr: number, momentum?: number): void {
    setLearningRate(this.optimizer, lr);
    this.lastLr = lr;
    if (momentum !== undefined) {
      setMomentum(this.optimizer, momentum);
      this.lastMomentum = momentum;
    }
  }

  getLastLr(): number {
    return this.lastLr;
  }

  /** Schedule-specific state. */
  protected extraState(): Record<string, unknown> {
    return {};
  }

  protected loadExtraState(_state: LrSchedulerState): void {}

  stateDict(): LrSchedulerState {
    const state: LrSchedulerState = { schedule: this.schedule, lastEpoch: this.lastEpoch, baseLr: this.baseLr, lastLr: this.lastLr, ...this.extraState() };
    if (this.lastMomentum !== undefined) state.lastMomentum = this.lastMomentum;
    return state;
  }

  loadStateDict(state: LrSchedulerState): void {
    if (!state || typeof state !== 'object' || state.schedule !== this.schedule) {
      throw new LuzError(`loadStateDict(): expected a state of schedule '${this.schedule}', got ${state && typeof state === 'object' ? `one of '${String(state.schedule)}'` : String(state)}.`);
    }
    this.lastEpoch = state.lastEpoch;
    this.baseLr = state.baseLr;
    this.loadExtraState(state);
    // tfjs optimizers do not save their learning rate: restore it with the schedule.
    if (Number.isFinite(state.lastLr)) this.apply(state.lastLr, state.lastMomentum !== undefined && momentumKind(this.optimizer) ? state.lastMomentum : undefined);
  }
}
