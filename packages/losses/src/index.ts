/**
 * `@luzts/losses`: torch-style losses with a settable `reduction` (`nnCrossEntropyLoss`,
 * `nnNllLoss`, `nnBceWithLogitsLoss`, `nnMseLoss`, `nnL1Loss`) and luz's `nnMixupLoss`.
 *
 * @example
 * ```ts
 * import { setup, luzMetricSet } from '@luzts/core';
 * import { nnCrossEntropyLoss } from '@luzts/losses';
 *
 * const module = setup(factory, { loss: nnCrossEntropyLoss(), optimizer: () => tf.train.adam(1e-3) });
 * ```
 * @packageDocumentation
 */
export { defineLoss, isLuzLoss } from './loss.js';
export type { LuzLoss, Reduction } from './loss.js';
export { nnCrossEntropyLoss, nnNllLoss } from './cross-entropy.js';
export type { CrossEntropyLossOptions, NllLossOptions } from './cross-entropy.js';
export { nnBceWithLogitsLoss, nnMseLoss, nnL1Loss } from './elementwise.js';
export type { BceWithLogitsLossOptions, ElementwiseLossOptions } from './elementwise.js';
export { nnMixupLoss, computeMixupLoss, isMixedTarget, isMixupLoss } from './mixup-loss.js';
export type { MixedTarget, MixupLoss } from './mixup-loss.js';
