/**
 * Regression metrics: MAE, MSE, RMSE.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { luzMetric, type LuzMetricGenerator } from '@luzts/core';
import { checkOptions, sameShape } from './validate.js';

/**
 * A mean of `f(preds - target)` over every element seen: the sum accumulates on device (float32),
 * the count comes from shapes; `finish` maps the mean to the metric (identity, or sqrt for RMSE).
 */
function elementwiseMean(abbrev: string, f: (d: tf.Tensor) => tf.Tensor, finish: (mean: number) => number = (m) => m) {
  return luzMetric({
    abbrev,
    initialize() {
      this.sum = tf.scalar(0, 'float32');
      this.n = 0;
    },
    update(preds: unknown, target: unknown) {
      const [p, t] = sameShape(abbrev, preds, target);
      this.sum = this.sum.add(f(p.toFloat().sub(t.toFloat())).sum());
      this.n += t.size;
    },
    compute() {
      return this.n === 0 ? NaN : finish(this.sum.dataSync()[0] / this.n);
    },
  });
}

const mae = elementwiseMean('MAE', (d) => d.abs());
const mse = elementwiseMean('MSE', (d) => d.square());
const rmse = elementwiseMean('RMSE', (d) => d.square(), Math.sqrt);

/**
 * Mean absolute error (luz's `luz_metric_mae`), abbrev `MAE`, record name `mae`: the mean of
 * `|preds - target|` over every element seen in the epoch. `preds` and `target` must have the same
 * shape. Takes no options.
 *
 * @example
 * ```ts
 * setup(factory, { loss, optimizer, metrics: [luzMetricMae()] }); // records.metrics.train[0].mae
 * const m = luzMetricMae().create(); m.update(preds, target); m.compute(); m.dispose();
 * ```
 */
export function luzMetricMae(options?: Record<string, never>): LuzMetricGenerator {
  checkOptions('luzMetricMae()', options, []);
  return mae();
}

/**
 * Mean squared error (luz's `luz_metric_mse`), abbrev `MSE`, record name `mse`: the mean of
 * `(preds - target)^2` over every element seen in the epoch. Same shapes required. No options.
 *
 * @example
 * ```ts
 * setup(factory, { loss, optimizer, metrics: [luzMetricMse()] }); // records.metrics.train[0].mse
 * ```
 */
export function luzMetricMse(options?: Record<string, never>): LuzMetricGenerator {
  checkOptions('luzMetricMse()', options, []);
  return mse();
}

/**
 * Root mean squared error (luz's `luz_metric_rmse`), abbrev `RMSE`, record name `rmse`: the square
 * root of the epoch's MSE (not the mean of per-batch RMSEs). Same shapes required. No options.
 *
 * @example
 * ```ts
 * setup(factory, { loss, optimizer, metrics: luzMetricSet({ validMetrics: [luzMetricRmse()] }) });
 * ```
 */
export function luzMetricRmse(options?: Record<string, never>): LuzMetricGenerator {
  checkOptions('luzMetricRmse()', options, []);
  return rmse();
}
