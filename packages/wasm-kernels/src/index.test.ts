import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels, wasmTrainingKernelNames } from './index.js';
import { setSimdEnabled, simdKernels } from './simd.js';
import { prng } from './test-support.js';
import * as conv from './conv.js';
import * as matmul from './matmul.js';
import * as convForward from './conv-forward.js';
import * as depthwise from './depthwise.js';
import * as winograd from './winograd.js';
import * as fusedConvGrad from './fused-conv-grad.js';
import type { WasmBackendLike } from './wasm.js';

const int = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const values = (r: () => number, n: number, ties = false): Float32Array =>
  Float32Array.from({ length: n }, () => (ties ? Math.round(r() * 4 - 2) : r() * 2 - 1));

type Arrays = Float32Array[];
const size = (shape: number[]): number => shape.reduce((p, q) => p * q, 1);

/** Runs `fn` on the CPU and on the wasm backend and returns the outputs of both. */
async function onBoth(fn: () => tf.Tensor | tf.Tensor[]): Promise<{ cpu: Arrays; wasm: Arrays }> {
  const out: Record<string, Arrays> = {};
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    out[backend] = tf.tidy(() => {
      const r = fn();
      return (Array.isArray(r) ? r : [r]).map((t) => Float32Array.from(t.dataSync()));
    });
  }
  return { cpu: out.cpu, wasm: out.wasm };
}

function expectClose(actual: Arrays, expected: Arrays, label: string, rtol = 1e-4): void {
  expect(actual.length, label).toBe(expected.length);
  actual.forEach((a, k) => {
    const e = expected[k];
    expect(a.length, label).toBe(e.length);
    let scale = 1e-6;
    for (let i = 0; i < e.length; i++) scale = Math.max(scale, Math.abs(e[i]));
    let worst = 0;
    for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]));
    expect(worst / scale, `${label} output ${k}: max |diff| ${worst} vs scale ${scale}`).toBeLessThanOrEqual(rtol);
  });
}

async function compare(label: string, fn: () => tf.Tensor | tf.Tensor[], rtol = 1e-4): Promise<void> {
  const { cpu, wasm } = await onBoth(fn);
  expectClose(wasm, cpu, label, rtol);
}

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

function randomPad(r: () => number, allowExplicit: boolean): Pad {
  const kind = int(r, 0, allowExplicit ? 3 : 1);
  if (kind === 0) return 'same';
  if (kind === 1) return 'valid';
  if (kind === 2) return int(r, 0, 2);
  return [
    [0, 0],
    [int(r, 0, 2), int(r, 0, 2)],
    [int(r, 0, 2), int(r, 0, 2)],
    [0, 0],
  ];
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerWasmTrainingKernels();
});

describe('registerWasmTrainingKernels', () => {
  it('registers every listed kernel for wasm and is idempotent', () => {
    const first = registerWasmTrainingKernels();
    const second = registerWasmTrainingKernels();
    expect(first).toEqual([...wasmTrainingKernelNames]);
    expect(second).toEqual(first);
    for (const name of wasmTrainingKernelNames) expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
  });
});

