import { luzCallback } from '../callback.js';
import type { LuzContext } from '../context.js';

/**
 * Switches between training and validation (default in `fit`): sets `ctx.training` and clears
 * `ctx.loss` at the start of each phase.
 *
 * @example
 * ```ts
 * // Always present in fit(); shown for completeness.
 * const cb = luzCallbackTrainValid();
 * ```
 */
export const luzCallbackTrainValid = luzCallback({
  name: 'train_valid_callback',
  onTrainBegin(ctx: LuzContext) {
    ctx.training = true;
    ctx.loss = {};
  },
  onValidBegin(ctx: LuzContext) {
    ctx.training = false;
    ctx.loss = {};
  },
});
