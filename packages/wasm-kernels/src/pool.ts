/**
 * `MaxPool` (2x2 windows at stride 2), `MaxPoolGrad` and `AvgPoolGrad` as one pass over the wasm
 * heap.
 *
 * @internal
 * @packageDocumentation
 */
import { backend_util, type KernelFunc } from '@tensorflow/tfjs';
import { floatOffset, simdKernels } from './simd.js';
import { assertFloat32, floatViews, kernel, type Inputs, type WasmBackendLike } from './wasm.js';

/** Attributes of `MaxPool` / `MaxPoolGrad`. */
interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Whether a pooling is 2x2 windows at stride 2 that tile its input exactly (the usual layer). */
function tiles2x2(info: backend_util.Conv2DInfo): boolean {
  const { inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, padInfo } = info;
  return kh === 2 && kw === 2 && sh === 2 && sw === 2 && padInfo.top === 0 && padInfo.left === 0 && h === 2 * oh && w === 2 * ow;
}

/**
 * `MaxPool` of float32 2x2 windows at stride 2 tiling the input, channels a multiple of 4: one
 * SIMD pass (the stock XNNPACK kernel runs at about half the memory speed); NaN never wins, like
 * the CPU backend. Every other pooling runs the stock kernel.
 */
export const maxPool: KernelFunc = (args) => {
  const be = args.backend as unknown as WasmBackendLike;
  const { x } = args.inputs as Inputs;
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as PoolAttrs;
  if (x.dtype !== 'float32' || x.shape.length !== 4) return kernel('MaxPool').kernelFunc(args);
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: n, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const simd = tiles2x2(info) && c % 4 === 0 && n * oh * ow * c > 0 ? simdKernels(be) : null;
  if (simd == null) return kernel('MaxPool').kernelFunc(args);
  const out = be.makeOutput(info.outShape.slice(), 'float32');
  const [outAt, xAt] = [out, x].map((t) => floatOffset(be, t));
  if (outAt == null || xAt == null) {
    be.disposeData(out.dataId);
    return kernel('MaxPool').kernelFunc(args);
  }
  simd.maxPool2x2(xAt, outAt, 0, n * oh, ow, c * 4, w * c * 4);
  return out;
};

/**
 * Routes each window's gradient to the first maximum of the window in row-major order (like
 * the CPU backend; a window of only NaN / -Infinity gets none). Memory-bound: no FLOPs to hand
 * to XNNPACK, and compositions of wasm kernels (window Transpose, ArgMax, Gather, ScatterNd)
 * cost several full passes. The channel loop is innermost so that every read is contiguous.
 */
