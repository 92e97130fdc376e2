/**
 * `luzCallbackLrScheduler()`: steps a learning-rate schedule during `fit` (luz's
 * `luz_callback_lr_scheduler`).
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import { LuzError, describeValue, luzCallback, type LuzCallback, type LuzContext, type MetricValue } from '@luzts/core';
import type { LrSchedule, LrScheduler, LrSchedulerState } from './base.js';
import { getLearningRate } from './optimizer-lr.js';
import { checkKeys } from './validate.js';

/** Options of {@link luzCallbackLrScheduler}. */
export interface LrSchedulerCallbackOptions {
  /**
   * The event at which the scheduler steps: any event name, e.g. `'onEpochEnd'` (per-epoch
   * schedules), `'onTrainBatchEnd'` (per-batch schedules such as one-cycle). Default `'onEpochEnd'`.
   */
  callOn?: string;
  /** The optimizer to drive. Required only when the model has several optimizers. Default: the only one. */
  optName?: string;
}

/** State saved in checkpoints: the scheduler's. */
interface CallbackState {
  scheduler: LrSchedulerState;
}

/** Events that already have a handler below; `callOn` is folded into them. */
const OWN_EVENTS = ['onFitBegin', 'onTrainBatchBeforeStep', 'onEpochEnd'];

function currentOptName(ctx: LuzContext): string | undefined {
  try {
    return ctx.optName;
  } catch {
    return undefined;
  }
}

/** The value of a monitor like `'valid_loss'` or `'valid_loss_gen'` from the last epoch's records. */
export function monitoredValue(ctx: LuzContext, monitor: string, optName: string): number {
  const cut = monitor.indexOf('_');
  const wanted = monitor.slice(0, cut) as 'train' | 'valid';
  const name = monitor.slice(cut + 1);
  // Without validation data, a valid_* monitor falls back to the training metric.
  const set = wanted === 'valid' && !ctx.validData ? 'train' : wanted;
  const metrics = ctx.getMetrics(set) ?? {};
  let value: MetricValue | undefined = metrics[name];
  if (value === undefined && name.includes('_')) {
    const last = name.lastIndexOf('_');
    const sub = metrics[name.slice(0, last)];
    if (sub && typeof sub === 'object') value = sub[name.slice(last + 1)];
  }
  if (value && typeof value === 'object') value = value[optName];
  if (typeof value !== 'number') {
    throw new LuzError(
      `lrReduceOnPlateau: the monitored metric '${monitor}' was not found in the ${set} metrics of the last epoch ` +
        `(available: ${Object.keys(metrics).join(', ') || 'none'}). Step it at an epoch-level event such as 'onEpochEnd'.`,
    );
  }
  return value;
}