describe('conv2d gradients (Conv2DBackpropFilter, Conv2DBackpropInput)', () => {
  it('match the CPU backend over random shapes, strides and paddings', async () => {
    const r = prng(1);
    for (let i = 0; i < 40; i++) {
      const [n, ci, co] = [int(r, 1, 3), int(r, 1, 4), int(r, 1, 5)];
      const pad = randomPad(r, true);
      // A numeric pad needs square filters and strides: tfjs computes the output width
      // of a numeric pad from the filter height and stride height (and the stock wasm
      // forward Conv2D then writes out of bounds).
      const square = typeof pad === 'number';
      const fh = int(r, 1, 4);
      const fw = square ? fh : int(r, 1, 4);
      const sh = int(r, 1, 3);
      const strides: [number, number] = [sh, square ? sh : int(r, 1, 3)];
      const [h, w] = [int(r, fh + 2, 11), int(r, fw + 2, 11)];
      const xv = values(r, n * h * w * ci);
      const wv = values(r, fh * fw * ci * co);
      const label = `case ${i}: x[${n},${h},${w},${ci}] f[${fh},${fw},${ci},${co}] s${strides} pad ${JSON.stringify(pad)}`;
      await compare(label, () => {
        const x = tf.tensor4d(xv, [n, h, w, ci]);
        const f = tf.tensor4d(wv, [fh, fw, ci, co]);
        const y = tf.conv2d(x, f, strides, pad as 'same');
        const dy = tf.sin(tf.range(0, y.size).reshape(y.shape));
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad as 'same').mul(dy).sum())([x, f]);
      });
    }
  });

  it('matches the CPU backend when called as kernels with dimRoundingMode', async () => {
    const r = prng(2);
    for (let i = 0; i < 10; i++) {
      const [n, ci, co, fh] = [int(r, 1, 2), int(r, 1, 3), int(r, 1, 3), int(r, 2, 3)];
      const fw = fh; // numeric pads need square filters and strides (see above)
      const [h, w] = [int(r, 6, 9), int(r, 6, 9)];
      const s = int(r, 1, 3);
      const strides: [number, number] = [s, s];
      const pad = int(r, 0, 2);
      const dimRoundingMode = pick(r, ['floor', 'round', 'ceil'] as const);
      const xv = values(r, n * h * w * ci);
      const wv = values(r, fh * fw * ci * co);
      await compare(`kernel case ${i}`, () => {
        const x = tf.tensor4d(xv, [n, h, w, ci]);
        const f = tf.tensor4d(wv, [fh, fw, ci, co]);
        const y = tf.conv2d(x, f, strides, pad, 'NHWC', 1, dimRoundingMode);
        const dy = tf.cos(tf.range(0, y.size).reshape(y.shape));
        const attrs = { strides, pad, dataFormat: 'NHWC', dimRoundingMode };
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: f.shape } as never) as tf.Tensor;
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...attrs, inputShape: x.shape } as never) as tf.Tensor;
        return [dw, dx];
      });
    }
  });

  it('agrees with finite differences on a small case', async () => {
    await tf.setBackend('wasm');
    const r = prng(3);
    const xv = values(r, 1 * 5 * 5 * 2);
    const wv = values(r, 3 * 3 * 2 * 2);
    const loss = (x: tf.Tensor, f: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'same').square().sum();
    const [gx, gf] = tf.tidy(() =>
      tf.grads(loss)([tf.tensor4d(xv, [1, 5, 5, 2]), tf.tensor4d(wv, [3, 3, 2, 2])]).map((t) => t.dataSync()),
    );
    const evalLoss = (xs: Float32Array, ws: Float32Array) =>
      tf.tidy(() => loss(tf.tensor4d(xs, [1, 5, 5, 2]), tf.tensor4d(ws, [3, 3, 2, 2])).dataSync()[0]);
    const eps = 1e-2;
    for (const [arr, grad, isX] of [
      [xv, gx, true],
      [wv, gf, false],
    ] as const) {
      for (const i of [0, 7, arr.length - 1]) {
        const plus = Float32Array.from(arr);
        const minus = Float32Array.from(arr);
        plus[i] += eps;
        minus[i] -= eps;
        const fd = isX
          ? (evalLoss(plus, wv) - evalLoss(minus, wv)) / (2 * eps)
          : (evalLoss(xv, plus) - evalLoss(xv, minus)) / (2 * eps);
        expect(Math.abs(fd - grad[i])).toBeLessThan(2e-2 * Math.max(1, Math.abs(fd)));
      }
    }
  });

  it('match the CPU backend on both filter-gradient paths (block-copy im2col for wide stride-1 cases, strided im2col otherwise) and in batch chunks', async () => {
    const r = prng(12);
    // [n, h, w, ci, co, stride, pad]: ci*9 >= 2*co takes the block-copy path at stride 1.
    const cases: Array<[number, number, number, number, number, number, Pad]> = [
      [3, 9, 7, 8, 3, 1, 'same'], // block copies, padded width
      [2, 8, 8, 6, 2, 1, 'valid'], // block copies, no padding
      [2, 9, 9, 5, 4, 1, [[0, 0], [2, 0], [1, 2], [0, 0]]], // block copies, uneven explicit pads
      [3, 9, 7, 1, 6, 1, 'same'], // narrow: strided im2col
      [2, 9, 9, 6, 2, 2, 'same'], // stride 2: strided im2col
      // 36 * 4096 im2col elements per image: 120 images exceed the 2^24-element buffer (2 chunks).
      [120, 64, 64, 4, 2, 1, 'same'],
    ];
    for (const [n, h, w, ci, co, s, pad] of cases) {
      const xv = values(r, n * h * w * ci);
      const wv = values(r, 3 * 3 * ci * co);
      await compare(`filter grad x[${n},${h},${w},${ci}] co ${co} s${s} ${JSON.stringify(pad)}`, () => {
        const x = tf.tensor4d(xv, [n, h, w, ci]);
        const f = tf.tensor4d(wv, [3, 3, ci, co]);
        const y = tf.conv2d(x, f, s, pad as 'same');
        const dy = tf.sin(tf.range(0, y.size).reshape(y.shape));
        return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: s, pad, dataFormat: 'NHWC', filterShape: f.shape } as never) as tf.Tensor;
      });
    }
  });

  it('match the CPU backend on first layers (one input channel: filter taps as the register block), block remainders', async () => {
    const r = prng(27);
    // [n, h, w, ci, fh, fw, co, stride, pad, dilation] (tfjs has no conv2d gradient for dilations > 1)
    const cases: Array<[number, number, number, number, number, number, number, number, Pad, number]> = [
      [4, 12, 12, 1, 3, 3, 16, 1, 'same', 1], // the first conv layer: 3 taps per block; 4 vectors
      [3, 9, 11, 1, 2, 2, 20, 2, 'valid', 1], // 2 taps; co = 20: 4 + 1 vectors
      [2, 11, 10, 1, 5, 5, 8, 1, 'same', 1], // 5 taps per row: blocks of 3 + 2
      [2, 10, 9, 1, 1, 5, 12, 1, [[0, 0], [1, 2], [0, 3], [0, 0]], 1], // uneven explicit pads; 3 vectors
      [2, 11, 11, 3, 3, 3, 24, 2, 'same', 1], // 3 channels: channel blocks of 2 + 1; 4 + 2 vectors
      [2, 13, 12, 1, 3, 3, 4, 3, 'valid', 1], // stride 3, one vector
    ];
    for (const [n, h, w, ci, fh, fw, co, s, pad, d] of cases) {
      const xv = values(r, n * h * w * ci);
      const label = `first-layer filter grad x[${n},${h},${w},${ci}] f${fh}x${fw} co ${co} s${s} d${d} ${JSON.stringify(pad)}`;
      await compare(label, () => {
        const x = tf.tensor4d(xv, [n, h, w, ci]);
        const filterShape: [number, number, number, number] = [fh, fw, ci, co];
        const { outShape } = tf.backend_util.computeConv2DInfo(x.shape, filterShape, s, d, pad as 'same');
        const dy = tf.sin(tf.range(0, outShape.reduce((p, q) => p * q, 1)).reshape(outShape));
        return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: s, pad, dataFormat: 'NHWC', filterShape } as never) as tf.Tensor;
      });
      expect(conv.lastFilterGradPath, label).toBe('nhwc');
    }
  });

  it('match the CPU backend on the im2col-free NHWC filter-gradient path (fh*fw*ci > 27, co % 4 = 0): block remainders, strides, paddings, image chunks', async () => {
    const r = prng(31);
    // [n, h, w, ci, fh, fw, co, stride, pad, dilation]
    const cases: Array<[number, number, number, number, number, number, number, number | [number, number], Pad, number]> = [
      [7, 14, 14, 6, 3, 3, 32, 1, 'same', 1], // 5 images per chunk, 2 chunks (6 channels: not Winograd)
      [3, 9, 11, 5, 3, 3, 20, 2, 'valid', 1], // ci = 5: blocks of 2, 2, 1; co = 20: 4 + 1 vectors
      [2, 10, 9, 7, 2, 5, 12, 1, [[0, 0], [1, 2], [0, 3], [0, 0]], 1], // uneven explicit pads; 3 vectors
      [2, 12, 13, 4, 3, 3, 8, [2, 3], 'same', 1], // different strides per axis
      [2, 12, 12, 4, 3, 3, 4, 3, 'same', 1], // stride 3
      [1, 40, 36, 4, 3, 3, 8, 1, 'same', 1], // 1440 pixels per image: row bands of 28 + 12 rows
      [5, 6, 6, 3, 5, 5, 16, 1, 'valid', 1], // 2 x 2 outputs
    ];
    for (const [n, h, w, ci, fh, fw, co, s, pad, d] of cases) {
      const xv = values(r, n * h * w * ci);
      const label = `nhwc filter grad x[${n},${h},${w},${ci}] f${fh}x${fw} co ${co} s${s} d${d} ${JSON.stringify(pad)}`;
      await compare(label, () => {
        const x = tf.tensor4d(xv, [n, h, w, ci]);
        const filterShape: [number, number, number, number] = [fh, fw, ci, co];
        const { outShape } = tf.backend_util.computeConv2DInfo(x.shape, filterShape, s, d, pad as 'same');
        const dy = tf.sin(tf.range(0, outShape.reduce((p, q) => p * q, 1)).reshape(outShape));
        return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: s, pad, dataFormat: 'NHWC', filterShape, dilations: d } as never) as tf.Tensor;
      });
      expect(conv.lastFilterGradPath, label).toBe('nhwc');
    }
  });

  it('filter gradient of large images (one image per float32 accumulation) equals the sum over two half batches', async () => {
    // 16384 pixels per image, more than the 1024 pixels of one float32 accumulation: each image
    // is its own pass. (The CPU backend would need ~10 s for this size; small cases are checked
    // against it above.)
    await tf.setBackend('wasm');
    const xv = values(prng(29), 40 * 128 * 128 * 3);
    const [whole, halves] = tf.tidy(() => {
      const x = tf.tensor4d(xv, [40, 128, 128, 3]);
      const dy = tf.sin(tf.range(0, 40 * 128 * 128 * 4).reshape([40, 128, 128, 4]));
      const grad = (a: tf.Tensor, b: tf.Tensor) =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x: a, dy: b }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] } as never) as tf.Tensor;
      const first = grad(x.slice([0, 0, 0, 0], [20, 128, 128, 3]), dy.slice([0, 0, 0, 0], [20, 128, 128, 4]));
      const second = grad(x.slice([20, 0, 0, 0], [20, 128, 128, 3]), dy.slice([20, 0, 0, 0], [20, 128, 128, 4]));
      return [Float32Array.from(grad(x, dy).dataSync()), Float32Array.from(first.add(second).dataSync())];
    });
    expectClose([whole], [halves], 'large-image filter grad', 1e-5);
  });

  it('filter gradient does not let non-finite inputs leak into unused im2col columns', async () => {
    // 3x3 'same' at stride 1 lays pixels on the padded width; an Inf in the last input column
    // must only affect the filter taps that really read it (as on the CPU backend).
    const xv = new Float32Array(1 * 4 * 4 * 8).fill(0.5);
    xv[(1 * 4 + 3) * 8 + 2] = Number.POSITIVE_INFINITY; // x[0, 1, 3, 2]
    // co = 2: im2col path; co = 4: im2col-free NHWC path.
    for (const co of [2, 4]) {
      await compare(`non-finite input, co ${co}`, () => {
        const x = tf.tensor4d(xv, [1, 4, 4, 8]);
        const dy = tf.ones([1, 4, 4, co]);
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, co] } as never) as tf.Tensor;
        // Inf where the tap reads x[.., 3, 2]; finite elsewhere. Compare finiteness and values.
        return [tf.isFinite(dw).toFloat(), tf.where(tf.isFinite(dw), dw, tf.zerosLike(dw))];
      });
      expect(conv.lastFilterGradPath).toBe(co === 4 ? 'nhwc' : 'im2col');
    }
  });

  it('throws a clear error for NCHW', async () => {
    await tf.setBackend('wasm');
    expect(() =>
      tf.tidy(() =>
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x: tf.zeros([1, 2, 4, 4]), dy: tf.zeros([1, 2, 4, 4]) },
          { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [1, 1, 2, 2] } as never,
        ),
      ),
    ).toThrow(/Conv2DBackpropFilter.*NCHW/);
  });
});

