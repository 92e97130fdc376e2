/**
 * Metrics: `luzMetric()` (stateful, exact, accumulating on device) and `luzMetricSet()`.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError, describe, checkOptionKeys } from './errors.js';
import type { LuzContext } from './context.js';

/** What `compute()` returns: a number, or named numbers (loss of several optimizers, per-class AUC). */
export type MetricValue = number | Record<string, number>;

/** A metric instance: fresh for every epoch and phase (train / valid). */
export interface LuzMetric {
  /** Display name (`Acc`, `MAE`); its lower-case form names the records (`acc`, `mae`). */
  readonly abbrev: string;
  /** Accumulates one batch. Tensors stored on `this` are owned by the metric (kept and disposed for you). */
  update(preds: any, target: any, ctx?: LuzContext): void;
  /** The metric over everything seen so far; may be called many times, has no side effects. */
  compute(): MetricValue;
  /** Formats a computed value for progress output (4 decimals). */
  format(value: MetricValue): string;
  /** Frees the metric's state tensors. */
  dispose(): void;
}

/** Creates fresh metric instances; what `luzMetricMae()` and friends return. */
export interface LuzMetricGenerator {
  readonly kind: 'luz_metric_generator';
  readonly abbrev: string;
  /** A new instance with empty state. */
  create(): LuzMetric;
}

/**
 * Definition of a metric for {@link luzMetric}. Methods see the instance as `this`; any other
 * function in the definition becomes a helper method.
 */
export interface LuzMetricDefinition<O extends object> {
  /** Display name; lower-cased for record names. Required. */
  abbrev: string;
  /** Sets up state from the options (e.g. `this.correct = tf.scalar(0)`). */
  initialize?: (options: O) => void;
  /** Accumulates a batch: `preds` is `ctx.pred`, `target` is `ctx.target`. */
  update: (preds: any, target: any, ctx?: LuzContext) => void;
  /** Returns plain numbers; must not change state. */
  compute: () => MetricValue;
  /** Custom formatting of computed values. */
  format?: (value: MetricValue) => string;
  [helper: string]: unknown;
}

/** Formats a metric value like luz: numbers rounded to 4 decimals, named values `name: v | name: v`. */
export function formatMetricValue(value: MetricValue): string {
  const f = (v: number) => (Number.isFinite(v) ? String(Number(v.toFixed(4))) : String(v));
  if (typeof value === 'number') return f(value);
  return Object.entries(value).map(([k, v]) => `${k}: ${f(v)}`).join(' | ');
}

/** Keeps every tensor stored directly on the metric (or in an array on it) and disposes those replaced. */
function adoptStateTensors(instance: Record<string, unknown>, owned: Set<tf.Tensor>): void {
  const current = new Set<tf.Tensor>();
  for (const value of Object.values(instance)) {
    if (value instanceof tf.Tensor) current.add(value);
    else if (Array.isArray(value)) for (const v of value) if (v instanceof tf.Tensor) current.add(v);
  }
  for (const t of current) if (!owned.has(t)) { tf.keep(t); owned.add(t); }
  for (const t of owned) if (!current.has(t)) { owned.delete(t); t.dispose(); }
}

/**
 * Defines a metric (luz's `luz_metric`). Returns a function of the options that returns a
 * {@link LuzMetricGenerator}; the loop creates a fresh instance every epoch and phase.
 *
 * State tensors stored on `this` are managed for you: replace them freely
 * (`this.total = this.total.add(x)`); the previous value is disposed.
 *
 * @example
 * ```ts
 * const luzMetricMeanPred = luzMetric({
 *   abbrev: 'MeanPred',
 *   initialize() { this.sum = tf.scalar(0); this.n = 0; },
 *   update(preds) { this.sum = this.sum.add(preds.sum()); this.n += preds.size; },
 *   compute() { return this.sum.dataSync()[0] / this.n; },
 * });
 * const module = setup(factory, { loss, optimizer, metrics: [luzMetricMeanPred()] });
 * ```
 */
export function luzMetric<O extends object = Record<string, never>>(
  definition: LuzMetricDefinition<O> & ThisType<any>,
): (options?: O) => LuzMetricGenerator {
  if (!definition || typeof definition !== 'object') {
    throw new LuzError(`luzMetric(): expected a definition object, got ${describe(definition)}.`);
  }
  if (typeof definition.abbrev !== 'string' || definition.abbrev.length === 0) {
    throw new LuzError(`luzMetric(): 'abbrev' must be a non-empty string, got ${describe(definition.abbrev)}.`);
  }
  for (const m of ['update', 'compute'] as const) {
    if (typeof definition[m] !== 'function') {
      throw new LuzError(`luzMetric(): '${m}' must be a function, got ${describe(definition[m])}.`);
    }
  }
  const { initialize, update, compute, format, ...rest } = definition;
  return (options?: O) => ({
    kind: 'luz_metric_generator',
    abbrev: definition.abbrev,
    create(): LuzMetric {
      const owned = new Set<tf.Tensor>();
      const instance: Record<string, unknown> = { ...rest };
      const self = instance as unknown as LuzMetric & Record<string, unknown>;
      tf.tidy(() => {
        initialize?.call(self, (options ?? {}) as O);
        adoptStateTensors(instance, owned);
      });
      Object.defineProperties(instance, {
        abbrev: { value: definition.abbrev, enumerable: false },
        update: {
          enumerable: false,
          value(preds: unknown, target: unknown, ctx?: LuzContext) {
            tf.tidy(() => {
              update.call(self, preds, target, ctx);
              adoptStateTensors(instance, owned);
            });
          },
        },
        compute: { enumerable: false, value: () => tf.tidy(() => compute.call(self) as never) as MetricValue },
        format: { enumerable: false, value: (v: MetricValue) => (format ? format.call(self, v) : formatMetricValue(v)) },
        dispose: {
          enumerable: false,
          value() {
            for (const t of owned) t.dispose();
            owned.clear();
          },
        },
      });
      return self;
    },
  });
}

