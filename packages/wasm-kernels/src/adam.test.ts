import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { ADAM_UPDATE, stockAdamApplyGradients } from './adam.js';
import { setSimdEnabled } from './simd.js';
import { prng, useWasmKernels } from './test-support.js';

// Shapes with element counts that are and are not multiples of 4 (SIMD body and scalar tail).
const SHAPES: number[][] = [[7, 5], [33, 16], [3], [], [2, 2, 2, 2]];
let uid = 0;

interface Run {
  weights: Float32Array[];
  moments: Float32Array[];
}

/**
 * Five Adam steps on fresh variables with seeded gradients (special values included); the
 * learning rate and beta1 change mid-way, as the lr-scheduler package does. `stock` runs the
 * stock tfjs method instead of the installed one.
 */
function adamSteps(stock: boolean, listForm = false): Run {
  const r = prng(7);
  const rand = (n: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * 3);
  const vars = SHAPES.map((s) => tf.variable(tf.tensor(rand(s.reduce((p, q) => p * q, 1)), s), true, `adam_test_${uid++}`));
  const opt = tf.train.adam(0.01, 0.9, 0.999);
  const apply = stock ? stockAdamApplyGradients()! : opt.applyGradients;
  for (let step = 0; step < 5; step++) {
    if (step === 3) {
      (opt as unknown as { learningRate: number }).learningRate = 0.003;
      (opt as unknown as { beta1: number }).beta1 = 0.85;
    }
    tf.tidy(() => {
      const grads = vars.map((v) => {
        const g = rand(v.size);
        if (g.length > 2) {
          g[0] = 0;
          g[1] = 1e20;
        }
        return tf.tensor(g, v.shape);
      });
      const named = vars.map((v, i) => ({ name: v.name, tensor: grads[i] }));
      const map = Object.fromEntries(named.map(({ name, tensor }) => [name, tensor]));
      apply.call(opt, (listForm ? named : map) as never);
    });
  }
  const internals = opt as unknown as { accumulatedFirstMoment: Array<{ variable: tf.Variable }>; accumulatedSecondMoment: Array<{ variable: tf.Variable }> };
  const run: Run = {
    weights: vars.map((v) => Float32Array.from(v.dataSync())),
    moments: [...internals.accumulatedFirstMoment, ...internals.accumulatedSecondMoment].map((m) => Float32Array.from(m.variable.dataSync())),
  };
  opt.dispose();
  tf.dispose(vars);
  return run;
}

function expectBitIdentical(a: Run, b: Run, label: string): void {
  const bits = (xs: Float32Array[]) => xs.map((x) => Array.from(new Uint32Array(x.buffer)));
  expect(bits(a.weights), `${label}: weights`).toEqual(bits(b.weights));
  expect(bits(a.moments), `${label}: moments`).toEqual(bits(b.moments));
}

useWasmKernels();

describe('fused Adam update (LuzAdamUpdate)', () => {
  it('is bit-identical to the stock tfjs Adam on wasm (SIMD and scalar paths, map and list gradients, lr/beta1 changes)', () => {
    const stock = adamSteps(true);
    expectBitIdentical(adamSteps(false), stock, 'SIMD');
    expectBitIdentical(adamSteps(false, true), stock, 'list form');
    setSimdEnabled(false);
    expectBitIdentical(adamSteps(false), stock, 'JavaScript');
  });

  it('matches the CPU backend', async () => {
    const wasm = adamSteps(false);
    await tf.setBackend('cpu');
    const cpu = adamSteps(false);
    for (const [k, w] of wasm.weights.entries()) {
      const c = cpu.weights[k];
      for (let i = 0; i < w.length; i++) expect(Math.abs(w[i] - c[i]), `weight ${k}[${i}]`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(c[i])));
    }
  });

  it('runs as one kernel per variable on wasm only; skips null gradients; leaks nothing', async () => {
    const v = tf.variable(tf.ones([10, 10]), true, `adam_test_${uid++}`);
    const w = tf.variable(tf.ones([4]), true, `adam_test_${uid++}`);
    const opt = tf.train.adam(0.1);
    const g = tf.fill([10, 10], 0.5);
    const step = () => opt.applyGradients({ [v.name]: g, [w.name]: null } as never);
    step();
    const before = tf.memory().numTensors;
    const prof = await tf.profile(step);
    expect(prof.kernels.filter((k) => k.name === ADAM_UPDATE)).toHaveLength(1);
    expect(prof.kernels.some((k) => k.name === 'Sqrt')).toBe(false);
    for (let i = 0; i < 10; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(w.dataSync())).toEqual([1, 1, 1, 1]);
    // Optimizer weights keep tfjs's names (checkpoints stay compatible).
    expect((await opt.getWeights()).map((x) => x.name)).toEqual(['iter', `${v.name}/m`, `${w.name}/m`, `${v.name}/v`, `${w.name}/v`]);
    await tf.setBackend('cpu');
    const cpuProf = await tf.profile(() => opt.applyGradients({ [v.name]: g } as never));
    expect(cpuProf.kernels.some((k) => k.name === ADAM_UPDATE)).toBe(false);
    opt.dispose();
    tf.dispose([v, w, g]);
  });

  it('rejects mismatched inputs with a clear error', () => {
    const x = tf.zeros([4]);
    const s = tf.scalar(0.1);
    expect(() => tf.engine().runKernel(ADAM_UPDATE, { x, g: tf.zeros([5]), m: x, v: x, d1: s, d2: s }, { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, learningRate: 0.1 } as never)).toThrow(
      /LuzAdamUpdate: g has shape \[5\], expected \[4\]/,
    );
    tf.dispose([x, s]);
  });
});