describe('Conv2D forward (SIMD register blocks)', () => {
  it('matches the CPU backend over strides, paddings, vertical dilations and channel counts; other cases run the stock kernel', async () => {
    const r = prng(51);
    // [n, h, w, ci, fh, fw, co, stride, pad, dilation, path]
    const cases: Array<[number, number, number, number, number, number, number, number | [number, number], Pad, number | [number, number], 'winograd' | 'direct' | 'stock']> = [
      [3, 28, 28, 1, 3, 3, 16, 1, 'same', 1, 'direct'], // the first layer
      [2, 14, 14, 16, 3, 3, 32, 1, 'same', 1, 'winograd'], // the second (3x3, stride 1, 16 -> 32)
      [2, 14, 16, 16, 3, 3, 32, 2, 'same', 1, 'direct'], // strided: two blocks of 16 channels
      [2, 9, 12, 3, 3, 3, 20, 1, 'valid', 1, 'direct'], // 16 + 4 channels
      [2, 11, 11, 5, 3, 2, 8, 2, 'same', 1, 'direct'], // stride 2: output width 6
      [1, 10, 9, 4, 2, 3, 12, [1, 3], [[0, 0], [1, 2], [2, 2], [0, 0]], 1, 'direct'], // explicit pads, stride 3 across
      [2, 12, 10, 2, 3, 3, 4, 1, 'same', [2, 1], 'direct'], // vertical dilation
      [12, 40, 40, 3, 5, 5, 8, 1, 'same', 1, 'direct'], // 11 padded images per chunk: two chunks
      [2, 9, 9, 3, 3, 3, 8, 1, 'same', 1, 'stock'], // odd output width
      [2, 8, 8, 3, 3, 3, 6, 1, 'same', 1, 'direct'], // 6 channels: computed as 8, compacted
      [2, 8, 8, 16, 3, 3, 3, 1, 'same', 1, 'direct'], // 3 channels (an RGB layer's input gradient): as 4, 4 pixels per block
      [2, 8, 8, 3, 3, 3, 2, 1, 'same', 1, 'stock'], // fewer than 3 channels
      [2, 10, 10, 3, 3, 3, 8, 1, 'same', [1, 2], 'stock'], // horizontal dilation
    ];
    for (const [n, h, w, ci, fh, fw, co, s, pad, d, path] of cases) {
      const xv = values(r, n * h * w * ci);
      const fv = values(r, fh * fw * ci * co);
      const label = `conv2d x[${n},${h},${w},${ci}] f${fh}x${fw}x${co} s${s} d${d} ${JSON.stringify(pad)}`;
      await compare(label, () => tf.conv2d(tf.tensor4d(xv, [n, h, w, ci]), tf.tensor4d(fv, [fh, fw, ci, co]), s as [number, number], pad as 'same', 'NHWC', d as [number, number]));
      expect(convForward.lastConvPath, label).toBe(path);
    }
  });

  it('FusedConv2D with a bias and linear / relu activation runs the SIMD blocks and matches the CPU backend; other activations run the stock kernel', async () => {
    const r = prng(53);
    // [n, h, w, ci, co, activation, bias size, path]
    const cases: Array<[number, number, number, number, number, 'linear' | 'relu' | 'elu', number | null, 'direct' | 'stock']> = [
      [2, 12, 12, 3, 16, 'linear', 16, 'direct'], // a conv layer without activation under the tape
      [2, 12, 12, 3, 16, 'relu', 16, 'direct'], // inference with relu
      [2, 10, 10, 4, 8, 'relu', null, 'direct'], // no bias
      [2, 10, 10, 4, 8, 'linear', 1, 'direct'], // scalar bias
      [2, 10, 10, 4, 8, 'elu', 8, 'stock'],
    ];
    for (const [n, h, w, ci, co, activation, biasSize, path] of cases) {
      const xv = values(r, n * h * w * ci);
      xv[0] = Number.NaN; // NaN stays NaN through relu
      const fv = values(r, 9 * ci * co);
      const bv = biasSize == null ? null : values(r, biasSize);
      const label = `fused conv2d x[${n},${h},${w},${ci}] co ${co} ${activation} bias ${biasSize}`;
      const { cpu, wasm } = await onBoth(() =>
        tf.fused.conv2d({
          x: tf.tensor4d(xv, [n, h, w, ci]),
          filter: tf.tensor4d(fv, [3, 3, ci, co]),
          strides: 1,
          pad: 'same',
          bias: bv == null ? undefined : tf.tensor1d(bv),
          activation,
        }),
      );
      expect(convForward.lastConvPath, label).toBe(path);
      const finite = (a: Float32Array) => Array.from(a, (v) => (Number.isNaN(v) ? 'NaN' : v));
      expect(finite(wasm[0]).filter((v) => v === 'NaN').length, label).toBe(finite(cpu[0]).filter((v) => v === 'NaN').length);
      const clean = (a: Float32Array) => Float32Array.from(a, (v) => (Number.isNaN(v) ? 0 : v));
      expectClose([clean(wasm[0])], [clean(cpu[0])], label);
    }
  });

  it('3x3 stride-1 convolutions with >= 8 channels (multiples of 4) run Winograd F(2x2, 3x3) and match the CPU backend: odd sizes, paddings, image chunks, row bands, bias and relu; filter gradients by F(3x3, 2x2)', async () => {
    const r = prng(57);
    // [n, h, w, ci, co, pad]
    const cases: Array<[number, number, number, number, number, Pad]> = [
      [2, 14, 14, 16, 32, 'same'], // the benchmark CNN's second layer
      [3, 9, 11, 8, 12, 'same'], // odd output: a spare zero row and column, then dropped
      [2, 10, 7, 12, 8, 'valid'],
      [2, 13, 6, 8, 16, [[0, 0], [2, 1], [0, 2], [0, 0]]],
      [1, 40, 36, 8, 8, 'same'], // 360 tiles in one image: bands of tile rows
      [40, 6, 6, 8, 8, 'same'], // 9 tiles per image: 28 images per chunk, two chunks
      [3, 6, 10, 8, 8, 'same'], // 15 tiles per image: an odd tile count per chunk
    ];
    for (const [n, h, w, ci, co, pad] of cases) {
      const xv = values(r, n * h * w * ci);
      const fv = values(r, 9 * ci * co);
      const bv = values(r, co);
      const label = `winograd x[${n},${h},${w},${ci}] co ${co} ${JSON.stringify(pad)}`;
      await compare(label, () => {
        const x = tf.tensor4d(xv, [n, h, w, ci]);
        const filter = tf.tensor4d(fv, [3, 3, ci, co]);
        return [tf.conv2d(x, filter, 1, pad as 'same'), tf.fused.conv2d({ x, filter, strides: 1, pad: pad as 'same', bias: tf.tensor1d(bv), activation: 'relu' })];
      });
      expect(winograd.lastWinogradApplied, label).toBe(true);
      expect(convForward.lastConvPath, label).toBe('winograd');
      await compare(`${label} filter gradient`, () => {
        const x = tf.tensor4d(xv, [n, h, w, ci]);
        const { outShape } = tf.backend_util.computeConv2DInfo(x.shape, [3, 3, ci, co], 1, 1, pad as 'same');
        const dy = tf.sin(tf.range(0, size(outShape)).reshape(outShape));
        return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad, dataFormat: 'NHWC', filterShape: [3, 3, ci, co] } as never) as tf.Tensor;
      });
      expect(conv.lastFilterGradPath, label).toBe('winograd');
    }
    // Too few channels, or not a multiple of 4: the direct blocks.
    for (const [ci, co] of [[4, 16], [8, 6], [12, 4]]) {
      const xv = values(r, 2 * 8 * 8 * ci);
      const fv = values(r, 9 * ci * co);
      await compare(`direct ci ${ci} co ${co}`, () => tf.conv2d(tf.tensor4d(xv, [2, 8, 8, ci]), tf.tensor4d(fv, [3, 3, ci, co]), 1, 'same'));
      expect(convForward.lastConvPath, `ci ${ci} co ${co}`).toBe('direct');
    }
    // Gradients through it (the input gradient of a 3x3 stride-1 layer is a 3x3 stride-1 convolution).
    const xv = values(r, 2 * 10 * 10 * 8);
    const fv = values(r, 3 * 3 * 8 * 16);
    await compare('winograd input gradient', () =>
      tf.grad((p: tf.Tensor) => tf.conv2d(p as tf.Tensor4D, tf.tensor4d(fv, [3, 3, 8, 16]), 1, 'same').square().sum())(tf.tensor4d(xv, [2, 10, 10, 8])),
    );
    expect(convForward.lastConvPath).toBe('winograd');
  });

  it('is used inside Conv2DBackpropInput at stride 1', async () => {
    const r = prng(52);
    const xv = values(r, 2 * 10 * 10 * 8);
    const fv = values(r, 3 * 3 * 8 * 4);
    await compare('conv2d input gradient', () =>
      tf.grad((p: tf.Tensor) => tf.conv2d(p as tf.Tensor4D, tf.tensor4d(fv, [3, 3, 8, 4]), 1, 'same').square().sum())(tf.tensor4d(xv, [2, 10, 10, 8])),
    );
    expect(convForward.lastConvPath).toBe('direct');
  });
});