/** Metrics per phase, the loss average first (luz's `luz_metric_set`). */
export interface LuzMetricSet {
  readonly kind: 'luz_metric_set';
  readonly train: readonly LuzMetricGenerator[];
  readonly valid: readonly LuzMetricGenerator[];
}

/** Options of {@link luzMetricSet}. */
export interface LuzMetricSetOptions {
  /** Metrics for both phases. Default: none (the loss is always there). */
  metrics?: LuzMetricGenerator | LuzMetricGenerator[];
  /** Metrics for training only. Default: none. */
  trainMetrics?: LuzMetricGenerator | LuzMetricGenerator[];
  /** Metrics for validation (and `evaluate`) only. Default: none. */
  validMetrics?: LuzMetricGenerator | LuzMetricGenerator[];
}

/** True for a value returned by {@link luzMetricSet}. */
export function isLuzMetricSet(x: unknown): x is LuzMetricSet {
  return !!x && typeof x === 'object' && (x as LuzMetricSet).kind === 'luz_metric_set';
}

function checkGenerators(arg: string, x: LuzMetricGenerator | LuzMetricGenerator[] | undefined): LuzMetricGenerator[] {
  const list = x === undefined ? [] : Array.isArray(x) ? x : [x];
  list.forEach((g, i) => {
    if (!g || (g as LuzMetricGenerator).kind !== 'luz_metric_generator') {
      const hint = typeof g === 'function' ? ' Perhaps you forgot to call it, e.g. luzMetricMae()?' : '';
      throw new LuzError(`Expected a metric generator in '${arg}' at index ${i}, got ${describe(g)}.${hint}`);
    }
  });
  return list;
}

/**
 * Chooses metrics per phase; the loss average is always first. Mixup-style callbacks use it to
 * compute accuracy on validation only.
 *
 * @example
 * ```ts
 * setup(factory, { loss, optimizer, metrics: luzMetricSet({ metrics: [luzMetricMae()], validMetrics: [luzMetricRmse()] }) });
 * // train: loss, mae — valid: loss, mae, rmse
 * ```
 */
export function luzMetricSet(options: LuzMetricSetOptions = {}): LuzMetricSet {
  checkOptionKeys('luzMetricSet()', options, ['metrics', 'trainMetrics', 'validMetrics']);
  const both = checkGenerators('metrics', options.metrics);
  const train = checkGenerators('trainMetrics', options.trainMetrics);
  const valid = checkGenerators('validMetrics', options.validMetrics);
  const loss = luzMetricLoss();
  return Object.freeze({ kind: 'luz_metric_set' as const, train: [loss, ...both, ...train], valid: [loss, ...both, ...valid] });
}

/**
 * The loss average (internal in luz, always present): running mean of `ctx.loss` per optimizer.
 * One optimizer → a number; several → `{ [optName]: number }`.
 */
export const luzMetricLoss = luzMetric({
  abbrev: 'Loss',
  initialize() {
    this.sums = [];
    this.names = [];
    this.steps = 0;
  },
  update(_preds: unknown, _target: unknown, ctx?: LuzContext) {
    if (!ctx) throw new LuzError('The loss metric needs the training context (update(preds, target, ctx)).');
    const losses = ctx.loss as Record<string, tf.Tensor>;
    const names = Object.keys(losses);
    if (this.steps === 0) {
      this.names = names;
      this.sums = names.map((n) => tf.zerosLike(losses[n]).asType('float32'));
    }
    this.sums = (this.names as string[]).map((n, i) => {
      const l = losses[n];
      if (!(l instanceof tf.Tensor)) throw new LuzError(`ctx.loss['${n}'] must be a tensor, got ${describe(l)}.`);
      return (this.sums[i] as tf.Tensor).add(l);
    });
    this.steps += 1;
  },
  compute() {
    if (this.steps === 0) return NaN;
    const values = (this.sums as tf.Tensor[]).map((s) => s.mean().dataSync()[0] / this.steps);
    const names = this.names as string[];
    if (names.length === 1) return values[0];
    return Object.fromEntries(names.map((n, i) => [n, values[i]]));
  },
});
