/**
 * A small, fast, seedable random number generator whose whole state can be saved and restored
 * (so a resumed run is the same run).
 * @module
 */
import { LuzError } from './errors.js';

/** The saved state of a {@link LuzRng}: four unsigned 32-bit integers. */
export type LuzRngState = [number, number, number, number];

/**
 * Seedable PRNG (sfc32) used by the loop for shuffling, validation splits and callbacks' draws
 * (mixup). `fit({ seed })` makes `ctx.rng` deterministic.
 *
 * @example
 * ```ts
 * const rng = new LuzRng(42);
 * rng.permutation(5); // e.g. [3, 0, 4, 1, 2], the same for seed 42 every time
 * const saved = rng.getState(); rng.uniform(); rng.setState(saved);
 * ```
 */
export class LuzRng {
  private s: LuzRngState = [0, 0, 0, 0];

  /** @param seed - an integer; default: a random seed from `Math.random`. */
  constructor(seed?: number) {
    this.seed(seed ?? Math.floor(Math.random() * 2 ** 32));
  }

  /** Re-seeds the generator. */
  seed(seed: number): void {
    if (!Number.isFinite(seed)) throw new LuzError(`seed: expected a finite number, got ${seed}.`);
    const x = Math.floor(seed) >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    this.s = [0x9e3779b9 ^ x, 0x243f6a88 ^ hi, 0xb7e15162 ^ x, x ^ 0x5be0cd19];
    for (let i = 0; i < 16; i++) this.nextUint32();
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    let [a, b, c, d] = this.s;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    this.s = [a, b, c, d];
    return t >>> 0;
  }

  /** A uniform number in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = p[i];
      p[i] = p[j];
      p[j] = tmp;
    }
    return p;
  }

  /** A seed for a tfjs random op (`tf.randomUniform(..., seed)`), drawn from this generator. */
  tfSeed(): number {
    return this.nextUint32();
  }

  /** A copy of the state, for checkpoints. */
  getState(): LuzRngState {
    return [...this.s] as LuzRngState;
  }

  /** Restores a state saved by {@link LuzRng.getState}. */
  setState(state: LuzRngState): void {
    if (!Array.isArray(state) || state.length !== 4 || !state.every((v) => Number.isInteger(v))) {
      throw new LuzError(`LuzRng.setState: expected an array of 4 integers, got ${JSON.stringify(state)}.`);
    }
    this.s = state.map((v) => v | 0) as LuzRngState;
  }
}
