import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { RELU_GRAD } from './relu.js';
import { setSimdEnabled } from './simd.js';
import { useWasmKernels } from './test-support.js';

const SPECIAL = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 1e-40, -1e-40, 2.5, -2.5];

/** The relu gradient of `x` for upstream gradient `dy` (through `tf.grad`), on `backend`. */
async function reluGradOn(backend: string, x: Float32Array, dy: Float32Array, shape: number[]): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const g = tf.grad((t: tf.Tensor) => tf.relu(t).mul(tf.tensor(dy, shape)).sum())(tf.tensor(x, shape));
    return Float32Array.from(g.dataSync());
  });
}

useWasmKernels();

describe('fused relu gradient (LuzReluGrad)', () => {
  it('is bit-identical to the CPU backend, NaN, infinities and signed zeros included (SIMD and scalar paths)', async () => {
    for (const shape of [[9, 9], [4, 6, 6, 8], [3]]) {
      const n = shape.reduce((p, q) => p * q, 1);
      const x = Float32Array.from({ length: n }, (_, i) => (i < SPECIAL.length ? SPECIAL[i] : Math.sin(i) * 3));
      // dy: infinities against x <= 0 give NaN (inf * 0), negative dy against x <= 0 gives -0.
      const dy = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? Number.POSITIVE_INFINITY : Math.cos(i) * 2));
      const cpu = await reluGradOn('cpu', x, dy, shape);
      for (const simd of [true, false]) {
        setSimdEnabled(simd);
        const wasm = await reluGradOn('wasm', x, dy, shape);
        expect(Array.from(new Uint32Array(wasm.buffer)), `[${shape}] simd=${simd}`).toEqual(Array.from(new Uint32Array(cpu.buffer)));
      }
    }
  });

  it('replaces Step + Multiply with one kernel on wasm only', async () => {
    const x = tf.randomNormal([8, 8, 8, 8]);
    const f = () => tf.tidy(() => tf.grad((t: tf.Tensor) => tf.relu(t).sum())(x).dataSync());
    const wasm = await tf.profile(f);
    expect(wasm.kernels.map((k) => k.name)).toContain(RELU_GRAD);
    expect(wasm.kernels.map((k) => k.name)).not.toContain('Step');
    await tf.setBackend('cpu');
    const cpu = await tf.profile(f);
    expect(cpu.kernels.map((k) => k.name)).not.toContain(RELU_GRAD);
    x.dispose();
  });

  it('has second-order gradients like the stock relu gradient', async () => {
    const xs = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i * 1.7) * 2);
    const out: Record<string, number[]> = {};
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      out[backend] = tf.tidy(() => {
        const x = tf.tensor(xs, [4, 6]);
        // d/dx of sum((relu'(x) * x^2)): the mask's own gradient is zero, the upstream one flows.
        const inner = (t: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.relu(u).mul(u.square()).sum())(t);
        return Array.from(tf.grad((t: tf.Tensor) => inner(t).sum())(x).dataSync());
      });
    }
    expect(out.wasm.map((v) => +v.toFixed(5))).toEqual(out.cpu.map((v) => +v.toFixed(5)));
  });

  it('leaves int32 relu gradients to the stock formula', async () => {
    await tf.setBackend('wasm');
    const g = tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => tf.relu(t).toFloat().sum())(tf.tensor1d([-2, 0, 3], 'int32')).dataSync()));
    expect(g).toEqual([0, 0, 1]);
  });
});
