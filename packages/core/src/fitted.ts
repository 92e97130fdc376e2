/**
 * Results: the fitted model, evaluations, `getMetrics()` and their printed summaries.
 * @module
 */
import type { LuzRecords, MetricSet } from './context.js';
import { formatMetricValue, type MetricValue } from './metric.js';
import type { Hparams, LuzModule, LuzModuleGenerator } from './module.js';

/** One row of {@link getMetrics}. Named values (several optimizers) become `loss.gen`-style metrics. */
export interface MetricRow {
  set: MetricSet;
  metric: string;
  epoch: number;
  value: number;
}

function rowsOf(records: LuzRecords): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const set of ['train', 'valid'] as const) {
    records.metrics[set].forEach((entry, i) => {
      for (const [metric, value] of Object.entries(entry ?? {})) {
        if (typeof value === 'number') rows.push({ set, metric, epoch: i + 1, value });
        else for (const [k, v] of Object.entries(value)) rows.push({ set, metric: `${metric}.${k}`, epoch: i + 1, value: v });
      }
    });
  }
  return rows;
}

function formatSeconds(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return 'n/a';
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
}

const mean = (xs: number[] | undefined) => (xs && xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

function metricLines(values: Record<string, MetricValue> | undefined): string[] {
  return Object.entries(values ?? {}).map(([k, v]) => `    ${k}: ${formatMetricValue(v)}`);
}

/**
 * A trained model (luz's `luz_module_fitted`): the model, the records, and the hyper-parameters.
 * Use it with `predict`, `evaluate`, `getMetrics`, and `String(fitted)` for a summary.
 */
export class LuzModuleFitted {
  readonly kind = 'luz_module_fitted' as const;
  constructor(
    /** The trained model. */
    readonly model: LuzModule,
    /** Everything logged during training. */
    readonly records: LuzRecords,
    /** Hyper-parameters of the module and optimizers. */
    readonly ctx: { hparams: Hparams; optHparams: Hparams },
    /** The generator the model was built from. */
    readonly generator: LuzModuleGenerator,
    /** Names of the optimizers used in training (validation loops over them). */
    readonly optimizerNames: string[],
  ) {}

  /**
   * A summary like luz's `print`: total time, time per epoch, the last epoch's metrics per set.
   * @example
   * ```ts
   * console.log(String(fitted));
   * ```
   */
  toString(): string {
    const p = this.records.profile ?? {};
    const lines = ['A `luz_module_fitted`', '── Time ──', `  • Total time: ${formatSeconds(p.fit?.[0])}`, `  • Avg time per training epoch: ${formatSeconds(mean(p.train))}`];
    if (p.valid?.length) lines.push(`  • Avg time per validation epoch: ${formatSeconds(mean(p.valid))}`);
    lines.push('── Results ──', 'Metrics observed in the last epoch.');
    const { train, valid } = this.records.metrics;
    if (train.length) lines.push('  ℹ Training:', ...metricLines(train[train.length - 1]));
    if (valid.length) lines.push('  ℹ Validation:', ...metricLines(valid[valid.length - 1]));
    const params = this.model.trainableVariables().reduce((n, v) => n + v.size, 0);
    lines.push('── Model ──', `  ${params.toLocaleString('en-US')} trainable parameters`);
    return lines.join('\n');
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** The result of `evaluate()` (luz's `luz_module_evaluation`). */
export class LuzModuleEvaluation {
  readonly kind = 'luz_module_evaluation' as const;
  constructor(readonly records: LuzRecords) {}

  /** A summary: one `name: value` line per metric. */
  toString(): string {
    return ['A `luz_module_evaluation`', '── Results ──', ...getMetrics(this).map((r) => `${r.metric}: ${formatMetricValue(r.value)}`)].join('\n');
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * The metrics of a fit as rows `{ set, metric, epoch, value }` (train then valid, by epoch, in
 * logging order); for an evaluation, rows `{ metric, value }`.
 *
 * @example
 * ```ts
 * getMetrics(fitted).filter((r) => r.set === 'valid' && r.metric === 'acc');
 * ```
 */
export function getMetrics(object: LuzModuleFitted | { records: LuzRecords }): MetricRow[];
export function getMetrics(object: LuzModuleEvaluation): Array<{ metric: string; value: number }>;
export function getMetrics(object: { records: LuzRecords }): Array<MetricRow | { metric: string; value: number }> {
  const rows = rowsOf(object.records);
  if (object instanceof LuzModuleEvaluation) return rows.map(({ metric, value }) => ({ metric, value }));
  return rows;
}
