/**
 * Mixing weights: `max(w, 1 - w)` with `w ~ Beta(alpha, alpha)`, one per sample.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { LuzRng } from '@luzts/core';

/** A standard normal draw (Box-Muller) from `rng`. */
function normal(rng: LuzRng): number {
  let u = rng.uniform();
  while (u === 0) u = rng.uniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.uniform());
}

/**
 * `log G` with `G ~ Gamma(alpha, 1)`: Marsaglia and Tsang's method, with the boost
 * `G(a) = G(a + 1) * U^(1/a)` for `a < 1` done in log space, so tiny alphas never underflow.
 */
function logGamma(alpha: number, rng: LuzRng): number {
  const boost = alpha < 1;
  const a = boost ? alpha + 1 : alpha;
  const d = a - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.uniform();
    if (u > 0 && Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
      const logG = Math.log(d * v);
      if (!boost) return logG;
      let b = rng.uniform();
      while (b === 0) b = rng.uniform();
      return logG + Math.log(b) / alpha;
    }
  }
}

/**
 * Draws `n` mixup weights in [0.5, 1]: `w ~ Beta(alpha, alpha)` as `G1 / (G1 + G2)` with
 * `G1, G2 ~ Gamma(alpha, 1)`, then `max(w, 1 - w)` so the original sample dominates. The draws
 * come from `rng` (the run's seeded generator, saved in checkpoints) in plain JavaScript: one
 * upload of `n` numbers per batch instead of several small device ops.
 *
 * @example
 * ```ts
 * const w = sampleMixupWeights(32, 0.4, ctx.rng); // float32 tensor of shape [32]
 * ```
 */
export function sampleMixupWeights(n: number, alpha: number, rng: LuzRng): tf.Tensor1D {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // G1 / (G1 + G2) = sigmoid(log G1 - log G2), exact in log space.
    const raw = 1 / (1 + Math.exp(logGamma(alpha, rng) - logGamma(alpha, rng)));
    w[i] = Math.max(raw, 1 - raw);
  }
  return tf.tensor1d(w);
}
