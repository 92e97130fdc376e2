/**
 * `@luzts/tfevents`: luz's `luz_callback_tfevents()`, logging metrics (and optionally weight
 * histograms) to TensorBoard event files. Node only (it writes with `node:fs`).
 * @packageDocumentation
 */
import { resolve } from 'node:path';
import { LuzError, checkOptionKeys, describeValue, luzCallback, type LuzContext, type MetricSet } from '@luzts/core';
import { TfEventsWriter } from './writer.js';

export { TfEventsWriter } from './writer.js';
export { histogram, type Histogram } from './histogram.js';
export { crc32c, maskedCrc32c } from './crc32c.js';

/** Options of {@link luzCallbackTfevents}. */
export interface TfeventsOptions {
  /** Directory of the event file, created if needed. Default `'logs'`. */
  logdir?: string;
  /**
   * Weight histograms at the end of each training phase: `true` for every weight of the model
   * (`ctx.model.weightNames()`), or a list of weight names. Default `false`.
   */
  histograms?: boolean | string[];
}


/** The scalars of one set and epoch, tagged `set/metric` or `set/metric/name` for named values. */
function scalars(ctx: LuzContext, set: MetricSet): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const [name, value] of Object.entries(ctx.getMetrics(set, ctx.epoch) ?? {})) {
    if (typeof value === 'number') out.push([`${set}/${name}`, value]);
    else for (const [k, v] of Object.entries(value)) out.push([`${set}/${name}/${k}`, v]);
  }
  return out;
}

/**
 * Logs metrics to TensorBoard event files (luz's `luz_callback_tfevents`). Node only.
 *
 * At the end of each training phase it writes the training metrics (`train/loss`, `train/acc`,
 * `train/loss/<optName>` for several optimizers) with `step = epoch`, and, when `histograms` is
 * set, one histogram per weight tagged `weights/<weight name>`; at the end of each validation
 * phase it writes `valid/...`. One event file per fit, `events.out.tfevents.<secs>.<host>`, flushed
 * at every phase end. View with `tensorboard --logdir logs`.
 *
 * @example
 * ```ts
 * import { luzCallbackTfevents } from '@luzts/tfevents';
 * await fit(module, data, { epochs: 10, validData: 0.2, callbacks: [luzCallbackTfevents({ logdir: 'logs/run1', histograms: true })] });
 * ```
 */
export const luzCallbackTfevents = luzCallback<TfeventsOptions>({
  name: 'tfevents_callback',
  initialize(options: TfeventsOptions) {
    checkOptionKeys('luzCallbackTfevents()', options, ['logdir', 'histograms']);
    const { logdir = 'logs', histograms = false } = options ?? {};
    if (typeof logdir !== 'string' || logdir.length === 0) {
      throw new LuzError(`luzCallbackTfevents(): 'logdir' must be a non-empty string, got ${describeValue(logdir)}.`);
    }
    if (typeof histograms !== 'boolean' && !(Array.isArray(histograms) && histograms.every((h) => typeof h === 'string'))) {
      throw new LuzError(`luzCallbackTfevents(): 'histograms' must be a boolean or an array of weight names, got ${describeValue(histograms)}.`);
    }
    this.logdir = resolve(logdir);
    this.histograms = histograms;
    this.writer = undefined;
  },
  onFitBegin(ctx: LuzContext) {
    if (Array.isArray(this.histograms)) {
      const names = ctx.model.weightNames();
      const unknown = (this.histograms as string[]).filter((h) => !names.includes(h));
      if (unknown.length) {
        throw new LuzError(`luzCallbackTfevents(): 'histograms' names unknown weights ${unknown.map((u) => JSON.stringify(u)).join(', ')}. The model's weights are: ${names.join(', ')}.`);
      }
    }
    try {
      this.writer = new TfEventsWriter(this.logdir);
    } catch (e) {
      throw new LuzError(`luzCallbackTfevents(): can't write event files to 'logdir' ${JSON.stringify(this.logdir)}: ${(e as Error).message}`, { cause: e });
    }
  },
  onTrainEnd(ctx: LuzContext) {
    const writer = this.writer as TfEventsWriter;
    for (const [tag, value] of scalars(ctx, 'train')) writer.scalar(tag, value, ctx.epoch);
    if (this.histograms !== false) {
      const names = ctx.model.weightNames();
      const weights = ctx.model.getWeights();
      const wanted: string[] = this.histograms === true ? names : this.histograms;
      names.forEach((name, i) => {
        if (wanted.includes(name)) writer.histogram(`weights/${name}`, weights[i].dataSync(), ctx.epoch);
      });
    }
    writer.flush();
  },
  onValidEnd(ctx: LuzContext) {
    const writer = this.writer as TfEventsWriter;
    for (const [tag, value] of scalars(ctx, 'valid')) writer.scalar(tag, value, ctx.epoch);
    writer.flush();
  },
  onFitEnd() {
    (this.writer as TfEventsWriter | undefined)?.flush();
  },
});
