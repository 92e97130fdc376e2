/**
 * Mixing weights: `max(w, 1 - w)` with `w ~ Beta(alpha, alpha)`, one per sample.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { LuzRng } from '@luzts/core';

/**
 * Draws `n` mixup weights in [0.5, 1]: `w ~ Beta(alpha, alpha)` as `G1 / (G1 + G2)` with
 * `G1, G2 ~ Gamma(alpha, 1)` (`tf.randomGamma`, seeded from `rng`), then `max(w, 1 - w)` so the
 * original sample dominates. In the (float32-underflow) case G1 = G2 = 0, w = 1.
 *
 * @example
 * ```ts
 * const w = sampleMixupWeights(32, 0.4, ctx.rng); // float32 tensor of shape [32]
 * ```
 */
export function sampleMixupWeights(n: number, alpha: number, rng: LuzRng): tf.Tensor1D {
  // tf.randomGamma treats seed 0 as "no seed".
  const seed = () => rng.tfSeed() || 1;
  return tf.tidy(() => {
    const g1 = tf.randomGamma([n], alpha, 1, 'float32', seed());
    const g2 = tf.randomGamma([n], alpha, 1, 'float32', seed());
    const raw = g1.div(g1.add(g2));
    const w = tf.where(raw.isNaN(), tf.onesLike(raw), raw);
    return tf.maximum(w, tf.scalar(1).sub(w)) as tf.Tensor1D;
  });
}