describe('depthwiseConv2d gradients', () => {
  it('match the CPU backend over random shapes, multipliers, strides and paddings', async () => {
    const r = prng(4);
    for (let i = 0; i < 30; i++) {
      const [n, c, m] = [int(r, 1, 3), int(r, 1, 4), int(r, 1, 3)];
      const [fh, fw] = [int(r, 1, 4), int(r, 1, 4)];
      const stride = int(r, 1, 3);
      const pad = randomPad(r, false);
      const [h, w] = [int(r, fh + 2, 10), int(r, fw + 2, 10)];
      const xv = values(r, n * h * w * c);
      const wv = values(r, fh * fw * c * m);
      await compare(`dw case ${i}: x[${n},${h},${w},${c}] f[${fh},${fw},${c},${m}] s${stride} ${pad}`, () => {
        const x = tf.tensor4d(xv, [n, h, w, c]);
        const f = tf.tensor4d(wv, [fh, fw, c, m]);
        const y = tf.depthwiseConv2d(x, f, stride, pad as 'same');
        const dy = tf.sin(tf.range(0, y.size).reshape(y.shape));
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad as 'same').mul(dy).sum())([
          x,
          f,
        ]);
      });
    }
  });

  it('filter gradient with multiplier 1 and channels % 4 = 0 runs the SIMD path and matches the CPU backend (taps 1-5, strides, paddings, passes)', async () => {
    const r = prng(81);
    // [n, h, w, c, fh, fw, stride, pad]
    const cases: Array<[number, number, number, number, number, number, number, 'same' | 'valid']> = [
      [4, 16, 16, 32, 3, 3, 1, 'same'], // a MobileNet block
      [3, 9, 11, 8, 3, 3, 2, 'same'],
      [2, 12, 10, 4, 5, 5, 1, 'valid'],
      [2, 8, 8, 4, 1, 2, 1, 'same'],
      [2, 10, 9, 12, 4, 1, 3, 'valid'],
      [1, 40, 36, 4, 3, 3, 1, 'same'], // 1440 output pixels: row bands
    ];
    for (const [n, h, w, c, fh, fw, stride, pad] of cases) {
      const xv = values(r, n * h * w * c);
      const label = `dw filter grad x[${n},${h},${w},${c}] f${fh}x${fw} s${stride} ${pad}`;
      await compare(label, () => {
        const x = tf.tensor4d(xv, [n, h, w, c]);
        const filterShape: [number, number, number, number] = [fh, fw, c, 1];
        const { outShape } = tf.backend_util.computeConv2DInfo(x.shape, filterShape, stride, 1, pad, undefined, true);
        const dy = tf.sin(tf.range(0, outShape.reduce((p, q) => p * q, 1)).reshape(outShape));
        return tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: stride, pad, dilations: 1, filterShape } as never) as tf.Tensor;
      });
      expect(conv.lastDepthwiseFilterGradPath, label).toBe('nhwc');
    }
    // With dilations (tfjs gradients never pass them; the CPU reference: a zero-inserted filter).
    const [n, h, w, c, dil] = [2, 10, 10, 8, [2, 2] as [number, number]];
    const xv = values(r, n * h * w * c);
    const dyOf = (shape: number[]) => tf.cos(tf.range(0, shape.reduce((p, q) => p * q, 1)).reshape(shape));
    await tf.setBackend('wasm');
    const got = tf.tidy(() => {
      const x = tf.tensor4d(xv, [n, h, w, c]);
      const { outShape } = tf.backend_util.computeConv2DInfo(x.shape, [3, 3, c, 1], 1, dil, 'same', undefined, true);
      const k = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: dyOf(outShape) }, { strides: 1, pad: 'same', dilations: dil, filterShape: [3, 3, c, 1] } as never) as tf.Tensor;
      return Float32Array.from(k.dataSync());
    });
    expect(conv.lastDepthwiseFilterGradPath).toBe('nhwc');
    await tf.setBackend('cpu');
    const want = tf.tidy(() => {
      const x = tf.tensor4d(xv, [n, h, w, c]);
      const { outShape } = tf.backend_util.computeConv2DInfo(x.shape, [5, 5, c, 1], 1, 1, 'same', undefined, true);
      const wide = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: dyOf(outShape) }, { strides: 1, pad: 'same', dilations: 1, filterShape: [5, 5, c, 1] } as never) as tf.Tensor;
      const gv = wide.dataSync();
      const sampled = new Float32Array(9 * c);
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) for (let k = 0; k < c; k++) sampled[(a * 3 + b) * c + k] = gv[(a * 2 * 5 + b * 2) * c + k];
      return sampled;
    });
    expectClose([got], [want], 'dilated dw filter grad');
  });

  it('strided input gradient with multiplier 1 and channels % 4 = 0 runs one SIMD pass per stride phase and matches the CPU backend', async () => {
    const r = prng(83);
    // [n, h, w, c, fh, fw, strides, pad]: odd widths (pixel-pair remainder), taps that miss whole
    // phases (1 x 1 at stride 2, 1 x 2 at stride 3: zeros), 5 x 5, unequal strides, paddings.
    const cases: Array<[number, number, number, number, number, number, [number, number], Pad]> = [
      [4, 16, 16, 64, 3, 3, [2, 2], 'same'], // a MobileNet block
      [3, 9, 11, 8, 3, 3, [2, 2], 'same'],
      [2, 10, 13, 4, 3, 3, [2, 2], 'valid'],
      [2, 12, 10, 20, 5, 5, [2, 2], 'same'],
      [2, 11, 9, 4, 1, 1, [2, 2], 'valid'],
      [2, 10, 12, 8, 1, 2, [3, 3], 'same'],
      [2, 13, 14, 12, 4, 3, [3, 2], 'same'],
      [1, 9, 10, 4, 2, 5, [1, 2], 1],
      [2, 8, 9, 4, 3, 3, [2, 3], [[0, 0], [2, 0], [1, 2], [0, 0]]],
    ];
    for (const [n, h, w, c, fh, fw, strides, pad] of cases) {
      const fv = values(r, fh * fw * c);
      const label = `dw input grad [${n},${h},${w},${c}] f${fh}x${fw} s${strides} ${JSON.stringify(pad)}`;
      await compare(label, () => {
        const filter = tf.tensor4d(fv, [fh, fw, c, 1]);
        const { outShape } = tf.backend_util.computeConv2DInfo([n, h, w, c], [fh, fw, c, 1], strides, 1, pad as never, undefined, true);
        const dy = tf.sin(tf.range(0, outShape.reduce((p, q) => p * q, 1)).reshape(outShape));
        return tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { strides, pad, dilations: 1, inputShape: [n, h, w, c] } as never) as tf.Tensor;
      });
      expect(depthwise.lastDepthwiseInputGradPath, label).toBe('phases');
    }
    // Stride 1 keeps the stock depthwise convolution of the padded dy (faster there).
    const f1 = values(r, 9 * 8);
    await compare('dw input grad stride 1', () => {
      const filter = tf.tensor4d(f1, [3, 3, 8, 1]);
      const dy = tf.cos(tf.range(0, 2 * 6 * 6 * 8).reshape([2, 6, 6, 8]));
      return tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { strides: 1, pad: 'same', dilations: 1, inputShape: [2, 6, 6, 8] } as never) as tf.Tensor;
    });
    expect(depthwise.lastDepthwiseInputGradPath).toBe('composed');
  });

  it('supports dilations when called as kernels (checked against a zero-inserted filter)', async () => {
    // The CPU backend ignores dilations in these two kernels (tfjs gradients never pass
    // them), so the reference is the undilated conv with a zero-inserted filter.
    const r = prng(5);
    for (let i = 0; i < 8; i++) {
      const [n, c, m, fh, fw] = [int(r, 1, 2), int(r, 1, 3), int(r, 1, 2), int(r, 2, 3), int(r, 2, 3)];
      const dilations: [number, number] = [int(r, 1, 2), int(r, 1, 3)];
      const pad = pick(r, ['same', 'valid'] as const);
      const [h, w] = [int(r, 8, 10), int(r, 8, 10)];
      const xv = values(r, n * h * w * c);
      const wv = values(r, fh * fw * c * m);
      const [eh, ew] = [(fh - 1) * dilations[0] + 1, (fw - 1) * dilations[1] + 1];
      const wide = new Float32Array(eh * ew * c * m);
      for (let a = 0; a < fh; a++)
        for (let b = 0; b < fw; b++)
          for (let k = 0; k < c * m; k++) wide[((a * dilations[0]) * ew + b * dilations[1]) * c * m + k] = wv[(a * fw + b) * c * m + k];
      const dyOf = (y: tf.Tensor) => tf.cos(tf.range(0, y.size).reshape(y.shape));
      await tf.setBackend('wasm');
      const got = tf.tidy(() => {
        const x = tf.tensor4d(xv, [n, h, w, c]);
        const f = tf.tensor4d(wv, [fh, fw, c, m]);
        const dy = dyOf(tf.depthwiseConv2d(x, f, 1, pad, 'NHWC', dilations));
        const attrs = { strides: [1, 1], pad, dilations };
        return [
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: f.shape } as never) as tf.Tensor,
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, { ...attrs, inputShape: x.shape } as never) as tf.Tensor,
        ].map((t) => Float32Array.from(t.dataSync()));
      });
      await tf.setBackend('cpu');
      const want = tf.tidy(() => {
        const x = tf.tensor4d(xv, [n, h, w, c]);
        const f = tf.tensor4d(wide, [eh, ew, c, m]);
        const dy = dyOf(tf.depthwiseConv2d(x, f, 1, pad));
        const [gx, gf] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.depthwiseConv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, pad).mul(dy).sum())([x, f]);
        const gfv = gf.dataSync();
        const sampled = new Float32Array(fh * fw * c * m);
        for (let a = 0; a < fh; a++)
          for (let b = 0; b < fw; b++)
            for (let k = 0; k < c * m; k++) sampled[(a * fw + b) * c * m + k] = gfv[((a * dilations[0]) * ew + b * dilations[1]) * c * m + k];
        return [sampled, Float32Array.from(gx.dataSync())];
      });
      expectClose(got, want, `dw dilated case ${i}: d${dilations} ${pad}`);
    }
  });
});

