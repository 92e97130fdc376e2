/**
 * `@luzts/auto-resume`: resumes an interrupted training run where it stopped (luz's
 * `luz_callback_auto_resume`). Node.js only (writes files with `@luzts/core/node`).
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { LuzError, luzCallback, type LuzContext } from '@luzts/core';
import { checkWritable, luzCheckpoint, luzLoadCheckpoint, removeFile } from '@luzts/core/node';

/** Options of {@link luzCallbackAutoResume}. */
export interface AutoResumeOptions {
  /** The state file, rewritten (atomically) at every epoch end. Default `'./state.luzckpt'`. */
  path?: string;
}

const WHERE = 'luzCallbackAutoResume()';

/**
 * Makes a run resumable: at every epoch end it checkpoints the whole run (model weights, every
 * optimizer's state, records, every callback's `stateDict()`, the epoch and the RNG state) to
 * `path`, atomically, so a crash or a kill never leaves a broken state. When `fit` starts and
 * the state file exists, it restores all of it in `onFitBegin` and training continues after the
 * saved epoch: completed epochs are skipped entirely (no events fire for them). With
 * `fit({ seed })` a resumed run is the same run as an uninterrupted one, bit for bit on the same
 * backend (the model factory must build the same initial model, e.g. with seeded initializers,
 * only if nothing was saved yet).
 *
 * The state file is removed when `fit` ends normally, also after early stopping or an interrupt
 * (Ctrl-C): the next `fit` starts fresh. Only errors and crashes leave it behind. A state that
 * doesn't match the model (other weights, shapes or optimizers) is reported with a warning naming
 * the file and the mismatch, and training starts from scratch.
 *
 * Runs last (weight `Infinity`), after the other callbacks' `onEpochEnd`, so their state at the
 * end of the epoch is saved. Differences from R luz: skipped epochs fire no events at all (luz
 * issue #136: progress and timings were printed for them); the RNG state is saved, so shuffling
 * and random draws continue as if uninterrupted; a mismatching state warns instead of failing.
 *
 * @example
 * ```ts
 * // Run this script again after a crash: training continues from the last completed epoch.
 * const fitted = await fit(module, data, {
 *   epochs: 50,
 *   seed: 1,
 *   callbacks: [luzCallbackAutoResume({ path: './run-1/state.luzckpt' })],
 * });
 * ```
 */
export const luzCallbackAutoResume = luzCallback<AutoResumeOptions>({
  name: 'auto_resume_callback',
  weight: Infinity,
  initialize(options: AutoResumeOptions = {}) {
    for (const key of Object.keys(options ?? {})) {
      if (key !== 'path') throw new LuzError(`${WHERE}: unknown option '${key}'. Expected one of: path.`);
    }
    const { path = './state.luzckpt' } = options ?? {};
    if (typeof path !== 'string' || path.length === 0 || /[\\/]$/.test(path)) {
      throw new LuzError(`${WHERE}: 'path' must be a file path, got ${JSON.stringify(path)}.`);
    }
    this.path = path;
    /** The epoch the last `fit` resumed after (undefined when it started fresh). */
    this.resumedFrom = undefined as number | undefined;
  },
  async onFitBegin(ctx: LuzContext) {
    this.resumedFrom = undefined;
    await checkWritable(this.path, WHERE);
    if (!existsSync(this.path)) return;
    let epoch: number;
    try {
      epoch = (await luzLoadCheckpoint(ctx, this.path)).epoch;
    } catch (e) {
      if (!(e instanceof LuzError)) throw e;
      console.warn(`luzts: ${WHERE}: the saved state '${this.path}' can't be used for this run, training from scratch. ${e.message}`);
      return;
    }
    this.resumedFrom = epoch;
    ctx.startEpoch = epoch + 1;
    if (ctx.verbose) console.log(`Resuming model training after epoch ${epoch} (state reloaded from '${this.path}').`);
  },
  async onEpochEnd(ctx: LuzContext) {
    await luzCheckpoint(ctx, this.path);
  },
  async onFitEnd() {
    await removeFile(this.path);
  },
});
