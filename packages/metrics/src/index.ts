/**
 * `@luzts/metrics`: luz's built-in metrics for luzts — accuracy, binary accuracy, MAE, MSE, RMSE
 * and AUROC — as stateful accumulators whose epoch value is exact (not an average of batch values).
 *
 * @example
 * ```ts
 * import { setup, fit } from '@luzts/core';
 * import { luzMetricAccuracy, luzMetricMulticlassAuroc } from '@luzts/metrics';
 *
 * const module = setup(factory, { loss, optimizer, metrics: [luzMetricAccuracy(), luzMetricMulticlassAuroc({ average: 'macro' })] });
 * const fitted = await fit(module, data, { epochs: 5 });
 * fitted.records.metrics.train[4]; // { loss, acc, auc }
 * ```
 * @packageDocumentation
 */
export { luzMetricMae, luzMetricMse, luzMetricRmse } from './regression.js';
export { luzMetricAccuracy, luzMetricBinaryAccuracy, luzMetricBinaryAccuracyWithLogits } from './accuracy.js';
export type { BinaryAccuracyOptions } from './accuracy.js';
export { luzMetricBinaryAuroc, luzMetricMulticlassAuroc } from './auroc.js';
export type { AurocAverage, BinaryAurocOptions, MulticlassAurocOptions } from './auroc.js';
