import { luzCallback } from '../callback.js';
import type { LuzContext } from '../context.js';

const now = () => performance.now();

/**
 * Times the run (default in `fit` and `evaluate`): `records.profile.fit` (one entry) and one entry
 * per epoch in `epoch`, `train` and `valid`, in seconds.
 *
 * @example
 * ```ts
 * const fitted = await fit(module, data, { epochs: 2 });
 * fitted.records.profile?.train; // [0.41, 0.39]
 * ```
 */
export const luzCallbackProfile = luzCallback({
  name: 'profile_callback',
  initialize() {
    this.tics = {} as Record<string, number>;
  },
  tic(what: string) {
    this.tics[what] = now();
  },
  toc(ctx: LuzContext, what: string) {
    const start = this.tics[what];
    if (start === undefined) return;
    delete this.tics[what];
    ctx.log('profile', what, (now() - start) / 1000);
  },
  onFitBegin() { this.tic('fit'); },
  onFitEnd(ctx: LuzContext) { this.toc(ctx, 'fit'); },
  onEpochBegin() { this.tic('epoch'); },
  onEpochEnd(ctx: LuzContext) { this.toc(ctx, 'epoch'); },
  onTrainBegin() { this.tic('train'); },
  onTrainEnd(ctx: LuzContext) { this.toc(ctx, 'train'); },
  onValidBegin() { this.tic('valid'); },
  onValidEnd(ctx: LuzContext) { this.toc(ctx, 'valid'); },
});
