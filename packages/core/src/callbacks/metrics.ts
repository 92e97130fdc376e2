import { luzCallback } from '../callback.js';
import type { LuzContext, MetricSet } from '../context.js';
import { LuzError } from '../errors.js';
import type { LuzMetric } from '../metric.js';

/** Record names for a phase's metrics: lower-cased abbrevs, duplicates numbered (`acc`, `acc2`). */
export function metricRecordNames(metrics: readonly LuzMetric[]): string[] {
  const seen = new Map<string, number>();
  return metrics.map((m) => {
    const base = m.abbrev.toLowerCase();
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}${n}`;
  });
}

function failure(ctx: LuzContext, what: 'update' | 'compute', metric: LuzMetric, e: unknown): Error {
  const reason = e instanceof Error ? e.message : String(e);
  return new LuzError(
    `Error when evaluating ${what} for metric with abbrev '${metric.abbrev}': ${reason}\n` +
      `  The error happened at iter ${ctx.iter} of epoch ${ctx.epoch}.\n` +
      `  The model was ${ctx.training ? '' : 'not '}in training mode.`,
    { cause: e },
  );
}

function begin(ctx: LuzContext, set: MetricSet): void {
  ctx.metrics[set].forEach((m) => m.dispose());
  const generators = ctx.metricSet[set];
  ctx.metrics = { ...ctx.metrics, [set]: generators.map((g) => g.create()) };
}

function update(ctx: LuzContext, set: MetricSet): void {
  for (const m of ctx.metrics[set]) {
    try {
      m.update(ctx.pred, ctx.target, ctx);
    } catch (e) {
      throw failure(ctx, 'update', m, e);
    }
  }
}

function end(ctx: LuzContext, set: MetricSet): void {
  const metrics = ctx.metrics[set];
  const names = metricRecordNames(metrics);
  metrics.forEach((m, i) => {
    let value;
    try {
      value = m.compute();
    } catch (e) {
      throw failure(ctx, 'compute', m, e);
    }
    ctx.logMetric(names[i], value);
  });
}

/**
 * Drives the metrics (default in `fit` and `evaluate`): fresh instances per epoch and phase,
 * `update(ctx.pred, ctx.target, ctx)` after every batch, `compute()` logged at the phase end as
 * `records.metrics[set][epoch - 1][abbrev.toLowerCase()]`.
 *
 * @example
 * ```ts
 * const fitted = await fit(setup(factory, { loss, optimizer, metrics: [luzMetricMae()] }), data);
 * fitted.records.metrics.train[0]; // { loss: 0.91, mae: 0.77 }
 * ```
 */
export const luzCallbackMetrics = luzCallback({
  name: 'metrics_callback',
  onFitBegin(ctx: LuzContext) {
    ctx.metrics = { train: [], valid: [] };
  },
  onTrainBegin(ctx: LuzContext) { begin(ctx, 'train'); },
  onTrainBatchEnd(ctx: LuzContext) { update(ctx, 'train'); },
  onTrainEnd(ctx: LuzContext) { end(ctx, 'train'); },
  onValidBegin(ctx: LuzContext) { begin(ctx, 'valid'); },
  onValidBatchEnd(ctx: LuzContext) { update(ctx, 'valid'); },
  onValidEnd(ctx: LuzContext) { end(ctx, 'valid'); },
});
