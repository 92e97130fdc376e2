/**
 * `@luzts/model-checkpoint`: saves checkpoints during training (luz's
 * `luz_callback_model_checkpoint`). Node.js only (writes files with `@luzts/core/node`).
 * @packageDocumentation
 */
import { dirname, join } from 'node:path';
import { LuzError, checkOptionKeys, describeValue, luzCallback, luzMonitor, type LuzContext, type LuzMonitor, type MonitorMode } from '@luzts/core';
import { CHECKPOINT_EXTENSION, checkWritable, luzCheckpoint, removeFile } from '@luzts/core/node';
import { checkTemplate, formatTemplate } from './template.js';

export { formatTemplate, checkTemplate } from './template.js';
export type { TemplateValues } from './template.js';

/** Options of {@link luzCallbackModelCheckpoint}. */
export interface ModelCheckpointOptions {
  /**
   * Where to save: a file path template such as `'ckpt/epoch-{epoch:02d}-{monitor:.3f}.luzckpt'`
   * (names `epoch`, `monitor` (value), `monitorName`; formats `d` and `f`), or a directory ending
   * in `/`, which gets luz's file name `epoch-{epoch:02d}-{monitorName}-{monitor:.3f}.luzckpt`.
   * A constant path is overwritten every time. Required.
   */
  path: string;
  /** The metric to watch (case-insensitive). It must exist even when `saveBestOnly` is false. Default `'valid_loss'`. */
  monitor?: string;
  /** Save only when the monitored metric improves (and at the first epoch). Default false. */
  saveBestOnly?: boolean;
  /** `'min'`, `'max'` or `'zero'`. Default `'min'`. */
  mode?: MonitorMode;
  /** Least change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Keep only the `saveTopK` best checkpoints (by the monitored metric), deleting the others. Default: keep all. */
  saveTopK?: number;
  /** Also write `last.luzckpt` (next to the checkpoints) at every epoch end. Default false. */
  saveLast?: boolean;
}

/** A checkpoint written by the callback. */
export interface SavedCheckpoint {
  path: string;
  epoch: number;
  value: number;
}

const KEYS = ['path', 'monitor', 'saveBestOnly', 'mode', 'minDelta', 'saveTopK', 'saveLast'];
const WHERE = 'luzCallbackModelCheckpoint()';

/** luz's default file name for a directory path. */
export const DEFAULT_FILE_NAME = `epoch-{epoch:02d}-{monitorName}-{monitor:.3f}${CHECKPOINT_EXTENSION}`;

/** Orders checkpoints best first for `mode`; ties keep the earlier epoch first. */
function rank(mode: MonitorMode) {
  const key = (v: number) => (Number.isNaN(v) ? Infinity : mode === 'min' ? v : mode === 'max' ? -v : Math.abs(v));
  return (a: SavedCheckpoint, b: SavedCheckpoint) => key(a.value) - key(b.value) || a.epoch - b.epoch;
}

/**
 * Saves a checkpoint (model weights, optimizer states, records, callback states, epoch, RNG
 * state; see `luzCheckpoint`) at the end of every epoch, or only of improving epochs with
 * `saveBestOnly`. Files are written atomically. The checkpoint directory is created and probed at
 * `onFitBegin`, so an unwritable path fails before training starts. Restore with
 * `luzLoadCheckpoint(fitted, file)` or `luzCallbackResumeFromCheckpoint`.
 *
 * @example
 * ```ts
 * const fitted = await fit(module, data, {
 *   epochs: 10,
 *   validData: 0.2,
 *   callbacks: [luzCallbackModelCheckpoint({ path: 'checkpoints/', saveBestOnly: true, saveTopK: 3, saveLast: true })],
 * });
 * ```
 */
export const luzCallbackModelCheckpoint = luzCallback<ModelCheckpointOptions>({
  name: 'model_checkpoint_callback',
  initialize(options: ModelCheckpointOptions) {
    if (options === undefined) throw new LuzError(`${WHERE}: expected an options object with a 'path', got undefined.`);
    checkOptionKeys(WHERE, options, KEYS);
    const { path, saveBestOnly = false, saveTopK, saveLast = false } = options;
    if (typeof path !== 'string' || path.length === 0) throw new LuzError(`${WHERE}: 'path' must be a non-empty string (a file template or a directory ending in '/'), got ${describeValue(path)}.`);
    if (typeof saveBestOnly !== 'boolean') throw new LuzError(`${WHERE}: 'saveBestOnly' must be a boolean, got ${describeValue(saveBestOnly)}.`);
    if (typeof saveLast !== 'boolean') throw new LuzError(`${WHERE}: 'saveLast' must be a boolean, got ${describeValue(saveLast)}.`);
    if (saveTopK !== undefined && (typeof saveTopK !== 'number' || !Number.isInteger(saveTopK) || saveTopK < 1)) {
      throw new LuzError(`${WHERE}: 'saveTopK' must be a positive integer, got ${describeValue(saveTopK)}.`);
    }
    this.template = /[\\/]$/.test(path) ? `${path}${DEFAULT_FILE_NAME}` : path;
    checkTemplate(this.template);
    this.monitor = luzMonitor(options, WHERE);
    this.saveBestOnly = saveBestOnly;
    this.saveTopK = saveTopK;
    this.saveLast = saveLast;
    this.currentBest = undefined as number | undefined;
    /** Checkpoints written so far (those still on disk with `saveTopK`). */
    this.saved = [] as SavedCheckpoint[];
  },
  async onFitBegin() {
    const probe = formatTemplate(this.template, { epoch: 1, monitor: 0, monitorName: (this.monitor as LuzMonitor).monitor });
    await checkWritable(`${dirname(probe)}/`, WHERE);
  },
  async onEpochEnd(ctx: LuzContext) {
    const monitor = this.monitor as LuzMonitor;
    const value = monitor.value(ctx);
    const improved = monitor.improves(value, this.currentBest);
    if (improved) this.currentBest = value;
    if (!this.saveBestOnly || improved) {
      const path = formatTemplate(this.template, { epoch: ctx.epoch, monitor: value, monitorName: monitor.monitor });
      const saved = (this.saved as SavedCheckpoint[]).filter((s) => s.path !== path);
      saved.push({ path, epoch: ctx.epoch, value });
      this.saved = saved;
      await luzCheckpoint(ctx, path);
      if (this.saveTopK !== undefined && saved.length > this.saveTopK) {
        const ordered = [...saved].sort(rank(monitor.mode));
        const drop = ordered.slice(this.saveTopK);
        for (const s of drop) await removeFile(s.path);
        this.saved = saved.filter((s) => !drop.includes(s));
      }
    }
    if (this.saveLast) {
      const dir = dirname(formatTemplate(this.template, { epoch: ctx.epoch, monitor: value, monitorName: monitor.monitor }));
      await luzCheckpoint(ctx, join(dir, `last${CHECKPOINT_EXTENSION}`));
    }
  },
  stateDict() {
    return { currentBest: this.currentBest, saved: this.saved };
  },
  loadStateDict(state: { currentBest?: number; saved?: SavedCheckpoint[] }) {
    this.currentBest = state.currentBest;
    this.saved = state.saved ?? [];
  },
});
