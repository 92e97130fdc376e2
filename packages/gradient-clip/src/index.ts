/**
 * `@luzts/gradient-clip`: gradient clipping by global norm (luz's `luz_callback_gradient_clip`)
 * and gradient accumulation for luzts.
 *
 * @example
 * ```ts
 * import { fit } from '@luzts/core';
 * import { luzCallbackGradientClip, luzCallbackGradientAccumulation } from '@luzts/gradient-clip';
 *
 * const fitted = await fit(module, data, {
 *   callbacks: [luzCallbackGradientClip({ maxNorm: 1 }), luzCallbackGradientAccumulation({ steps: 4 })],
 * });
 * ```
 * @packageDocumentation
 */
export { luzCallbackGradientClip, clipGradNorm, globalNorm } from './clip.js';
export type { GradientClipOptions } from './clip.js';
export { luzCallbackGradientAccumulation } from './accumulation.js';
export type { GradientAccumulationOptions } from './accumulation.js';