describe('BatchMatMul / _FusedMatMul', () => {
  it('narrow aᵀ · b products (a side < 16) run as SIMD blocks and match the CPU backend; wide ones transpose', async () => {
    const r = prng(61);
    // [k, m, n, batch, path]: out = aᵀ[m, k] · b[k, n]
    const cases: Array<[number, number, number, number[], 'simd' | 'transpose']> = [
      [128, 1568, 10, [], 'simd'], // a dense layer with 10 units: vectors from a, result transposed back
      [1500, 12, 8, [2], 'simd'], // vectors from b; 1500 rows: two float32 accumulations; batch of 2
      [7, 5, 4, [], 'simd'], // row blocks of 2, 2, 1
      [9, 4, 36, [2, 2], 'simd'], // block of 16 + 16 + 4 columns; two batch dims
      [130, 20, 24, [], 'transpose'], // wide: XNNPACK after a transpose
      [10, 6, 6, [], 'transpose'], // no side a multiple of 4
    ];
    for (const [k, m, n, batch, path] of cases) {
      const av = values(r, size([...batch, k, m]));
      const bv = values(r, size([...batch, k, n]));
      const label = `aT b: k ${k} m ${m} n ${n} batch [${batch}]`;
      await compare(label, () => tf.matMul(tf.tensor(av, [...batch, k, m]), tf.tensor(bv, [...batch, k, n]), true, false));
      expect(matmul.lastTransposedAPath, label).toBe(path);
    }
  });

  it('match the CPU backend for all transposes, ranks 2-4 and their gradients', async () => {
    const r = prng(6);
    for (let i = 0; i < 40; i++) {
      const [m, k, n] = [int(r, 1, 9), int(r, 1, 9), int(r, 1, 9)];
      const batch = pick(r, [[], [int(r, 1, 4)], [2, int(r, 1, 3)]] as number[][]);
      const [ta, tb] = [r() < 0.5, r() < 0.5];
      const aShape = [...batch, ...(ta ? [k, m] : [m, k])];
      const bShape = [...batch, ...(tb ? [n, k] : [k, n])];
      const av = values(r, aShape.reduce((p, q) => p * q, 1));
      const bv = values(r, bShape.reduce((p, q) => p * q, 1));
      await compare(`matmul case ${i}: a[${aShape}] b[${bShape}] tA=${ta} tB=${tb}`, () => {
        const a = tf.tensor(av, aShape);
        const b = tf.tensor(bv, bShape);
        const out = tf.matMul(a, b, ta, tb);
        const dy = tf.sin(tf.range(0, out.size).reshape(out.shape));
        const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, ta, tb).mul(dy).sum())([a, b]);
        return [out, ...grads];
      });
    }
  });

  it('fused matMul with bias and activation matches the CPU backend', async () => {
    const r = prng(7);
    for (let i = 0; i < 12; i++) {
      const [m, k, n] = [int(r, 1, 8), int(r, 1, 8), int(r, 1, 8)];
      const [ta, tb] = [r() < 0.5, r() < 0.5];
      const av = values(r, m * k);
      const bv = values(r, k * n);
      const biasv = values(r, n);
      const activation = pick(r, ['linear', 'relu'] as const);
      await compare(`fused case ${i}`, () =>
        tf.fused.matMul({
          a: tf.tensor2d(av, ta ? [k, m] : [m, k]),
          b: tf.tensor2d(bv, tb ? [n, k] : [k, n]),
          transposeA: ta,
          transposeB: tb,
          bias: tf.tensor1d(biasv),
          activation,
        }),
      );
    }
  });
});

describe('UnsortedSegmentSum and gather gradients', () => {
  it('match the CPU backend, including out-of-range segment ids', async () => {
    const r = prng(8);
    for (let i = 0; i < 30; i++) {
      const rows = int(r, 1, 12);
      const numSegments = int(r, 1, 6);
      const rest = pick(r, [[], [int(r, 1, 4)], [2, int(r, 1, 3)]] as number[][]);
      const xv = values(r, rows * rest.reduce((p, q) => p * q, 1));
      const ids = Int32Array.from({ length: rows }, () => int(r, i % 3 === 0 ? -1 : 0, numSegments - (i % 3 === 0 ? 0 : 1)));
      await compare(`segsum case ${i}`, () =>
        tf.unsortedSegmentSum(tf.tensor(xv, [rows, ...rest]), tf.tensor1d(ids, 'int32'), numSegments),
      );
    }
  });

  it('gather (GatherV2) matches the CPU backend over axes, batchDims, dtypes and index shapes', async () => {
    const r = prng(11);
    for (let i = 0; i < 40; i++) {
      const shape = [int(r, 1, 6), int(r, 1, 5), int(r, 1, 4)];
      const batchDims = i % 4 === 0 ? 1 : 0;
      const axis = int(r, batchDims, 2);
      const idxShape = batchDims ? [shape[0], int(r, 1, 4)] : pick(r, [[int(r, 0, 7)], [2, int(r, 1, 3)]] as number[][]);
      const idx = Int32Array.from({ length: idxShape.reduce((p, q) => p * q, 1) }, () => int(r, 0, shape[axis] - 1));
      const xv = values(r, shape[0] * shape[1] * shape[2]);
      const dtype = pick(r, ['float32', 'int32'] as const);
      await compare(`gather case ${i}`, () =>
        tf.gather(tf.tensor(dtype === 'int32' ? Int32Array.from(xv, (v) => Math.round(v * 100)) : xv, shape, dtype), tf.tensor(idx, idxShape, 'int32'), axis, batchDims).toFloat(),
      );
    }
    await tf.setBackend('wasm');
    expect(() => tf.gather(tf.zeros([3, 2]), tf.tensor1d([3], 'int32'))).toThrow(/index value 3 is not in \[0, 2\]/);
  });

  it('gather gradients match the CPU backend', async () => {
    const r = prng(9);
    for (let i = 0; i < 20; i++) {
      const shape = [int(r, 2, 7), int(r, 1, 5), int(r, 1, 3)];
      const axis = int(r, 0, 2);
      const idx = Int32Array.from({ length: int(r, 1, 9) }, () => int(r, 0, shape[axis] - 1));
      const xv = values(r, shape[0] * shape[1] * shape[2]);
      await compare(`gather grad case ${i}`, () => {
        const x = tf.tensor(xv, shape);
        const indices = tf.tensor1d(idx, 'int32');
        const y = tf.gather(x, indices, axis);
        const dy = tf.sin(tf.range(0, y.size).reshape(y.shape));
        return tf.grad((p: tf.Tensor) => tf.gather(p, indices, axis).mul(dy).sum())(x);
      });
    }
  });
});

describe('inputs that still live on another backend', () => {
  it('are read as stored: moved before views are taken (memory growth) and bool data cast to int32', async () => {
    // Tensors made on the CPU backend are moved to wasm lazily, inside the kernel; a large one
    // forces the wasm memory to grow while the kernel runs.
    await tf.setBackend('cpu');
    const big = tf.range(0, 3_000_000, 1, 'float32').reshape([3000, 1000]);
    const labels = tf.tensor1d([1, 0, 1, 1, 0, 2], 'int32');
    await tf.setBackend('wasm');
    const rows = tf.gather(big, tf.tensor1d([2999, 0], 'int32'));
    const values = rows.dataSync();
    expect([values[0], values[999], values[1000], values[1999]]).toEqual([2_999_000, 2_999_999, 0, 999]);
    await tf.setBackend('cpu');
    const y = tf.tensor1d([3, 1, 2], 'int32');
    // On the CPU backend bool → int32 shares the bool data; moved to wasm it stays bool bytes.
    const fromBool = tf.tensor1d([0.5, -1, 2, -3]).greater(0).toInt();
    await tf.setBackend('wasm');
    expect(Array.from(tf.gather(y, tf.tensor1d([2, 0, 1], 'int32')).dataSync())).toEqual([2, 3, 1]);
    expect(Array.from(tf.gather(fromBool, tf.tensor1d([3, 2, 1, 0], 'int32')).dataSync())).toEqual([0, 1, 0, 1]);
    expect(Array.from(tf.oneHot(labels, 3, 1, 0, 'float32').dataSync())).toEqual([0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1]);
    tf.dispose([big, labels, y, rows]);
  });
});

describe('OneHot', () => {
  it('honours dtype (the stock wasm kernel writes int32 bits into float32 outputs)', async () => {
    const r = prng(10);
    for (let i = 0; i < 20; i++) {
      const n = int(r, 1, 12);
      const depth = int(r, 2, 9);
      const ids = Int32Array.from({ length: n }, () => int(r, -1, depth));
      const [on, off] = [pick(r, [1, 2.5, -3]), pick(r, [0, 0.25])];
      for (const dtype of ['float32', 'int32'] as const) {
        await compare(`oneHot case ${i} ${dtype}`, () => tf.oneHot(tf.tensor1d(ids, 'int32'), depth, on, off, dtype).toFloat());
      }
    }
  });
});

