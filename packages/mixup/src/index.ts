/**
 * `@luzts/mixup`: mixup for luzts — `luzCallbackMixup()` (luz's `luz_callback_mixup`) and
 * `nnfMixup()` (luz's `nnf_mixup`). The mixup loss `nnMixupLoss` lives in `@luzts/losses` and is
 * re-exported here.
 *
 * @example
 * ```ts
 * import { setup, fit, luzMetricSet } from '@luzts/core';
 * import { nnCrossEntropyLoss } from '@luzts/losses';
 * import { luzCallbackMixup } from '@luzts/mixup';
 *
 * const module = setup(factory, { loss: nnCrossEntropyLoss({ reduction: 'none' }), optimizer: () => tf.train.adam(1e-3) });
 * await fit(module, [x, y], { epochs: 10, callbacks: [luzCallbackMixup({ autoLoss: true })] });
 * ```
 * @packageDocumentation
 */
export { luzCallbackMixup, wrapMixupLoss } from './callback.js';
export type { MixupOptions } from './callback.js';
export { nnfMixup } from './nnf-mixup.js';
export type { MixupBatch, NnfMixupOptions } from './nnf-mixup.js';
export { sampleMixupWeights } from './weights.js';
export { nnMixupLoss, isMixedTarget, type MixedTarget } from '@luzts/losses';
