/**
 * `@luzts/early-stopping`: stops training when a monitored metric stops improving (luz's
 * `luz_callback_early_stopping`).
 * @packageDocumentation
 */
import { LuzError, checkOptionKeys, describeValue, luzCallback, luzMonitor, stopTraining, type LuzContext, type LuzMonitor, type MonitorMode } from '@luzts/core';

/** Options of {@link luzCallbackEarlyStopping}. */
export interface EarlyStoppingOptions {
  /** The metric to watch, `<set>_<metric>[_<name>]` (case-insensitive), e.g. `'train_loss'`. Default `'valid_loss'`. */
  monitor?: string;
  /** Least change that counts as an improvement. Default 0. */
  minDelta?: number;
  /**
   * Number of consecutive epochs without improvement after which training stops. Default 0,
   * which behaves like 1: training stops at the first epoch that does not improve.
   */
  patience?: number;
  /** `'min'` (lower is better), `'max'` or `'zero'` (closer to zero is better). Default `'min'`. */
  mode?: MonitorMode;
  /** A value the metric must improve on; when given, the first epoch is compared to it. Default none. */
  baseline?: number;
}

const KEYS = ['monitor', 'minDelta', 'patience', 'mode', 'baseline'];
const WHERE = 'luzCallbackEarlyStopping()';

/**
 * Stops training once `patience` consecutive epochs fail to improve the monitored metric (luz's
 * early stopping). Runs last at each epoch end (weight `Infinity`), so other callbacks (loggers,
 * checkpoints) see the stopping epoch. When it stops, the loop fires `onEarlyStopping` on every
 * callback, then `onFitEnd`, and `fit` returns the model trained so far. Honours `fit`'s
 * `minEpochs` (`epochs: [min, max]`): no stop before `minEpochs`.
 *
 * Differences from R luz: an epoch that improves never stops training (luz stops at epoch 2 with
 * the default `patience = 0` even while improving), so `patience = 0` behaves like `patience = 1`;
 * mode `'zero'` compares the new value (luz ignored it); `monitor` is case-insensitive.
 *
 * @example
 * ```ts
 * const fitted = await fit(module, data, {
 *   epochs: 100,
 *   validData: 0.2,
 *   callbacks: [luzCallbackEarlyStopping({ monitor: 'valid_loss', patience: 3, minDelta: 1e-3 })],
 * });
 * ```
 */
export const luzCallbackEarlyStopping = luzCallback<EarlyStoppingOptions>({
  name: 'early_stopping_callback',
  weight: Infinity,
  initialize(options: EarlyStoppingOptions = {}) {
    checkOptionKeys(WHERE, options, KEYS);
    const { patience = 0, baseline } = options;
    if (typeof patience !== 'number' || !Number.isInteger(patience) || patience < 0) {
      throw new LuzError(`${WHERE}: 'patience' must be a non-negative integer, got ${describeValue(patience)}.`);
    }
    if (baseline !== undefined && (typeof baseline !== 'number' || !Number.isFinite(baseline))) {
      throw new LuzError(`${WHERE}: 'baseline' must be a finite number, got ${describeValue(baseline)}.`);
    }
    this.monitor = luzMonitor(options, WHERE);
    this.patience = patience;
    this.baseline = baseline;
    this.reset();
  },
  reset() {
    /** Best value so far (the baseline until an epoch beats it). */
    this.currentBest = this.baseline as number | undefined;
    /** Consecutive epochs without improvement. */
    this.patienceCounter = 0;
  },
  onFitBegin() {
    this.stoppedEpoch = undefined as number | undefined;
  },
  onEpochEnd(ctx: LuzContext) {
    const monitor = this.monitor as LuzMonitor;
    const value = monitor.value(ctx);
    if (monitor.improves(value, this.currentBest)) {
      this.currentBest = value;
      this.patienceCounter = 0;
      return;
    }
    this.patienceCounter += 1;
    if (this.patienceCounter >= Math.max(this.patience, 1) && ctx.epoch >= ctx.minEpochs) {
      this.stoppedEpoch = ctx.epoch;
      stopTraining('onEarlyStopping', `Early stopping at epoch ${ctx.epoch}`);
    }
  },
  onEarlyStopping(ctx: LuzContext) {
    if (ctx.verbose) console.log(`Early stopping at epoch ${ctx.epoch} of ${ctx.maxEpochs}`);
  },
  onFitEnd() {
    // A callback instance may be reused by another fit: start afresh.
    this.reset();
  },
  stateDict() {
    return { currentBest: this.currentBest, patienceCounter: this.patienceCounter };
  },
  loadStateDict(state: { currentBest?: number; patienceCounter: number }) {
    this.currentBest = state.currentBest;
    this.patienceCounter = state.patienceCounter;
  },
});