describe('Sum, Identity and Cast', () => {
  it('Sum over leading axes (bias gradients) matches the CPU backend; other axes and dtypes too', async () => {
    const r = prng(13);
    for (let i = 0; i < 30; i++) {
      const rank = int(r, 1, 4);
      const shape = Array.from({ length: rank }, () => int(r, 1, 6));
      const xv = values(r, shape.reduce((p, q) => p * q, 1));
      const lead = int(r, 1, rank);
      const axes = i % 3 === 2 ? [rank - 1] : Array.from({ length: lead }, (_, k) => k);
      const keepDims = r() < 0.5;
      const dtype = i % 5 === 4 ? 'int32' : 'float32';
      await compare(`sum case ${i}: [${shape}] axes ${axes} keepDims ${keepDims} ${dtype}`, () => {
        const x = dtype === 'int32' ? tf.tensor(Int32Array.from(xv, (v) => Math.round(v * 10)), shape, 'int32') : tf.tensor(xv, shape);
        const out = tf.sum(x, axes, keepDims);
        expect(out.shape).toEqual(keepDims ? shape.map((d, k) => (axes.includes(k) ? 1 : d)) : shape.filter((_, k) => !axes.includes(k)));
        expect(out.dtype).toBe(dtype);
        return out.toFloat();
      });
    }
    // A large bias gradient: 100,352 rows summed in float64 like the CPU backend.
    const big = values(prng(14), 128 * 28 * 28 * 4);
    await compare('sum bias gradient', () => tf.sum(tf.tensor4d(big, [128, 28, 28, 4]), [0, 1, 2]), 1e-6);
  });

  it('Identity and same-dtype Cast share data (no copy); casts to bool are x != 0; bool data behind int32 is converted', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([1.5, -2, 3, 4], [2, 2]);
    const before = tf.memory();
    const y = tf.clone(x);
    const z = tf.cast(x, 'float32');
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers); // shared, not copied
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1.5, -2, 3, 4]);
    expect(Array.from(z.dataSync())).toEqual([1.5, -2, 3, 4]);
    expect(Array.from(tf.cast(z, 'int32').dataSync())).toEqual([1, -2, 3, 4]);
    // Casts to bool are x != 0 (the stock wasm kernel truncated 1.5 → 1 and -2 → 254).
    expect(Array.from(tf.cast(tf.tensor1d([1.5, -2, 0, 256, NaN, 0.25]), 'bool').dataSync())).toEqual([1, 1, 0, 1, 1, 1]);
    expect(Array.from(tf.cast(tf.tensor1d([3, 0, -1, 256], 'int32'), 'bool').dataSync())).toEqual([1, 0, 1, 1]);
    tf.dispose([y, z]);
    // int32 tensors made from bool on the CPU backend keep bool bytes when moved to wasm.
    await tf.setBackend('cpu');
    const fromBool = tf.tensor1d([0.5, -1, 2, -3]).greater(0).toInt();
    const fromBool2 = tf.tensor1d([0.5, -1, 2, -3]).greater(0).toInt();
    await tf.setBackend('wasm');
    expect(Array.from(tf.clone(fromBool).dataSync())).toEqual([1, 0, 1, 0]);
    expect(Array.from(tf.cast(fromBool2, 'float32').dataSync())).toEqual([1, 0, 1, 0]);
    // Gradients through clone and cast are unchanged.
    await compare('clone/cast grads', () =>
      tf.grad((p: tf.Tensor) => tf.clone(p).cast('float32').relu().mul(tf.range(0, 6).reshape([2, 3])).sum())(tf.tensor2d([1, -1, 2, -2, 3, 0.5], [2, 3])),
    );
  });
});

describe('MaxPoolGrad', () => {
  it('matches the CPU backend (first maximum) over random windows, strides, paddings and ties', async () => {
    const r = prng(10);
    for (let i = 0; i < 40; i++) {
      const [n, c] = [int(r, 1, 3), int(r, 1, 4)];
      const pad = pick(r, ['same', 'valid', 0, 1] as const);
      const square = typeof pad === 'number'; // see the conv2d test
      const kh = int(r, 1, 3);
      const kw = square ? kh : int(r, 1, 3);
      const sh = int(r, 1, 3);
      const strides: [number, number] = [sh, square ? sh : int(r, 1, 3)];
      const [h, w] = [int(r, Math.max(kh, 2) + 1, 10), int(r, Math.max(kw, 2) + 1, 10)];
      const ties = i % 2 === 0;
      const xv = values(r, n * h * w * c, ties);
      await compare(`maxpool case ${i}: x[${n},${h},${w},${c}] k${kh}x${kw} s${strides} ${pad} ties=${ties}`, () => {
        const x = tf.tensor4d(xv, [n, h, w, c]);
        const y = tf.maxPool(x, [kh, kw], strides, pad);
        const dy = tf.sin(tf.range(1, y.size + 1).reshape(y.shape));
        return tf.grad((p: tf.Tensor) => tf.maxPool(p as tf.Tensor4D, [kh, kw], strides, pad).mul(dy).sum())(x);
      });
    }
  });
});

describe('MaxPoolGrad, SIMD path (2x2 windows at stride 2 tiling the input, channels % 4 = 0)', () => {
  it('runs as SIMD code on this engine', async () => {
    await tf.setBackend('wasm');
    expect(simdKernels(tf.backend() as unknown as WasmBackendLike)).not.toBeNull();
  });

  it('matches the CPU backend with ties, NaN, -Infinity and all-negative windows', async () => {
    const r = prng(21);
    for (let i = 0; i < 12; i++) {
      const n = int(r, 1, 3);
      const c = 4 * int(r, 1, 5);
      const [oh, ow] = [int(r, 1, 6), int(r, 1, 6)];
      const [h, w] = [2 * oh, 2 * ow];
      const pad = pick(r, ['same', 'valid'] as const);
      const ties = i % 2 === 0;
      const xv = values(r, n * h * w * c, ties);
      // Special values: NaN never wins, -Infinity only loses, all-negative windows still route.
      for (let k = 0; k < xv.length; k++) {
        const u = r();
        if (u < 0.05) xv[k] = Number.NaN;
        else if (u < 0.1) xv[k] = Number.NEGATIVE_INFINITY;
        else if (u < 0.3) xv[k] = -Math.abs(xv[k]) - 1;
      }
      // A window of only NaN / -Infinity (no gradient anywhere in it).
      for (const [dyy, dxx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) xv[(dyy * w + dxx) * c] = dyy === dxx ? Number.NaN : Number.NEGATIVE_INFINITY;
      await compare(`simd maxpool case ${i}: x[${n},${h},${w},${c}] ${pad} ties=${ties}`, () => {
        const x = tf.tensor4d(xv, [n, h, w, c]);
        const dy = tf.sin(tf.range(1, n * oh * ow * c + 1).reshape([n, oh, ow, c]));
        return tf.grad((p: tf.Tensor) => tf.maxPool(p as tf.Tensor4D, 2, 2, pad).mul(dy).sum())(x);
      });
    }
  });

  it('MaxPool forward (SIMD for tiling 2x2/2, stock otherwise) is bit-identical to the CPU backend: NaN never wins, all-NaN windows give -Infinity', async () => {
    const r = prng(41);
    // [n, h, w, c, window, stride, pad]: the first four tile (SIMD), the rest run the stock kernel.
    const cases: Array<[number, number, number, number, number, number, 'same' | 'valid']> = [
      [2, 8, 6, 8, 2, 2, 'valid'],
      [1, 4, 4, 4, 2, 2, 'same'],
      [3, 2, 10, 12, 2, 2, 'valid'],
      [1, 28, 28, 16, 2, 2, 'valid'],
      [2, 7, 6, 8, 2, 2, 'valid'], // odd height: does not tile
      [2, 6, 6, 6, 2, 2, 'valid'], // channels not a multiple of 4
      [2, 9, 9, 4, 3, 2, 'same'],
    ];
    for (const [n, h, w, c, k, st, pad] of cases) {
      const simdCase = k === 2 && h % 2 === 0 && w % 2 === 0 && c % 4 === 0;
      const xv = values(r, n * h * w * c, true);
      if (simdCase) {
        // (The stock kernel lets NaN win, unlike the CPU backend: special values only where ours runs.)
        for (let q = 0; q < xv.length; q++) {
          const u = r();
          if (u < 0.05) xv[q] = Number.NaN;
          else if (u < 0.1) xv[q] = Number.NEGATIVE_INFINITY;
        }
        // One window of only NaN (top-left, channel 0).
        for (const [dyy, dxx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) xv[(dyy * w + dxx) * c] = Number.NaN;
      }
      const { cpu, wasm } = await onBoth(() => tf.maxPool(tf.tensor4d(xv, [n, h, w, c]), k, st, pad));
      const label = `maxPool x[${n},${h},${w},${c}] ${k}/${st} ${pad}`;
      if (simdCase) {
        // Bit patterns: NaN-safe and exact (a maximum rounds nothing; ties of +0 / -0 keep the first).
        expect(Array.from(new Uint32Array(wasm[0].buffer)), label).toEqual(Array.from(new Uint32Array(cpu[0].buffer)));
        expect(wasm[0][0], label).toBe(Number.NEGATIVE_INFINITY);
      } else {
        const plain = (a: Float32Array) => Array.from(a, (v) => v + 0); // -0 -> +0 (the stock kernel's tie order differs)
        expect(plain(wasm[0]), label).toEqual(plain(cpu[0]));
      }
    }
  });

  it('writes every element of a reused (dirty) output buffer', async () => {
    await tf.setBackend('wasm');
    const xv = Float32Array.from({ length: 2 * 4 * 4 * 4 }, (_, k) => ((k * 37) % 23) - 11);
    const expected = (await onBoth(() => tf.grad((p: tf.Tensor) => tf.maxPool(p as tf.Tensor4D, 2, 2, 'valid').sum())(tf.tensor4d(xv, [2, 4, 4, 4])))).cpu[0];
    for (let rep = 0; rep < 3; rep++) {
      // Fill freed heap memory with garbage of the same size first.
      tf.tidy(() => tf.fill([2, 4, 4, 4], 7).dataSync());
      const got = tf.tidy(() => tf.grad((p: tf.Tensor) => tf.maxPool(p as tf.Tensor4D, 2, 2, 'valid').sum())(tf.tensor4d(xv, [2, 4, 4, 4])).dataSync());
      expect(Array.from(got)).toEqual(Array.from(expected));
    }
  });
});

describe('Add, Sub, Multiply, RealDiv with a vector along the last axis (SIMD path)', () => {
  it('match the CPU backend bit for bit for both operand orders, vector shapes and special values; other cases unchanged', async () => {
    const r = prng(22);
    const cases: Array<[number[], number[], boolean]> = [
      [[16, 8, 8, 16], [16], false],
      [[16, 8, 8, 16], [16], true], // vector first
      [[4, 6, 6, 32], [1, 1, 1, 32], false],
      [[4, 6, 6, 32], [1, 1, 1, 32], true],
      [[128, 256], [256], false], // a dense layer's bias
      [[128, 256], [1, 256], true],
      [[3, 5, 4], [4], false], // too small: stock kernel
      [[40, 10], [10], false], // channels not a multiple of 4: stock kernel
      [[8, 8, 8], [8, 8, 8], false], // no broadcast: stock kernel
      [[8, 8, 8], [8, 1, 8], false], // broadcast on another axis: stock kernel
    ];
    const ops = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div } as const;
    for (const [xs, bs, swap] of cases) {
      const xv = values(r, xs.reduce((p, q) => p * q, 1));
      const bv = values(r, bs.reduce((p, q) => p * q, 1));
      xv[0] = Number.NaN;
      xv[1] = Number.POSITIVE_INFINITY;
      xv[2] = 0;
      bv[bv.length - 1] = Number.NEGATIVE_INFINITY;
      bv[0] = 0; // division by zero, 0 / 0
      for (const [name, f] of Object.entries(ops)) {
        const { cpu, wasm } = await onBoth(() => {
          const x = tf.tensor(xv, xs);
          const b = tf.tensor(bv, bs);
          return swap ? f(b, x) : f(x, b);
        });
        // One IEEE float32 operation on the same two floats: bit-identical, NaN and infinities included.
        const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer), (u, i) => (Number.isNaN(a[i]) ? 'NaN' : u));
        expect(bits(wasm[0]), `${name} [${xs}] with [${bs}] swap=${swap}`).toEqual(bits(cpu[0]));
      }
    }
  });

  it('has the right gradients (bias gradient through the SIMD Sum)', async () => {
    const r = prng(23);
    const xv = values(r, 8 * 6 * 6 * 8);
    const bv = values(r, 8);
    await compare('bias add grads', () =>
      tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.add(p, q).square().mul(tf.range(0, 8)).sum())([tf.tensor4d(xv, [8, 6, 6, 8]), tf.tensor1d(bv)]),
    );
  });
});

