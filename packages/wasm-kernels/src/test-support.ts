/**
 * Shared by this package's tests (not built, not published): a seeded PRNG and the wasm set-up.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll } from 'vitest';
import { registerWasmTrainingKernels } from './index.js';
import { setSimdEnabled } from './simd.js';

/** Small seeded PRNG (mulberry32): uniform numbers in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Registers the hooks of a test file that runs on wasm with this package's kernels: the wasm
 * backend and the kernels before the first test; SIMD back on and the wasm backend active after
 * each test (tests switch either off).
 */
export function useWasmKernels(): void {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    registerWasmTrainingKernels();
  });
  afterEach(async () => {
    setSimdEnabled(true);
    await tf.setBackend('wasm');
  });
}
