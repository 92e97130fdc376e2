/**
 * `@luzts/csv-logger`: luz's `luz_callback_csv_logger()`, writing every epoch's metrics to a CSV
 * file. Node only (it writes with `node:fs`).
 * @packageDocumentation
 */
import { accessSync, appendFileSync, constants, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LuzError, checkOptionKeys, describeValue, luzCallback, type LuzContext, type MetricSet } from '@luzts/core';
import { CsvTable, flattenMetrics, type Cell } from './csv.js';

export { quoteField, flattenMetrics, type Cell } from './csv.js';

/** Options of {@link luzCallbackCsvLogger}. */
export interface CsvLoggerOptions {
  /** The CSV file to write (a leading `~` is the home directory). Required. */
  path: string;
}

/** `~/x` → `<home>/x`, then absolute (luz's `path.expand`). */
function expandPath(path: string): string {
  const expanded = path === '~' ? homedir() : path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
  return resolve(expanded);
}

/** Throws a {@link LuzError} naming `path` when the log file could not be written. */
function checkWritable(path: string): void {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) throw new LuzError(`luzCallbackCsvLogger(): 'path' must be a file, but ${JSON.stringify(path)} is a directory.`);
  const target = stat ? path : dirname(path);
  try {
    if (!stat && !statSync(target).isDirectory()) throw new Error('not a directory');
    accessSync(target, constants.W_OK);
  } catch (e) {
    const why = stat ? 'the file is not writable' : `its directory ${JSON.stringify(target)} does not exist or is not writable`;
    throw new LuzError(`luzCallbackCsvLogger(): can't write the log to 'path' ${JSON.stringify(path)}: ${why}.`, { cause: e });
  }
}

/**
 * Logs the metrics of every epoch to a CSV file (luz's `luz_callback_csv_logger`): one row per set
 * and epoch, columns `epoch,set,<metrics>`. Node only.
 *
 * - The first write of an instance overwrites the file and writes the header; later epochs (and
 *   later fits with the same instance) append. Rows are flushed at each epoch end, so a crash loses
 *   at most the running epoch.
 * - Train and valid may have different metrics: the header is the union of their columns, absent
 *   values are empty cells. When a new metric appears mid-run, the file is rewritten with the
 *   widened header.
 * - Named values (several optimizers) become `loss.gen`-style columns. Fields are quoted per
 *   RFC 4180; lines end with `\n`.
 * - An unwritable path (missing directory, a directory, no permission) fails at `onFitBegin`.
 *
 * @example
 * ```ts
 * import { luzCallbackCsvLogger } from '@luzts/csv-logger';
 * await fit(module, data, { epochs: 5, validData: 0.2, callbacks: [luzCallbackCsvLogger({ path: 'log.csv' })] });
 * // log.csv:
 * // epoch,set,loss
 * // 1,train,0.93
 * // 1,valid,0.88
 * // ...
 * ```
 */
export const luzCallbackCsvLogger = luzCallback<CsvLoggerOptions>({
  name: 'csv_logger_callback',
  initialize(options: CsvLoggerOptions) {
    checkOptionKeys('luzCallbackCsvLogger()', options, ['path']);
    const path = options?.path;
    if (typeof path !== 'string' || path.length === 0) {
      throw new LuzError(`luzCallbackCsvLogger(): 'path' must be a non-empty string (the CSV file), got ${describeValue(path)}.`);
    }
    this.path = expandPath(path);
    this.table = new CsvTable();
    this.written = false;
  },
  onFitBegin() {
    checkWritable(this.path);
  },
  onEpochEnd(ctx: LuzContext) {
    const rows: Array<Record<string, Cell>> = [];
    for (const set of ['train', 'valid'] as MetricSet[]) {
      const metrics = ctx.getMetrics(set, ctx.epoch);
      if (metrics) rows.push({ ...flattenMetrics(metrics), epoch: ctx.epoch, set });
    }
    if (rows.length === 0) return;
    const table = this.table as CsvTable;
    const widened = table.add(rows);
    if (!this.written || widened) writeFileSync(this.path, table.text());
    else appendFileSync(this.path, table.lines(rows));
    this.written = true;
  },
});