describe('Tile, Mean, AvgPoolGrad (batch norm and average pooling)', () => {
  it('Tile matches the CPU backend over ranks, reps (including 0) and dtypes', async () => {
    const r = prng(71);
    const cases: Array<[number[], number[]]> = [
      [[1, 1, 1, 16], [64, 8, 8, 1]], // a batch-norm gradient's broadcast
      [[3, 5], [2, 3]],
      [[2, 1, 3], [1, 4, 2]],
      [[7], [5]],
      [[2, 3, 1, 2], [2, 1, 20, 1]], // one-element rows
      [[4, 2], [0, 3]], // empty output
      [[], []], // a scalar
    ];
    for (const [shape, reps] of cases) {
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const n = shape.reduce((p, q) => p * q, 1);
        const data = Array.from({ length: n }, () => (dtype === 'bool' ? Number(r() < 0.5) : dtype === 'int32' ? int(r, -50, 50) : r() * 4 - 2));
        const { cpu, wasm } = await onBoth(() => tf.tile(tf.tensor(data, shape, dtype), reps).toFloat());
        expect(Array.from(wasm[0]), `tile [${shape}] x [${reps}] ${dtype}`).toEqual(Array.from(cpu[0]));
      }
    }
  });

  it('Mean over leading axes (batch-norm statistics) matches the CPU backend; other axes run the stock kernel', async () => {
    const r = prng(72);
    const cases: Array<[number[], number[], boolean]> = [
      [[16, 8, 8, 12], [0, 1, 2], false],
      [[16, 8, 8, 12], [0, 1, 2], true],
      [[9, 5], [0], false],
      [[6, 7, 3], [0, 1], true], // odd kept size: JavaScript path
      [[6, 7, 4], [1, 2], false], // not leading: stock kernel
    ];
    for (const [shape, axes, keepDims] of cases) {
      const xv = values(r, shape.reduce((p, q) => p * q, 1));
      await compare(`mean [${shape}] axes [${axes}] keepDims=${keepDims}`, () => tf.mean(tf.tensor(xv, shape), axes, keepDims), 1e-6);
    }
  });

  it('AvgPoolGrad matches the CPU backend over windows, strides and paddings (SIMD for 2x2 tiles)', async () => {
    const r = prng(73);
    type Size = number | [number, number];
    const cases: Array<[number[], Size, Size, 'same' | 'valid']> = [
      [[2, 8, 6, 8], 2, 2, 'valid'], // SIMD
      [[3, 4, 4, 4], 2, 2, 'same'], // SIMD
      [[2, 7, 6, 8], 2, 2, 'valid'], // odd height: JavaScript
      [[2, 9, 9, 3], 3, 2, 'same'],
      [[2, 8, 8, 5], 3, 1, 'same'],
      [[1, 10, 7, 2], [2, 3], [2, 1], 'valid'],
    ];
    for (const [shape, k, st, pad] of cases) {
      const xv = values(r, shape.reduce((p, q) => p * q, 1));
      await compare(`avgPool grad x[${shape}] ${k}/${st} ${pad}`, () => {
        const x = tf.tensor4d(xv, shape as [number, number, number, number]);
        const y = tf.avgPool(x, k, st, pad);
        const dy = tf.sin(tf.range(0, y.size).reshape(y.shape));
        return tf.grad((p: tf.Tensor) => tf.avgPool(p as tf.Tensor4D, k, st, pad).mul(dy).sum())(x);
      }, 1e-6);
    }
  });

  it('FusedBatchNorm (SIMD along a last axis of a multiple of 4 channels) matches the CPU backend', async () => {
    const r = prng(75);
    // [x shape, parameter size, with scale, with offset]
    const cases: Array<[number[], number, boolean, boolean]> = [
      [[8, 6, 6, 16], 16, true, true],
      [[8, 6, 6, 16], 16, false, true],
      [[8, 6, 6, 16], 16, true, false],
      [[64, 32], 1, true, true], // scalar parameters broadcast
      [[4, 5, 5, 6], 6, true, true], // 6 channels: stock kernel
    ];
    for (const [shape, c, withScale, withOffset] of cases) {
      const xv = values(r, shape.reduce((p, q) => p * q, 1));
      const mv = values(r, c);
      const vv = Float32Array.from({ length: c }, () => r() * 2 + 0.1);
      const sv = values(r, c);
      const ov = values(r, c);
      await compare(`batchNorm x[${shape}] params ${c} scale=${withScale} offset=${withOffset}`, () =>
        tf.batchNorm(tf.tensor(xv, shape), tf.tensor1d(mv), tf.tensor1d(vv), withOffset ? tf.tensor1d(ov) : undefined, withScale ? tf.tensor1d(sv) : undefined, 1e-3),
      1e-5);
    }
  });

  it('trains a tf.layers CNN with batch normalization and average pooling: gradients match the CPU backend', async () => {
    const r = prng(74);
    const xv = values(r, 8 * 12 * 12 * 3);
    const labels = Int32Array.from({ length: 8 }, () => int(r, 0, 3));
    const build = () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
          tf.layers.batchNormalization(),
          tf.layers.activation({ activation: 'relu' }),
          tf.layers.averagePooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        ],
      });
    const out: Record<string, Float32Array[]> = {};
    const skippedBefore = fusedConvGrad.skippedInputGradients;
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const model = build();
      out[backend] = tf.tidy(() => {
        const x = tf.tensor4d(xv, [8, 12, 12, 3]);
        const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 4).toFloat();
        const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor));
        return Object.keys(grads).sort().map((k) => Float32Array.from(grads[k].dataSync()));
      });
      model.dispose();
    }
    // Relative to the largest gradient: the conv bias gradient is ~0 in exact arithmetic (batch
    // norm removes the mean), so both backends hold float32 noise of ~1e-8 there.
    let scale = 0;
    for (const g of out.cpu) for (const v of g) scale = Math.max(scale, Math.abs(v));
    out.wasm.forEach((g, k) => {
      let worst = 0;
      g.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - out.cpu[k][i]))));
      expect(worst / scale, `batch-norm CNN gradient ${k}`).toBeLessThanOrEqual(1e-4);
    });
    // The first conv layer (no activation: a fused convolution) skipped its input's gradient.
    expect(fusedConvGrad.skippedInputGradients).toBe(skippedBefore + 1);
  });
});

