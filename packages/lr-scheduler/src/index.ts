/**
 * `@luzts/lr-scheduler`: learning-rate schedules for luzts (luz's `luz_callback_lr_scheduler` with
 * PyTorch's schedules), a learning-rate setter for every tfjs optimizer, and the learning-rate
 * finder (`lr_finder`).
 *
 * @example
 * ```ts
 * import { fit } from '@luzts/core';
 * import { luzCallbackLrScheduler, lrStep } from '@luzts/lr-scheduler';
 *
 * const fitted = await fit(module, data, {
 *   epochs: 20,
 *   callbacks: [luzCallbackLrScheduler(lrStep({ stepSize: 5, gamma: 0.5 }))],
 * });
 * fitted.records.lr?.opt; // learning rate of each epoch
 * ```
 * @packageDocumentation
 */
export { getLearningRate, setLearningRate, getMomentum, setMomentum, momentumKind, supportedOptimizers } from './optimizer-lr.js';
export type { LrSchedule, LrScheduler, LrSchedulerState } from './base.js';
export { lrStep, lrMultiplicative, lrExponential, lrLambda, lrCosineAnnealing } from './schedules.js';
export type { LrStepOptions, LrMultiplicativeOptions, LrExponentialOptions, LrLambdaOptions, LrCosineAnnealingOptions } from './schedules.js';
export { lrOneCycle } from './one-cycle.js';
export type { LrOneCycleOptions } from './one-cycle.js';
export { lrReduceOnPlateau } from './plateau.js';
export type { LrReduceOnPlateauOptions } from './plateau.js';
export { luzCallbackLrScheduler } from './callback.js';
export type { LrSchedulerCallbackOptions } from './callback.js';
export { lrFinder, smoothLosses, suggestLr } from './lr-finder.js';
export type { LrFinderOptions, LrRecord, LrRecords } from './lr-finder.js';
export { lrFinderSvg } from './svg.js';
export type { LrFinderSvgOptions } from './svg.js';
