/**
 * Monitoring a metric across epochs (luz's internal `monitor_metrics`), shared by early stopping,
 * model checkpoints and keep-best-model.
 * @module
 */
import type { LuzContext, MetricSet } from './context.js';
import { LuzError, describe } from './errors.js';

/** How an improvement is judged: lower is better, higher is better, closer to zero is better. */
export type MonitorMode = 'min' | 'max' | 'zero';

/** Options of {@link luzMonitor}. */
export interface MonitorOptions {
  /**
   * `<set>_<metric>[_<name>]`, e.g. `'valid_loss'`, `'train_acc'`, `'train_loss_gen'` (the loss
   * of optimizer `gen`). Case-insensitive. Default `'valid_loss'`.
   */
  monitor?: string;
  /** `'min'`, `'max'` or `'zero'`. Default `'min'`. */
  mode?: MonitorMode;
  /** Least change that counts as an improvement (non-negative). Default 0. */
  minDelta?: number;
}

/** A monitored metric: finds its value in the records and compares values. */
export interface LuzMonitor {
  /** The monitored name, lower-cased (`'valid_loss'`). */
  readonly monitor: string;
  readonly mode: MonitorMode;
  readonly minDelta: number;
  /**
   * The metric's value at `epoch` (default `ctx.epoch`). Throws a {@link LuzError} naming the
   * metric and listing the available ones when it was not logged.
   */
  value(ctx: LuzContext, epoch?: number): number;
  /** Whether `current` improves on `best` by more than `minDelta` (always true when `best` is undefined). */
  improves(current: number, best: number | undefined): boolean;
}

const MODES: readonly MonitorMode[] = ['min', 'max', 'zero'];

/**
 * Names every metric that can be monitored at an epoch: `train_loss`, `valid_acc`,
 * `train_loss_gen`, ...
 */
export function availableMonitors(ctx: LuzContext, epoch = ctx.epoch): string[] {
  const out: string[] = [];
  for (const set of ['train', 'valid'] as const) {
    for (const [name, value] of Object.entries(ctx.getMetrics(set, epoch) ?? {})) {
      if (typeof value === 'number') out.push(`${set}_${name}`);
      else for (const sub of Object.keys(value ?? {})) out.push(`${set}_${name}_${sub}`);
    }
  }
  return out;
}

/**
 * Validates monitor options and returns a {@link LuzMonitor}. `where` names the caller in errors.
 *
 * Comparisons (`best` is the best value so far): `min`: `current < best - minDelta`; `max`:
 * `current > best + minDelta`; `zero`: `|current| < |best| - minDelta`. (luz's `zero` mode ignored
 * the new value; luz also did not lower-case the monitor despite its docs. Both are fixed here.)
 *
 * @example
 * ```ts
 * const m = luzMonitor({ monitor: 'valid_loss', mode: 'min', minDelta: 0.01 }, 'myCallback');
 * const cb = luzCallback({ name: 'watch', onEpochEnd(ctx) { const v = m.value(ctx); if (m.improves(v, this.best)) this.best = v; } });
 * ```
 */
export function luzMonitor(options: MonitorOptions = {}, where = 'monitor'): LuzMonitor {
  const { monitor = 'valid_loss', mode = 'min', minDelta = 0 } = options;
  if (typeof monitor !== 'string' || !/^(train|valid)_[^_].*$/i.test(monitor)) {
    throw new LuzError(`${where}: 'monitor' must be '<set>_<metric>' with set 'train' or 'valid' (e.g. 'valid_loss', 'train_acc'), got ${describe(monitor)}.`);
  }
  if (!MODES.includes(mode)) throw new LuzError(`${where}: 'mode' must be one of 'min', 'max', 'zero', got ${describe(mode)}.`);
  if (typeof minDelta !== 'number' || !Number.isFinite(minDelta) || minDelta < 0) {
    throw new LuzError(`${where}: 'minDelta' must be a finite number >= 0, got ${describe(minDelta)}.`);
  }
  const name = monitor.toLowerCase();
  const set = name.slice(0, name.indexOf('_')) as MetricSet;
  const rest = name.slice(set.length + 1);
  return {
    monitor: name,
    mode,
    minDelta,
    value(ctx: LuzContext, epoch = ctx.epoch): number {
      const metrics = ctx.getMetrics(set, epoch) ?? {};
      let value: unknown = metrics[rest];
      if (value === undefined) {
        // `loss_gen`: metric `loss`, sub-name `gen` (metric names may themselves contain '_').
        for (let i = rest.lastIndexOf('_'); i > 0 && value === undefined; i = rest.lastIndexOf('_', i - 1)) {
          const base = metrics[rest.slice(0, i)];
          if (base && typeof base === 'object') value = (base as Record<string, number>)[rest.slice(i + 1)];
        }
      }
      if (typeof value === 'number') return value;
      const available = availableMonitors(ctx, epoch);
      const list = available.length ? available.map((a) => `'${a}'`).join(', ') : 'none';
      if (value && typeof value === 'object') {
        throw new LuzError(`${where}: the monitored metric '${name}' has several values at epoch ${epoch} (${Object.keys(value).join(', ')}); monitor one of them. Available: ${list}.`);
      }
      const hint = set === 'valid' && !ctx.getMetrics('valid', epoch) ? ' No validation metrics were logged: pass validData to fit(), or monitor a train_ metric.' : '';
      throw new LuzError(`${where}: the monitored metric '${name}' was not found at epoch ${epoch}.${hint} Available: ${list}.`);
    },
    improves(current: number, best: number | undefined): boolean {
      if (best === undefined || best === null || Number.isNaN(best)) return !Number.isNaN(current);
      if (mode === 'min') return current < best - minDelta;
      if (mode === 'max') return current > best + minDelta;
      return Math.abs(current) < Math.abs(best) - minDelta;
    },
  };
}
