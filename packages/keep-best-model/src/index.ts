/**
 * `@luzts/keep-best-model`: restores the weights of the best epoch at the end of training (luz's
 * `luz_callback_keep_best_model`).
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs';
import {
  LuzError,
  assignModelWeights,
  luzCallback,
  luzMonitor,
  readOptimizerState,
  restoreOptimizerState,
  type LuzContext,
  type LuzMonitor,
  type MonitorMode,
  type OptimizerState,
} from '@luzts/core';

/** Options of {@link luzCallbackKeepBestModel}. */
export interface KeepBestModelOptions {
  /** The metric to watch (case-insensitive), e.g. `'train_loss'`. Default `'valid_loss'`. */
  monitor?: string;
  /** `'min'`, `'max'` or `'zero'`. Default `'min'`. */
  mode?: MonitorMode;
  /** Least change that counts as an improvement. Default 0. */
  minDelta?: number;
}

/** The in-memory copy of the best epoch: model weights and optimizer states (kept tensors). */
interface Snapshot {
  epoch: number;
  weights: tf.Tensor[];
  optimizers: Record<string, OptimizerState>;
}

const KEYS = ['monitor', 'mode', 'minDelta'];
const WHERE = 'luzCallbackKeepBestModel()';

function disposeSnapshot(s: Snapshot | undefined): void {
  if (!s) return;
  tf.dispose(s.weights);
  for (const o of Object.values(s.optimizers)) tf.dispose(o.slots.map((x) => x.tensor));
}

function copyOptimizer(state: OptimizerState): OptimizerState {
  return { ...state, slots: state.slots.map((s) => ({ ...s, tensor: tf.keep(s.tensor.clone()) })) };
}

/**
 * Keeps a copy of the model weights and optimizer states of the best epoch (by the monitored
 * metric; the first epoch counts as an improvement) and restores them at `onFitEnd`, also when
 * training ended early (early stopping, Ctrl-C, `fit({ signal })`). The copy lives in memory (kept
 * tensor clones, freed when the fit ends). Its `stateDict()` includes the copy, so a run resumed by
 * `luzCallbackAutoResume` still restores the best epoch even if it came before the interruption.
 *
 * Differences from R luz: the best state is kept in memory instead of a temporary file; records
 * and other callbacks' states are not rolled back (luz also reloaded callback states).
 *
 * @example
 * ```ts
 * const fitted = await fit(module, data, {
 *   epochs: 50,
 *   validData: 0.2,
 *   callbacks: [luzCallbackKeepBestModel({ monitor: 'valid_loss' }), luzCallbackEarlyStopping({ patience: 5 })],
 * });
 * // fitted.model holds the weights of the epoch with the lowest validation loss.
 * ```
 */
export const luzCallbackKeepBestModel = luzCallback<KeepBestModelOptions>({
  name: 'keep_best_model_callback',
  initialize(options: KeepBestModelOptions = {}) {
    for (const key of Object.keys(options ?? {})) {
      if (!KEYS.includes(key)) throw new LuzError(`${WHERE}: unknown option '${key}'. Expected one of: ${KEYS.join(', ')}.`);
    }
    this.monitor = luzMonitor(options, WHERE);
    this.currentBest = undefined as number | undefined;
    /** The epoch whose weights are kept. */
    this.bestEpoch = undefined as number | undefined;
    this.snapshot = undefined as Snapshot | undefined;
  },
  onFitBegin(ctx: LuzContext) {
    ctx.addCleanup(() => this.release());
  },
  onEpochEnd(ctx: LuzContext) {
    const monitor = this.monitor as LuzMonitor;
    const value = monitor.value(ctx);
    if (!monitor.improves(value, this.currentBest)) return;
    this.currentBest = value;
    this.bestEpoch = ctx.epoch;
    const next: Snapshot = {
      epoch: ctx.epoch,
      weights: ctx.model.getWeights().map((w) => tf.keep(w.clone())),
      optimizers: Object.fromEntries(Object.entries(ctx.optimizers).map(([name, opt]) => [name, copyOptimizer(readOptimizerState(opt))])),
    };
    disposeSnapshot(this.snapshot);
    this.snapshot = next;
  },
  onFitEnd(ctx: LuzContext) {
    const s = this.snapshot as Snapshot | undefined;
    if (!s) return;
    assignModelWeights(ctx.model, s.weights);
    for (const [name, state] of Object.entries(s.optimizers)) {
      const opt = ctx.optimizers[name];
      if (opt) restoreOptimizerState(opt, state, (t) => t);
    }
    if (ctx.verbose) console.log(`Restored the best model: epoch ${s.epoch} (${(this.monitor as LuzMonitor).monitor} = ${this.currentBest}).`);
  },
  /** Frees the kept copy and forgets the best value (at the end of each fit). */
  release() {
    disposeSnapshot(this.snapshot);
    this.snapshot = undefined;
    this.currentBest = undefined;
  },
  stateDict() {
    const s = this.snapshot as Snapshot | undefined;
    return { currentBest: this.currentBest, bestEpoch: this.bestEpoch, snapshot: s ?? null };
  },
  loadStateDict(state: { currentBest?: number; bestEpoch?: number; snapshot: Snapshot | null }) {
    disposeSnapshot(this.snapshot);
    this.currentBest = state.currentBest;
    this.bestEpoch = state.bestEpoch;
    // Tensors of a loaded state are kept (tf.keep) and now owned by this callback.
    this.snapshot = state.snapshot ?? undefined;
  },
});
