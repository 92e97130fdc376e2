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
  type LuzCallback,
  type LuzContext,
  type LuzMonitor,
  type MonitorMode,
  type OptimizerState,
  type SavedCallbackState,
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

/** The in-memory copy of the best epoch: model weights, optimizer states and other callbacks' states (kept tensors). */
interface Snapshot {
  epoch: number;
  weights: tf.Tensor[];
  optimizers: Record<string, OptimizerState>;
  /** Other callbacks' states (copies). Absent in states saved by versions before 0.2 (nothing to roll back then). */
  callbacks?: SavedCallbackState[];
}

const KEYS = ['monitor', 'mode', 'minDelta'];
const WHERE = 'luzCallbackKeepBestModel()';

/** A deep copy of a callback state: tensors cloned and kept, arrays and objects copied, typed arrays sliced. */
function copyState(value: unknown): unknown {
  if (value instanceof tf.Tensor) return tf.keep(value.clone());
  if (Array.isArray(value)) return value.map(copyState);
  if (ArrayBuffer.isView(value)) return (value as unknown as { slice(): unknown }).slice();
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copyState(v)]));
}

/** Disposes every tensor inside a callback state. */
function disposeState(value: unknown): void {
  if (value instanceof tf.Tensor) value.dispose();
  else if (Array.isArray(value)) value.forEach(disposeState);
  else if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) Object.values(value).forEach(disposeState);
}

function disposeSnapshot(s: Snapshot | undefined): void {
  if (!s) return;
  tf.dispose(s.weights);
  for (const o of Object.values(s.optimizers)) tf.dispose(o.slots.map((x) => x.tensor));
  for (const c of s.callbacks ?? []) disposeState(c.state);
}

/** Copies the states of the other callbacks that can be restored (both `stateDict` and `loadStateDict`). */
function captureCallbackStates(callbacks: readonly LuzCallback[], self: LuzCallback): SavedCallbackState[] {
  const saved: SavedCallbackState[] = [];
  callbacks.forEach((cb, position) => {
    if (cb === self || typeof cb.stateDict !== 'function' || typeof cb.loadStateDict !== 'function') return;
    const state = cb.stateDict();
    if (state !== undefined && state !== null) saved.push({ name: cb.name, position, state: copyState(state) });
  });
  return saved;
}

/** The callback a saved state belongs to: the same position and name, else the same occurrence of the name. */
function findCallback(callbacks: readonly LuzCallback[], saved: SavedCallbackState[], index: number): LuzCallback | undefined {
  const s = saved[index];
  if (callbacks[s.position]?.name === s.name) return callbacks[s.position];
  const occurrence = saved.slice(0, index).filter((o) => o.name === s.name).length;
  return callbacks.filter((c) => c.name === s.name)[occurrence];
}

function copyOptimizer(state: OptimizerState): OptimizerState {
  return { ...state, slots: state.slots.map((s) => ({ ...s, tensor: tf.keep(s.tensor.clone()) })) };
}

/**
 * Keeps a copy of the state of the best epoch (by the monitored metric; the first epoch counts as
 * an improvement): the model weights, every optimizer's state and the `stateDict()` of every other
 * callback that also has `loadStateDict()` (an LR scheduler, early stopping, ...), taken at this
 * callback's `onEpochEnd`. At `onFitEnd` it restores all of them, as luz does, also when training
 * ended early (early stopping, Ctrl-C, `fit({ signal })`); records are kept. The copy lives in memory
 * (kept tensor clones, freed when the fit ends). Its `stateDict()` includes the copy, so a run
 * resumed by `luzCallbackAutoResume` still restores the best epoch even if it came before the
 * interruption.
 *
 * Difference from R luz: the best state is kept in memory instead of a temporary file (works in
 * browsers, no disk IO).
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
      callbacks: captureCallbackStates(ctx.callbacks, this as unknown as LuzCallback),
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
    const saved = s.callbacks ?? [];
    saved.forEach((entry, i) => {
      const cb = findCallback(ctx.callbacks, saved, i);
      if (cb?.loadStateDict) cb.loadStateDict(copyState(entry.state));
      else console.warn(`luzts: luzCallbackKeepBestModel kept a state of callback '${entry.name}', which is no longer attached; it is not restored.`);
    });
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
