/**
 * `@luzts/mixed-precision`: luz's `luz_callback_mixed_precision()` — dynamic loss scaling with
 * torch `GradScaler` semantics. TensorFlow.js has no float16 dtype, so compute stays float32.
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError, checkOptionKeys, describeValue, luzCallback, type LuzContext } from '@luzts/core';
import { allFinite, updateScale, type ScalerOptions, type ScalerState } from './scaler.js';

export { updateScale, type ScalerOptions, type ScalerState } from './scaler.js';

/** Options of {@link luzCallbackMixedPrecision} (torch's `GradScaler` arguments). */
export interface MixedPrecisionOptions {
  /** The first loss scale. Default `65536` (2^16). */
  initScale?: number;
  /** Multiplies the scale after `growthInterval` consecutive finite steps; > 1. Default `2`. */
  growthFactor?: number;
  /** Multiplies the scale after a step with inf/NaN gradients; in (0, 1). Default `0.5`. */
  backoffFactor?: number;
  /** Consecutive finite steps before the scale grows; a positive integer. Default `2000`. */
  growthInterval?: number;
  /** When false the callback does nothing (no scaling, no skipped steps, no warning). Default `true`. */
  enabled?: boolean;
}

/** State saved in checkpoints by {@link luzCallbackMixedPrecision}. */
export interface MixedPrecisionState extends ScalerState {
  /** Optimizer steps skipped so far because of inf/NaN gradients. */
  skippedSteps: number;
}

const KEYS = ['initScale', 'growthFactor', 'backoffFactor', 'growthInterval', 'enabled'];
const WARNED = Symbol.for('luzts.mixedPrecision.float32Warning');

function check(name: string, value: unknown, ok: boolean, expected: string): void {
  if (!ok) throw new LuzError(`luzCallbackMixedPrecision(): '${name}' must be ${expected}, got ${describeValue(value)}.`);
}

/**
 * Dynamic loss scaling (luz's `luz_callback_mixed_precision`, torch's `GradScaler`).
 *
 * Every training step: the loss the gradients are taken of is multiplied by the current scale
 * (`onTrainBatchBeforeBackward`), the gradients are divided by it (`onTrainBatchBeforeStep`, so
 * callbacks like gradient clipping see true gradients), and `ctx.stepOpt` (replaced at
 * `onFitBegin`) skips the optimizer step when any gradient is inf or NaN. Then the scale is
 * updated exactly like torch's `_amp_update_scale_`: halved (`backoffFactor`) on a skipped step,
 * doubled (`growthFactor`) after `growthInterval` consecutive finite steps. With several
 * optimizers the scale is updated after each optimizer's step, as in luz.
 *
 * TensorFlow.js has no float16 dtype: compute stays float32 (the callback warns once per process),
 * so the gain is the skipped-step safety and loss-scaling behaviour of mixed-precision recipes,
 * not speed. Logs `records.amp.scale` (scale at each epoch's training end) and
 * `records.amp.skipped` (steps skipped in the epoch). Its scale and growth tracker are saved in
 * checkpoints (`stateDict`). A model with a custom `step` is not affected.
 *
 * Weight `-10`: its `onTrainBatchBeforeStep` runs before callbacks of default weight.
 *
 * @example
 * ```ts
 * import { luzCallbackMixedPrecision } from '@luzts/mixed-precision';
 * const fitted = await fit(module, data, { callbacks: [luzCallbackMixedPrecision({ growthInterval: 100 })] });
 * fitted.records.amp?.scale; // loss scale after each epoch
 * ```
 */
export const luzCallbackMixedPrecision = luzCallback<MixedPrecisionOptions>({
  name: 'mixed_precision_callback',
  weight: -10,
  initialize(options: MixedPrecisionOptions) {
    checkOptionKeys('luzCallbackMixedPrecision()', options, KEYS);
    const { initScale = 65536, growthFactor = 2, backoffFactor = 0.5, growthInterval = 2000, enabled = true } = options ?? {};
    const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
    check('initScale', initScale, num(initScale) && initScale > 0, 'a finite number > 0');
    check('growthFactor', growthFactor, num(growthFactor) && growthFactor > 1, 'a finite number > 1');
    check('backoffFactor', backoffFactor, num(backoffFactor) && backoffFactor > 0 && backoffFactor < 1, 'a number in (0, 1)');
    check('growthInterval', growthInterval, Number.isInteger(growthInterval) && growthInterval > 0, 'a positive integer');
    check('enabled', enabled, typeof enabled === 'boolean', 'a boolean');
    this.options = { initScale, growthFactor, backoffFactor, growthInterval } satisfies ScalerOptions;
    this.enabled = enabled;
    this.scale = Math.fround(initScale);
    this.growthTracker = 0;
    this.skippedSteps = 0;
    this.epochSkipped = 0;
  },
  onFitBegin(ctx: LuzContext) {
    if (!this.enabled) return;
    const g = globalThis as Record<symbol, unknown>;
    if (!g[WARNED]) {
      g[WARNED] = true;
      console.warn(
        `luzts: luzCallbackMixedPrecision: TensorFlow.js has no float16 dtype, so compute stays float32 on the '${ctx.device}' backend. ` +
          'Dynamic loss scaling and skipping steps with inf/NaN gradients still apply.',
      );
    }
    const inner = ctx.stepOpt;
    ctx.stepOpt = (opt, c) => this.step(opt, c, inner);
  },
  onEpochBegin() {
    this.epochSkipped = 0;
  },
  onTrainBatchBeforeBackward(ctx: LuzContext) {
    if (this.enabled && ctx.lossGrad) ctx.lossGrad = tf.mul(ctx.lossGrad, tf.scalar(this.scale)) as tf.Scalar;
  },
  onTrainBatchBeforeStep(ctx: LuzContext) {
    if (!this.enabled || !ctx.grads) return;
    // torch: inv_scale = scale.double().reciprocal().float()
    const inv = tf.scalar(Math.fround(1 / this.scale));
    for (const [name, grad] of Object.entries(ctx.grads)) ctx.grads[name] = tf.mul(grad, inv);
  },
  /** The wrapped optimizer step: skip on non-finite gradients, then update the scale. */
  step(opt: tf.Optimizer, ctx: LuzContext, inner: LuzContext['stepOpt']) {
    const finite = allFinite(Object.values(ctx.grads ?? {}));
    if (finite) inner(opt, ctx);
    else {
      this.skippedSteps += 1;
      this.epochSkipped += 1;
    }
    const next = updateScale({ scale: this.scale, growthTracker: this.growthTracker }, !finite, this.options);
    this.scale = next.scale;
    this.growthTracker = next.growthTracker;
  },
  onTrainEnd(ctx: LuzContext) {
    if (!this.enabled) return;
    ctx.log('amp', 'scale', this.scale, { index: ctx.epoch, append: false });
    ctx.log('amp', 'skipped', this.epochSkipped, { index: ctx.epoch, append: false });
  },
  stateDict(): MixedPrecisionState {
    return { scale: this.scale, growthTracker: this.growthTracker, skippedSteps: this.skippedSteps };
  },
  loadStateDict(state: MixedPrecisionState) {
    if (!state || typeof state.scale !== 'number' || !(state.scale > 0) || !Number.isInteger(state.growthTracker)) {
      throw new LuzError('luzCallbackMixedPrecision: loadStateDict() expects { scale > 0, growthTracker: integer, skippedSteps }, as returned by stateDict().');
    }
    this.scale = Math.fround(state.scale);
    this.growthTracker = state.growthTracker;
    this.skippedSteps = state.skippedSteps ?? 0;
  },
});
