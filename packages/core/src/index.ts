/**
 * `@luzts/core`: luz's training loop for TensorFlow.js — `setup() → fit()`, the context `ctx`,
 * the callback protocol and the default callbacks.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { setup, fit, predict } from '@luzts/core';
 *
 * const module = setup(
 *   () => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 1 })] }),
 *   { loss: tf.losses.meanSquaredError, optimizer: () => tf.train.adam(0.01) },
 * );
 * const fitted = await fit(module, [tf.randomNormal([100, 10]), tf.randomNormal([100, 1])], { epochs: 5 });
 * const preds = await predict(fitted, tf.randomNormal([5, 10]));
 * ```
 * @packageDocumentation
 */
export { setup, setHparams, setOptHparams, asLuzModule } from './module.js';
export type { Hparams, LossFn, LuzModule, LuzModuleInterface, LuzModuleLike, LuzModuleGenerator, SetupOptions, OptimizerSpec, OptimizerWithVariables } from './module.js';
export { fit, defaultCallbacks } from './fit.js';
export type { FitOptions } from './fit.js';
export { evaluate, predict } from './evaluate.js';
export type { EvaluateOptions, PredictOptions } from './evaluate.js';
export { LuzModuleFitted, LuzModuleEvaluation, getMetrics } from './fitted.js';
export type { MetricRow } from './fitted.js';
export { LuzContext } from './context.js';
export type { LuzRecords, LogOptions, MetricSet, ContextMode } from './context.js';
export { luzCallback, isLuzCallback, fitEvents, otherEvents, synchronousEvents } from './callback.js';
export type { LuzCallback, LuzCallbackDefinition, LuzEvent, EventHandler } from './callback.js';
export { luzMetric, luzMetricSet, isLuzMetricSet, formatMetricValue } from './metric.js';
export type { LuzMetric, LuzMetricGenerator, LuzMetricDefinition, LuzMetricSet, LuzMetricSetOptions, MetricValue } from './metric.js';
export { asDataloader, LuzDataloader, TensorDataloader } from './data.js';
export type { Batch, DataloaderOptions, LuzData, TensorLike, TupleElement, TypedArray } from './data.js';
export { accelerator } from './accelerator.js';
export type { Accelerator, AcceleratorOptions, BackendName } from './accelerator.js';
export { LuzRng } from './rng.js';
export type { LuzRngState } from './rng.js';
export { LuzError, LuzCallbackError, LuzSignal, LuzStopTrainingSignal, LuzInterruptSignal, LuzSkipEpochSignal, stopTraining, interruptTraining, skipEpoch, checkOptionKeys, describe as describeValue } from './errors.js';
export { luzCallbackProfile } from './callbacks/profile.js';
export { luzCallbackTrainValid } from './callbacks/train-valid.js';
export { luzCallbackMetrics } from './callbacks/metrics.js';
export { luzCallbackProgress } from './callbacks/progress.js';
export { luzCallbackInterrupt } from './callbacks/interrupt.js';
export { luzMonitor, availableMonitors } from './monitor.js';
export type { LuzMonitor, MonitorMode, MonitorOptions } from './monitor.js';
export { StoredTensor } from './serialization.js';
export type { DecodedLuzFile, StoredDtype, StoredTensorInfo } from './serialization.js';
export { encodeCheckpoint, decodeCheckpoint, restoreCheckpoint, serializeFitted, deserializeFitted, serializeModelWeights, restoreModelWeights } from './checkpoint.js';
export type { LoadCheckpointOptions, LuzCheckpointContents, LuzFileKind, SavedCallbackState } from './checkpoint.js';
export { assignModelWeights, readOptimizerState, restoreOptimizerState } from './state.js';
export type { ModelState, OptimizerSlot, OptimizerState, TensorLikeInfo } from './state.js';
