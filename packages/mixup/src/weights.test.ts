import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LuzRng } from '@luzts/core';
import { sampleMixupWeights } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const draw = (n: number, alpha: number, seed: number) => Array.from(sampleMixupWeights(n, alpha, new LuzRng(seed)).dataSync());
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

describe('sampleMixupWeights', () => {
  it('always lies in [0.5, 1] (many draws, several alphas)', () => {
    for (const alpha of [0.01, 0.1, 0.4, 1, 5]) {
      const w = draw(20000, alpha, 7);
      expect(w.every((v) => v >= 0.5 && v <= 1 && Number.isFinite(v))).toBe(true);
    }
  });

  it('has the moments of a folded Beta(alpha, alpha)', () => {
    // W ~ Beta(a, a): E[(W - 1/2)^2] = Var W = 1 / (4 (2a + 1)), unchanged by folding max(W, 1 - W).
    for (const alpha of [0.4, 1, 3]) {
      const w = draw(40000, alpha, 11);
      const m2 = mean(w.map((v) => (v - 0.5) ** 2));
      expect(Math.abs(m2 - 1 / (4 * (2 * alpha + 1)))).toBeLessThan(0.004);
    }
    // a = 1: W uniform, E[max(W, 1 - W)] = 3/4.
    expect(Math.abs(mean(draw(40000, 1, 3)) - 0.75)).toBeLessThan(0.005);
  });

  it('is reproducible from the seed of the generator', () => {
    expect(draw(20, 0.4, 1)).toEqual(draw(20, 0.4, 1));
    expect(draw(20, 0.4, 1)).not.toEqual(draw(20, 0.4, 2));
  });
});