const lrSchedulerCallback = luzCallback<{ schedule: LrSchedule; callOn: string; optName: string | undefined }>({
  name: 'lr_scheduler_callback',
  weight: 0,
  initialize({ schedule, callOn, optName }) {
    this.schedule = schedule;
    this.callOn = callOn;
    this.optName = optName;
    this.activeOptName = undefined as string | undefined;
    this.scheduler = undefined as LrScheduler | undefined;
    this.pendingState = undefined as LrSchedulerState | undefined;
    this.epochLr = undefined as number | undefined;
    if (!OWN_EVENTS.includes(callOn)) {
      this[callOn] = function (this: LuzCallback, ctx: LuzContext) {
        (this.stepScheduler as (ctx: LuzContext) => void).call(this, ctx);
      };
    }
  },
  optimizer(ctx: LuzContext): tf.Optimizer {
    return ctx.optimizers[this.activeOptName];
  },
  stepScheduler(ctx: LuzContext) {
    const scheduler = this.scheduler as LrScheduler | undefined;
    if (!scheduler) return;
    if (scheduler.monitor !== undefined) scheduler.step(monitoredValue(ctx, scheduler.monitor, this.activeOptName));
    else scheduler.step();
  },
  onFitBegin(ctx: LuzContext) {
    const names = Object.keys(ctx.optimizers);
    if (this.optName === undefined) {
      if (names.length !== 1) {
        throw new LuzError(
          names.length === 0
            ? 'The model has no optimizer, so there is no learning rate to schedule.'
            : `An optimizer name was not supplied and your model has multiple optimizers (${names.join(', ')}). Pass 'optName' to luzCallbackLrScheduler().`,
        );
      }
      this.activeOptName = names[0];
    } else if (!names.includes(this.optName)) {
      throw new LuzError(`optName '${this.optName}' not found in ctx.optimizers (available: ${names.join(', ') || 'none'}).`);
    } else {
      this.activeOptName = this.optName;
    }
    this.scheduler = (this.schedule as LrSchedule)(this.optimizer(ctx));
    if (this.pendingState) {
      this.scheduler.loadStateDict(this.pendingState);
      this.pendingState = undefined;
    }
    this.epochLr = undefined;
    if (this.callOn === 'onFitBegin') this.stepScheduler(ctx);
  },
  onTrainBatchBeforeStep(ctx: LuzContext) {
    const current = currentOptName(ctx);
    if (current !== undefined && current !== this.activeOptName) return;
    if (this.callOn === 'onTrainBatchBeforeStep') this.stepScheduler(ctx);
    // The learning rate this step applies: what records.lr reports for the epoch.
    this.epochLr = getLearningRate(this.optimizer(ctx));
  },
  onEpochEnd(ctx: LuzContext) {
    const lr = this.epochLr ?? getLearningRate(this.optimizer(ctx));
    this.epochLr = undefined;
    ctx.log('lr', this.activeOptName, lr, { index: ctx.epoch, append: false });
    if (this.callOn === 'onEpochEnd') this.stepScheduler(ctx);
  },
  stateDict(): CallbackState | undefined {
    const scheduler = this.scheduler as LrScheduler | undefined;
    if (scheduler) return { scheduler: scheduler.stateDict() };
    return this.pendingState ? { scheduler: this.pendingState } : undefined;
  },
  loadStateDict(state: CallbackState) {
    if (!state || typeof state !== 'object' || !state.scheduler) {
      throw new LuzError(`lr_scheduler_callback: loadStateDict() expected { scheduler }, got ${describeValue(state)}.`);
    }
    // Restoring may happen before this callback's onFitBegin (a checkpoint callback placed
    // earlier): keep the state until the scheduler exists.
    if (this.scheduler) (this.scheduler as LrScheduler).loadStateDict(state.scheduler);
    else this.pendingState = state.scheduler;
  },
});

/**
 * Steps a learning-rate schedule during `fit` (luz's `luz_callback_lr_scheduler`) and logs the
 * learning rate of every epoch as `records.lr[optName]` (the rate applied by the epoch's last
 * training step). The scheduler's state is part of checkpoints, so auto-resume continues the
 * schedule where it stopped.
 *
 * @param schedule - a schedule such as `lrStep({ stepSize: 10 })`, or any `(optimizer) => { step() }`.
 * @param options - `callOn` (default `'onEpochEnd'`), `optName` (default: the only optimizer).
 * @example
 * ```ts
 * const fitted = await fit(module, data, {
 *   epochs: 20,
 *   callbacks: [luzCallbackLrScheduler(lrStep({ stepSize: 5, gamma: 0.5 }))],
 * });
 * fitted.records.lr?.opt; // [lr of epoch 1, lr of epoch 2, ...]
 *
 * // Per batch, one optimizer of several:
 * luzCallbackLrScheduler(lrOneCycle({ maxLr: 0.01, totalSteps: 1000 }), { callOn: 'onTrainBatchEnd', optName: 'gen' });
 * ```
 */
export function luzCallbackLrScheduler(schedule: LrSchedule, options: LrSchedulerCallbackOptions = {}): LuzCallback {
  const where = 'luzCallbackLrScheduler()';
  if (typeof schedule !== 'function') {
    throw new LuzError(`${where}: 'schedule' must be a schedule such as lrStep({ stepSize: 10 }) (a function of the optimizer), got ${describeValue(schedule)}.`);
  }
  checkKeys(where, options, ['callOn', 'optName']);
  const callOn = options.callOn ?? 'onEpochEnd';
  if (typeof callOn !== 'string' || !/^on[A-Z]\w*$/.test(callOn)) {
    throw new LuzError(`${where}: 'callOn' must be an event name such as 'onEpochEnd' or 'onTrainBatchEnd', got ${describeValue(callOn)}.`);
  }
  if (options.optName !== undefined && (typeof options.optName !== 'string' || options.optName.length === 0)) {
    throw new LuzError(`${where}: 'optName' must be a non-empty string, got ${describeValue(options.optName)}.`);
  }
  return lrSchedulerCallback({ schedule, callOn, optName: options.optName });
}