export const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as WasmBackendLike;
  const { dy, input } = inputs as Inputs;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as PoolAttrs;
  assertFloat32('MaxPoolGrad', dy, input);
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, padInfo } = info;
  // Allocate first: allocating may grow the wasm memory and detach earlier heap views.
  const out = be.makeOutput(input.shape.slice(), 'float32');
  // 2x2 windows at stride 2 that tile the input (the usual pooling layer): one SIMD pass.
  const simd = tiles2x2(info) && c % 4 === 0 && n * oh * ow * c > 0 ? simdKernels(be) : null;
  if (simd != null) {
    const offsets = [out, input, dy].map((t) => floatOffset(be, t));
    const [dxAt, xAt, gAt] = offsets;
    if (dxAt != null && xAt != null && gAt != null) {
      simd.maxPoolGrad2x2(xAt, gAt, dxAt, n * oh, ow, c * 4, w * c * 4);
      return out;
    }
  }
  const [dx, x, g] = floatViews(be, out, input, dy);
  dx.fill(0);
  const best = new Float32Array(c);
  const pos = new Int32Array(c);
  const rowStride = w * c;
  const imageStride = h * rowStride;
  let gi = 0;
  for (let b = 0; b < n; b++) {
    const xb = b * imageStride;
    for (let yr = 0; yr < oh; yr++) {
      const r0 = yr * sh - padInfo.top;
      const rStart = Math.max(0, r0);
      const rEnd = Math.min(h, r0 + kh);
      for (let xc = 0; xc < ow; xc++, gi += c) {
        const c0 = xc * sw - padInfo.left;
        const cStart = Math.max(0, c0);
        const cEnd = Math.min(w, c0 + kw);
        const k00 = xb + rStart * rowStride + cStart * c;
        if (rEnd - rStart === 2 && cEnd - cStart === 2) {
          // The common 2x2 window, unrolled (same comparisons in the same order).
          const k01 = k00 + c;
          const k10 = k00 + rowStride;
          const k11 = k10 + c;
          for (let ch = 0; ch < c; ch++) {
            let m = Number.NEGATIVE_INFINITY;
            let p = -1;
            let v = x[k00 + ch];
            if (v > m) {
              m = v;
              p = k00 + ch;
            }
            v = x[k01 + ch];
            if (v > m) {
              m = v;
              p = k01 + ch;
            }
            v = x[k10 + ch];
            if (v > m) {
              m = v;
              p = k10 + ch;
            }
            v = x[k11 + ch];
            if (v > m) p = k11 + ch;
            if (p >= 0) dx[p] += g[gi + ch];
          }
          continue;
        }
        for (let ch = 0; ch < c; ch++) {
          best[ch] = Number.NEGATIVE_INFINITY;
          pos[ch] = -1;
        }
        for (let r = rStart, kr = k00; r < rEnd; r++, kr += rowStride) {
          for (let q = cStart, k = kr; q < cEnd; q++) {
            for (let ch = 0; ch < c; ch++, k++) {
              const v = x[k];
              if (v > best[ch]) {
                best[ch] = v;
                pos[ch] = k;
              }
            }
          }
        }
        for (let ch = 0; ch < c; ch++) {
          const p = pos[ch];
          if (p >= 0) dx[p] += g[gi + ch];
        }
      }
    }
  }
  return out;
};

/**
 * `AvgPoolGrad`: each input element gets the sum of the `dy` of the windows that contain it
 * times `1 / (filter height * filter width)`, in float64 like the CPU backend (also at padded
 * borders, like it). 2x2 windows at stride 2 that tile the input (channels a multiple of 4) as one
 * SIMD pass (`dy / 4` to each window element, exact); other windows in JavaScript, channels
 * innermost. The stock wasm kernel took 8-9 ms for a 64 x 32 x 32 x 16 input.
 */
export const avgPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as WasmBackendLike;
  const { dy, input } = inputs as Inputs;
  const { filterSize, strides, pad } = attrs as unknown as PoolAttrs;
  assertFloat32('AvgPoolGrad', dy);
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, padInfo } = info;
  const out = be.makeOutput(input.shape.slice(), 'float32');
  const simd = tiles2x2(info) && c % 4 === 0 && n * oh * ow * c > 0 ? simdKernels(be) : null;
  if (simd != null) {
    const [dxAt, dyAt] = [out, dy].map((t) => floatOffset(be, t));
    if (dxAt != null && dyAt != null) {
      simd.avgPoolGrad2x2(dxAt, dyAt, 0, n * oh, ow, c * 4, w * c * 4);
      return out;
    }
  }
  const [dx, g] = floatViews(be, out, dy);
  const mult = 1 / (fh * fw);
  /** The output rows (columns) whose windows contain input row (column) `i`. */
  const covering = (i: number, before: number, stride: number, f: number, outSize: number): number[] => {
    const list: number[] = [];
    for (let o = Math.max(0, Math.ceil((i + before - f + 1) / stride)); o * stride - before <= i && o < outSize; o++) list.push(o);
    return list;
  };
  const rows = Array.from({ length: h }, (_, r) => covering(r, padInfo.top, sh, fh, oh));
  const cols = Array.from({ length: w }, (_, q) => covering(q, padInfo.left, sw, fw, ow));
  const acc = new Float64Array(c);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) {
        acc.fill(0);
        for (const yr of rows[r]) {
          for (const xc of cols[q]) {
            const base = ((b * oh + yr) * ow + xc) * c;
            for (let ch = 0; ch < c; ch++) acc[ch] += g[base + ch];
          }
        }
        const at = ((b * h + r) * w + q) * c;
        for (let ch = 0; ch < c; ch++) dx[at + ch] = acc[ch] * mult;
      }
    }
  }
  return out;
};
