/**
 * `@luzts/resume-from-checkpoint`: starts training from a saved checkpoint (luz's
 * `luz_callback_resume_from_checkpoint`). Node.js only (reads files with `@luzts/core/node`).
 * @packageDocumentation
 */
import { stat } from 'node:fs/promises';
import { LuzError, luzCallback, type LuzContext } from '@luzts/core';
import { latestCheckpoint, luzLoadCheckpoint } from '@luzts/core/node';

/** Options of {@link luzCallbackResumeFromCheckpoint}. */
export interface ResumeFromCheckpointOptions {
  /**
   * A checkpoint file (from `luzCallbackModelCheckpoint`, `luzCallbackAutoResume` or
   * `luzCheckpoint`), or a directory: its newest checkpoint (latest modification time, then last
   * name) is used. Required.
   */
  path: string;
  /** Restore the model's weights. Default true. */
  restoreModelState?: boolean;
  /** Restore the records (metrics of the earlier epochs). Default false. */
  restoreRecords?: boolean;
  /** Restore the optimizers' states (moments, iteration counts). Default false. */
  restoreOptimizerState?: boolean;
  /** Restore the callbacks' states (`loadStateDict`). Default false. */
  restoreCallbacksState?: boolean;
}

const KEYS = ['path', 'restoreModelState', 'restoreRecords', 'restoreOptimizerState', 'restoreCallbacksState'];
const WHERE = 'luzCallbackResumeFromCheckpoint()';

/**
 * Loads a checkpoint at `onFitBegin` and trains from there: by default the model's weights only
 * (fine-tuning from a checkpoint); records, optimizer and callback states on request. Unlike
 * `luzCallbackAutoResume` it does not skip epochs: `fit` runs all its epochs. A missing path
 * warns and training starts from the model's initial state; a checkpoint of another model is an
 * error naming the first mismatching weight.
 *
 * Differences from R luz: a directory's newest checkpoint is chosen by modification time (then
 * name), not by name only; temporary files of interrupted writes are ignored.
 *
 * @example
 * ```ts
 * const fitted = await fit(module, data, {
 *   epochs: 5,
 *   callbacks: [luzCallbackResumeFromCheckpoint({ path: 'checkpoints/' })],
 * });
 * ```
 */
export const luzCallbackResumeFromCheckpoint = luzCallback<ResumeFromCheckpointOptions>({
  name: 'resume_from_checkpoint_callback',
  initialize(options: ResumeFromCheckpointOptions) {
    for (const key of Object.keys(options ?? {})) {
      if (!KEYS.includes(key)) throw new LuzError(`${WHERE}: unknown option '${key}'. Expected one of: ${KEYS.join(', ')}.`);
    }
    const { path, restoreModelState = true, restoreRecords = false, restoreOptimizerState = false, restoreCallbacksState = false } = options ?? ({} as ResumeFromCheckpointOptions);
    if (typeof path !== 'string' || path.length === 0) throw new LuzError(`${WHERE}: 'path' must be a checkpoint file or a directory, got ${JSON.stringify(path)}.`);
    for (const [key, value] of Object.entries({ restoreModelState, restoreRecords, restoreOptimizerState, restoreCallbacksState })) {
      if (typeof value !== 'boolean') throw new LuzError(`${WHERE}: '${key}' must be a boolean, got ${JSON.stringify(value)}.`);
    }
    this.path = path;
    this.options = { restoreModelState, restoreRecords, restoreOptimizerState, restoreCallbacksState, restoreRngState: false };
    /** The checkpoint file loaded by the last `fit` (undefined when none was found). */
    this.loaded = undefined as string | undefined;
  },
  async onFitBegin(ctx: LuzContext) {
    this.loaded = undefined;
    const info = await stat(this.path).catch(() => undefined);
    const file = info?.isDirectory() ? await latestCheckpoint(this.path) : info ? this.path : undefined;
    if (!file) {
      console.warn(`luzts: ${WHERE}: the checkpoint path '${this.path}' does not exist${info ? ' (the directory is empty)' : ''}. Training starts from the state initialized by default.`);
      return;
    }
    await luzLoadCheckpoint(ctx, file, this.options);
    this.loaded = file;
  },
});
