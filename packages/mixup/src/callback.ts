/**
 * `luzCallbackMixup`: luz's `luz_callback_mixup`.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError, luzCallback, type LossFn, type LuzContext } from '@luzts/core';
import { computeMixupLoss, isMixedTarget, isMixupLoss } from '@luzts/losses';
import { nnfMixup } from './nnf-mixup.js';
import { checkOptionKeys, describe } from './validate.js';
import { sampleMixupWeights } from './weights.js';

/** Options of {@link luzCallbackMixup}. */
export interface MixupOptions {
  /** Parameter of the Beta(alpha, alpha) distribution of the mixing weights. Default 0.4. */
  alpha?: number;
  /** Also mix validation batches. Default false. */
  runValid?: boolean;
  /**
   * Wrap the module's loss into a mixup loss for the run (restored afterwards). The loss should be
   * unreduced (`reduction: 'none'`) as in luz; a loss of `@luzts/losses` with another reduction
   * also works (it is switched to `'none'` for mixed batches). Without mixing (validation when
   * `runValid` is false) the loss is `mean(loss(pred, target))`. Default false.
   */
  autoLoss?: boolean;
}

/**
 * The autoLoss wrapper (luz's `wrap_mixup_loss`): the per-sample mixup combination for mixed
 * targets (a `@luzts/losses` loss is switched to `reduction: 'none'` for it), the mean of the loss
 * otherwise. A loss made by `nnMixupLoss` is returned as it is.
 *
 * @example
 * ```ts
 * const lossFn = wrapMixupLoss(nnCrossEntropyLoss({ reduction: 'none' }));
 * lossFn(logits, { ys: [y1, y2], weight: w }); // mean_i(w_i·ce_i(y1) + (1 - w_i)·ce_i(y2))
 * lossFn(logits, y); // mean_i ce_i(y)
 * ```
 */
export function wrapMixupLoss(lossFn: LossFn): LossFn {
  if (isMixupLoss(lossFn)) return lossFn;
  const wrapped: LossFn = (pred, target) =>
    isMixedTarget(target) ? computeMixupLoss(lossFn, pred, target, 'luzCallbackMixup (autoLoss)') : tf.tidy(() => lossFn(pred, target).mean());
  return wrapped;
}

/** True when the current optimizer is the last of the step (the target may be restored then). */
function lastOptimizer(ctx: LuzContext): boolean {
  const names = Object.keys(ctx.optimizers);
  return names.length <= 1 || ctx.optName === names[names.length - 1];
}

/**
 * Mixup (Zhang et al., "mixup: Beyond Empirical Risk Minimization"), following fastai: each batch
 * is mixed with a random permutation of itself, `x̃ = w·x1 + (1 - w)·x2` (x1 the original sample,
 * x2 its partner), with one weight per pair drawn from Beta(alpha, alpha) and folded,
 * `w = max(w, 1 - w)`, so the original sample dominates. The permutation comes from `ctx.rng`
 * and the weights from a generator seeded by it, so `fit({ seed })` makes runs reproducible.
 *
 * Targets:
 * - int32 class indices: `ctx.target` becomes `{ ys: [y1, y2], weight }` and the loss must
 *   handle it: `loss(output, target) = weight·loss(output, y1) + (1 - weight)·loss(output, y2)`,
 *   per sample — use `nnMixupLoss(loss)` or `autoLoss: true`.
 * - float32 targets (one-hot, soft, binary 0/1 of shape (B) or (B, 1), regression values): mixed
 *   directly, `ỹ = w·y1 + (1 - w)·y2`, and the plain loss is used (fastai's behaviour).
 *
 * Metrics: after the loss (at `onTrainBatchAfterStep`, and `onValidBatchAfterLoss` with
 * `runValid`) `ctx.target` is set back to the original target y1 (the dominant one), so metrics
 * compare the prediction on the mixed input with the original target and never see the mixed
 * structure. `ctx.input` stays mixed.
 *
 * Name `'mixup_callback'`, weight 0, no state to save.
 *
 * @param options - `alpha` (default 0.4), `runValid` (default false), `autoLoss` (default false).
 * @example
 * ```ts
 * const module = setup(factory, {
 *   loss: nnCrossEntropyLoss({ reduction: 'none' }),
 *   optimizer: () => tf.train.adam(1e-3),
 *   metrics: luzMetricSet({ validMetrics: [luzMetricAccuracy()] }),
 * });
 * const fitted = await fit(module, [x, y], { epochs: 10, validData: 0.2, callbacks: [luzCallbackMixup({ autoLoss: true })] });
 * ```
 */
