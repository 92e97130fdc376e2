/**
 * Global-norm gradient clipping (PyTorch's `clip_grad_norm_`) and `luzCallbackGradientClip()`.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { luzCallback, type LuzCallback, type LuzContext } from '@luzts/core';
import { checkKeys, checkScalar } from './validate.js';

/**
 * The norm of all gradients together, as if concatenated into one vector:
 * `(Σ |g|^p)^(1/p)`, or `max |g|` for `normType = Infinity`.
 *
 * @example
 * ```ts
 * globalNorm({ a: tf.tensor([3, 4]), b: tf.tensor([12]) }).dataSync(); // [13]
 * ```
 */
export function globalNorm(grads: tf.NamedTensorMap, normType = 2): tf.Scalar {
  return tf.tidy((): tf.Scalar => {
    const list = Object.values(grads).filter((g): g is tf.Tensor => g instanceof tf.Tensor);
    if (list.length === 0) return tf.scalar(0);
    if (normType === Infinity) return tf.max(tf.stack(list.map((g) => tf.max(tf.abs(g))))) as tf.Scalar;
    if (normType === 2) return tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
    if (normType === 1) return tf.addN(list.map((g) => tf.sum(tf.abs(g)))) as tf.Scalar;
    return tf.pow(tf.addN(list.map((g) => tf.sum(tf.pow(tf.abs(g), normType)))), 1 / normType) as tf.Scalar;
  });
}

/**
 * Scales all gradients by `min(1, maxNorm / (totalNorm + 1e-6))` (PyTorch's `clip_grad_norm_`).
 * Returns new tensors (the inputs are left as they are) and the total norm before clipping.
 *
 * @example
 * ```ts
 * const { grads, totalNorm } = clipGradNorm({ a: tf.tensor([3, 4]), b: tf.tensor([12]) }, 1);
 * // grads.a ≈ [3/13, 4/13], grads.b ≈ [12/13], totalNorm = 13
 * ```
 */
export function clipGradNorm(grads: tf.NamedTensorMap, maxNorm: number, normType = 2): { grads: tf.NamedTensorMap; totalNorm: tf.Scalar } {
  return tf.tidy(() => {
    const totalNorm = globalNorm(grads, normType);
    // Multiplying by a coefficient clamped at 1 needs no device-to-host read (as PyTorch).
    const coef = tf.minimum(tf.scalar(1), tf.div(tf.scalar(maxNorm), tf.add(totalNorm, 1e-6)));
    const out: tf.NamedTensorMap = {};
    for (const [name, g] of Object.entries(grads)) if (g instanceof tf.Tensor) out[name] = tf.mul(g, coef);
    return { grads: out, totalNorm };
  });
}

/** Options of {@link luzCallbackGradientClip}. */
export interface GradientClipOptions {
  /** Largest allowed norm of all gradients together. Default 1. */
  maxNorm?: number;
  /** The p of the p-norm; `Infinity` for the largest absolute value. Default 2. */
  normType?: number;
}

const gradientClipCallback = luzCallback<{ maxNorm: number; normType: number }>({
  name: 'gradient_clip_callback',
  initialize({ maxNorm, normType }) {
    this.maxNorm = maxNorm;
    this.normType = normType;
  },
  onTrainBatchBeforeStep(ctx: LuzContext) {
    const grads = ctx.grads;
    if (!grads) return;
    const clipped = clipGradNorm(grads, this.maxNorm, this.normType);
    clipped.totalNorm.dispose();
    // Replace the entries: the loop disposes ctx.grads after the step, the batch scope the rest.
    for (const [name, g] of Object.entries(clipped.grads)) grads[name] = g;
  },
});

/**
 * Clips the gradients by their global norm before every optimizer step (luz's
 * `luz_callback_gradient_clip`, PyTorch's `clip_grad_norm_`): when the norm of all gradients of
 * the step's optimizer exceeds `maxNorm`, they are scaled by `maxNorm / (norm + 1e-6)`.
 *
 * @param options - `maxNorm` (default 1), `normType` (default 2; `Infinity` allowed).
 * @example
 * ```ts
 * const fitted = await fit(module, data, { callbacks: [luzCallbackGradientClip({ maxNorm: 1 })] });
 * ```
 */
export function luzCallbackGradientClip(options: GradientClipOptions = {}): LuzCallback {
  const where = 'luzCallbackGradientClip()';
  checkKeys(where, options, ['maxNorm', 'normType']);
  const maxNorm = checkScalar(where, 'maxNorm', options.maxNorm ?? 1, (x) => x >= 0 && Number.isFinite(x), 'a finite number >= 0');
  const normType = checkScalar(where, 'normType', options.normType ?? 2, (x) => x > 0, 'a number > 0, or Infinity');
  return gradientClipCallback({ maxNorm, normType });
}