describe('fused convolutions: the input gradient nobody needs is skipped', () => {
  const r = prng(91);
  const [n, h, w, ci, co] = [3, 8, 8, 4, 8];
  const xv = values(r, n * h * w * ci);
  const fv = values(r, 9 * ci * co);
  const bv = values(r, co);
  const sv = values(r, ci);
  const conv = (x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, bias, strides: 1, pad: 'same' });
  /** Gradients on both backends and how many input gradients the wasm run skipped. */
  async function gradsOnBoth(fn: (x: tf.Tensor, vars: { filter: tf.Variable; bias: tf.Variable; scale: tf.Variable }) => tf.Tensor[]): Promise<number> {
    const before = fusedConvGrad.skippedInputGradients;
    const { cpu, wasm } = await onBoth(() => {
      const vars = { filter: tf.variable(tf.tensor4d(fv, [3, 3, ci, co])), bias: tf.variable(tf.tensor1d(bv)), scale: tf.variable(tf.tensor1d(sv)) };
      const out = fn(tf.tensor4d(xv, [n, h, w, ci]), vars);
      Object.values(vars).forEach((v) => v.dispose());
      return out;
    });
    expectClose(wasm, cpu, 'gradients');
    return fusedConvGrad.skippedInputGradients - before;
  }

  it('of the training batch under variableGrads (filter and bias gradients unchanged)', async () => {
    const skipped = await gradsOnBoth((x, { filter, bias }) => {
      const { grads } = tf.variableGrads(() => conv(x, filter, bias).square().sum(), [filter, bias]);
      return [grads[filter.name], grads[bias.name]];
    });
    expect(skipped).toBe(1);
  });

  it('but not when the input is differentiated (tf.grads), comes from a variable on the tape, or in nested gradients', async () => {
    expect(await gradsOnBoth((x, { filter, bias }) => tf.grads((p: tf.Tensor, q: tf.Tensor) => conv(p, q, bias).square().sum())([x, filter]))).toBe(0);
    expect(
      await gradsOnBoth((x, { filter, bias, scale }) => {
        const { grads } = tf.variableGrads(() => conv(tf.mul(x, scale), filter, bias).square().sum(), [scale, filter]);
        return [grads[scale.name], grads[filter.name]];
      }),
    ).toBe(0);
    // The same filter on the batch (skipped) and on a tape-made tensor (computed).
    expect(
      await gradsOnBoth((x, { filter, bias, scale }) => {
        const { grads } = tf.variableGrads(() => tf.add(conv(x, filter, bias).sum(), conv(tf.relu(tf.mul(x, scale)), filter, bias).square().sum()) as tf.Scalar, [scale, filter, bias]);
        return [grads[scale.name], grads[filter.name], grads[bias.name]];
      }),
    ).toBe(1);
    expect(
      await gradsOnBoth((x, { filter, bias }) => [tf.grad((s: tf.Tensor) => tf.mul(s, tf.grad((b: tf.Tensor) => conv(x, filter, b).square().sum())(bias).sum()))(tf.scalar(2))]),
    ).toBe(0);
  });
});

describe('JavaScript fallbacks (SIMD disabled)', () => {
  it('conv filter gradients (block-copy and strided im2col), MaxPoolGrad, bias Add and Sum match the CPU backend', async () => {
    setSimdEnabled(false);
    try {
      await tf.setBackend('wasm');
      expect(simdKernels(tf.backend() as unknown as WasmBackendLike)).toBeNull();
      const r = prng(24);
      const cases: Array<[number, number, number, number, number, number, Pad]> = [
        [3, 9, 7, 8, 3, 1, 'same'], // block copies
        [3, 9, 7, 1, 6, 1, 'same'], // strided im2col
        [2, 9, 9, 6, 2, 2, 'valid'],
      ];
      for (const [n, h, w, ci, co, s, pad] of cases) {
        const xv = values(r, n * h * w * ci);
        const wv = values(r, 3 * 3 * ci * co);
        await compare(`js filter grad x[${n},${h},${w},${ci}] co ${co} s${s} ${pad}`, () => {
          const x = tf.tensor4d(xv, [n, h, w, ci]);
          return tf.grad((f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, s, pad as 'same').square().sum())(tf.tensor4d(wv, [3, 3, ci, co]));
        });
      }
      const xv = values(r, 2 * 6 * 8 * 8, true);
      await compare('js maxpool 2x2', () =>
        tf.grad((p: tf.Tensor) => tf.maxPool(p as tf.Tensor4D, 2, 2, 'valid').square().sum())(tf.tensor4d(xv, [2, 6, 8, 8])),
      );
      await compare('js bias add + sum', () => {
        const x = tf.tensor4d(xv, [2, 6, 8, 8]);
        const y = tf.add(x, tf.range(0, 8));
        return [y, tf.sum(y, [0, 1, 2])];
      });
    } finally {
      setSimdEnabled(true);
    }
  });
});

describe('training on wasm', () => {
  it('runs a small CNN training step and matches the CPU backend', async () => {
    const r = prng(11);
    const xv = values(r, 8 * 12 * 12 * 1);
    const labels = Int32Array.from({ length: 8 }, () => int(r, 0, 3));
    const w1v = values(r, 3 * 3 * 1 * 4);
    const dwv = values(r, 3 * 3 * 4 * 1);
    const w2v = values(r, 6 * 6 * 4 * 4);
    await compare('cnn step', () => {
      const x = tf.tensor4d(xv, [8, 12, 12, 1]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 4).toFloat();
      const w1 = tf.tensor4d(w1v, [3, 3, 1, 4]);
      const dw = tf.tensor4d(dwv, [3, 3, 4, 1]);
      const w2 = tf.tensor2d(w2v, [6 * 6 * 4, 4]);
      const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
        let hdn = tf.relu(tf.conv2d(x, a as tf.Tensor4D, 1, 'same'));
        hdn = tf.relu(tf.depthwiseConv2d(hdn, b as tf.Tensor4D, 1, 'same'));
        hdn = tf.maxPool(hdn, 2, 2, 'valid');
        return tf.losses.softmaxCrossEntropy(y, tf.matMul(hdn.reshape([8, -1]), c));
      };
      return tf.grads(loss)([w1, dw, w2]);
    });
  });

  it('trains a tf.layers CNN with Adam on wasm (loss decreases)', async () => {
    await tf.setBackend('wasm');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [10, 10, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    });
    const x = tf.randomUniform([16, 10, 10, 1], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32'), 3).toFloat();
    const opt = tf.train.adam(0.01);
    const losses: number[] = [];
    for (let i = 0; i < 15; i++) {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor));
        opt.applyGradients(grads as tf.NamedTensorMap as never);
        return value;
      });
      losses.push(loss.dataSync()[0]);
      loss.dispose();
    }
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    model.dispose();
    opt.dispose();
    tf.dispose([x, y]);
  });
});

describe('memory', () => {
  it('leaks no tensors or bytes across many calls', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomUniform([4, 9, 9, 3]);
    const f = tf.randomUniform([3, 3, 3, 5]);
    const df = tf.randomUniform([3, 3, 3, 2]);
    const a = tf.randomUniform([5, 7]);
    const b = tf.randomUniform([6, 7]);
    const ids = tf.tensor1d([0, 2, 2, 9], 'int32');
    const big = tf.randomUniform([4, 8, 8, 8]); // SIMD paths: bias Add, Sum, 2x2 MaxPoolGrad
    const bias = tf.randomUniform([8]);
    const f4 = tf.randomUniform([3, 3, 8, 4]);
    const f8 = tf.randomUniform([3, 3, 8, 8]);
    const fVar = tf.variable(tf.randomUniform([3, 3, 8, 4]));
    const round = () =>
      tf.tidy(() => {
        const outs = [
          ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 2, 'same').square().sum())([x, f]),
          ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'same').relu().sum())([x, f]),
          tf.sum(x, [0, 1, 2]),
          tf.clone(x).cast('float32').cast('bool'),
          ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.depthwiseConv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'valid').square().sum())([x, df]),
          ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, true, true).square().sum())([a.transpose(), b]),
          tf.grad((p: tf.Tensor) => tf.maxPool(p as tf.Tensor4D, 3, 2, 'same').square().sum())(x),
          tf.unsortedSegmentSum(a.slice([0, 0], [4, 7]), ids, 3),
          ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.maxPool(tf.add(p, q) as tf.Tensor4D, 2, 2, 'valid').sum())([big, bias]),
          // SIMD forward conv, im2col-free filter gradient, forward conv inside the input gradient
          ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'same').relu().sum())([big, f4]),
          ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'same').relu().sum())([big.slice([0, 0, 0, 0], [4, 7, 7, 8]), f8]), // Winograd (odd size): forward, input and filter gradients
          ...Object.values(tf.variableGrads(() => tf.fused.conv2d({ x: big as tf.Tensor4D, filter: fVar as tf.Tensor4D, strides: 1, pad: 'same', bias: bias.slice(0, 4) }).sum(), [fVar]).grads), // skipped input gradient
          tf.matMul(a, tf.randomUniform([5, 8]), true, false), // narrow aT b
          tf.grad((p: tf.Tensor) => tf.relu(p).sum())(big), // fused relu gradient
          tf.grad((q: tf.Tensor) => tf.depthwiseConv2d(big as tf.Tensor4D, q as tf.Tensor4D, 1, 'same').sum())(f4.slice([0, 0, 0, 0], [3, 3, 8, 1])), // SIMD depthwise filter gradient
          tf.grad((p: tf.Tensor) => tf.depthwiseConv2d(p as tf.Tensor4D, f4.slice([0, 0, 0, 0], [3, 3, 8, 1]) as tf.Tensor4D, 2, 'same').square().sum())(big), // stride phases
          tf.tile(bias.reshape([1, 1, 1, 8]), [4, 8, 8, 1]),
          tf.mean(big, [0, 1, 2]),
          tf.grad((p: tf.Tensor) => tf.avgPool(p as tf.Tensor4D, 2, 2, 'valid').sum())(big),
          tf.sub(big, bias),
          tf.div(bias, big),
        ];
        outs.forEach((o) => o.dataSync());
      });
    round();
    const before = tf.memory();
    const idsBefore = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    for (let i = 0; i < 25; i++) round();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(idsBefore);
    tf.dispose([x, f, df, a, b, ids, big, bias, f4, f8, fVar]);
  });
});