export const luzCallbackMixup = luzCallback<MixupOptions>({
  name: 'mixup_callback',
  initialize(options: MixupOptions) {
    const where = 'luzCallbackMixup()';
    checkOptionKeys(where, options, ['alpha', 'runValid', 'autoLoss']);
    const { alpha = 0.4, runValid = false, autoLoss = false } = options ?? {};
    if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha <= 0) {
      throw new LuzError(`${where}: 'alpha' must be a positive number, got ${describe(alpha)}.`);
    }
    for (const [key, value] of [['runValid', runValid], ['autoLoss', autoLoss]] as const) {
      if (typeof value !== 'boolean') throw new LuzError(`${where}: '${key}' must be a boolean, got ${describe(value)}.`);
    }
    this.alpha = alpha;
    this.runValid = runValid;
    this.autoLoss = autoLoss;
    this.modelLossFn = undefined;
    this.original = undefined;
  },

  wrapLoss(ctx: LuzContext) {
    if (!this.autoLoss) return;
    if (typeof ctx.lossFn !== 'function') {
      throw new LuzError("luzCallbackMixup: 'autoLoss' needs a loss (setup({ loss }) or the module's own loss).");
    }
    this.modelLossFn = ctx.lossFn;
    ctx.lossFn = wrapMixupLoss(ctx.lossFn);
  },
  restoreLoss(ctx: LuzContext) {
    if (!this.autoLoss || this.modelLossFn === undefined) return;
    ctx.lossFn = this.modelLossFn;
    this.modelLossFn = undefined;
  },

  /** luz's `apply_transform`: draws weights and a permutation, mixes `ctx.input` and `ctx.target`. */
  applyTransform(ctx: LuzContext) {
    const target = ctx.target;
    if (isMixedTarget(target)) throw new LuzError('luzCallbackMixup: the batch target is already mixed (is the callback used twice?).');
    if (!(target instanceof tf.Tensor) || target.rank === 0) {
      throw new LuzError(`luzCallbackMixup: the target must be a tensor with the batch as first dimension, got ${describe(target)}.`);
    }
    const batch = target.shape[0] as number;
    const weight = sampleMixupWeights(batch, this.alpha, ctx.rng);
    const { x, y } = nnfMixup(ctx.input, target, weight, { permutation: ctx.rng.permutation(batch) });
    ctx.input = x;
    this.original = target;
    if (target.dtype === 'float32') {
      // one-hot, soft, binary or regression targets: mix them directly (fastai).
      const [y1, y2] = y.ys;
      const w = y.weight.reshape([batch, ...new Array<number>(target.rank - 1).fill(1)]);
      ctx.target = y2.add(w.mul(y1.sub(y2)));
    } else {
      ctx.target = y;
    }
  },
  /** Puts the original (dominant) target back for the metrics, once the loss has used the mixed one. */
  restoreTarget(ctx: LuzContext) {
    if (this.original === undefined || !lastOptimizer(ctx)) return;
    ctx.target = this.original;
    this.original = undefined;
  },

  onTrainBegin(ctx: LuzContext) {
    this.wrapLoss(ctx);
  },
  onTrainBatchBegin(ctx: LuzContext) {
    this.applyTransform(ctx);
  },
  onTrainBatchAfterStep(ctx: LuzContext) {
    this.restoreTarget(ctx);
  },
  onTrainBatchEnd() {
    this.original = undefined;
  },
  onTrainEnd(ctx: LuzContext) {
    this.restoreLoss(ctx);
  },
  onValidBegin(ctx: LuzContext) {
    // luz 0.4 calls an undefined `self$nn_mixup_loss` when runValid && autoLoss; the wrapper
    // handles both mixed (runValid) and plain (mean of the unreduced loss) validation targets.
    this.wrapLoss(ctx);
  },
  onValidBatchBegin(ctx: LuzContext) {
    if (this.runValid) this.applyTransform(ctx);
  },
  onValidBatchAfterLoss(ctx: LuzContext) {
    this.restoreTarget(ctx);
  },
  onValidBatchEnd() {
    this.original = undefined;
  },
  onValidEnd(ctx: LuzContext) {
    this.restoreLoss(ctx);
  },
});
