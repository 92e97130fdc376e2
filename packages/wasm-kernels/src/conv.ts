/**
 * Convolution gradients (`Conv2DBackpropFilter`, `Conv2DBackpropInput` and the depthwise ones).
 *
 * @internal
 * @packageDocumentation
 */
import { backend_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import {
  assertChannelsLast,
  assertFloat32,
  floatViews,
  free,
  run,
  share,
  size,
  transpose,
  view,
  type Inputs,
  type Pad4,
  type WasmBackendLike,
} from './wasm.js';
import { DG_ROWS, DG_VECS, DWG_TAPS, floatOffset, simdKernels, type SimdKernels } from './simd.js';
import { conv2DForward, padImages, readsInsidePadded } from './conv-forward.js';
import { depthwiseInputGradPhases, depthwiseSimd } from './depthwise.js';
import { winogradFilterGrad } from './winograd.js';
import { inputGradientSkipped } from './fused-conv-grad.js';

/** The SIMD row copier and the heap byte offsets of an im2col's source and destination. */
interface FastRows {
  simd: SimdKernels;
  src: number;
  cols: number;
}

/** Crops `x` (NHWC) so that both paddings become non-negative; returns the new paddings. */
function cropForPads(
  backend: WasmBackendLike,
  x: TensorInfo,
  pads: [number, number, number, number],
  temps: TensorInfo[],
): { x: TensorInfo; pads: [number, number, number, number] } {
  const [top, bottom, left, right] = pads;
  if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) return { x, pads };
  const cropTop = Math.max(0, -top);
  const cropBottom = Math.max(0, -bottom);
  const cropLeft = Math.max(0, -left);
  const cropRight = Math.max(0, -right);
  const [n, h, w, c] = x.shape;
  const sliced = run(
    'Slice',
    { x },
    { begin: [0, cropTop, cropLeft, 0], size: [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c] },
    backend,
  );
  temps.push(sliced);
  return { x: sliced, pads: [Math.max(0, top), Math.max(0, bottom), Math.max(0, left), Math.max(0, right)] };
}

function explicitPad(pads: [number, number, number, number]): Pad4 {
  return [
    [0, 0],
    [pads[0], pads[1]],
    [pads[2], pads[3]],
    [0, 0],
  ];
}


/** Which algorithm the last `Conv2DBackpropFilter` call used (for tests and profiling). */
export let lastFilterGradPath: 'winograd' | 'nhwc' | 'im2col' | 'shifted' | 'empty' = 'empty';

/** Largest im2col buffer, in elements (64 MiB of float32); larger problems go in batch chunks. */
const IM2COL_MAX_ELEMENTS = 1 << 24;

/**
 * Writes the transposed im2col matrix of images `[b0, b0 + nb)` into `cols`:
 * `cols[(kh, kw, c), (b, oy, ox)] = x[b, oy*sh + kh*dh - top, ox*sw + kw*dw - left, c]`, or 0 in
 * the padding, from `xt`, the input with channels outermost ([ci, n, h, w]), so that every row is
 * read and written in order. With `fast` (SIMD) and horizontal stride 1, each (kh, kw, c) row is
 * one call of the SIMD row copier; otherwise one JavaScript pass (see {@link shiftedIm2col} for
 * the stride-1 block copies used without SIMD).
 */
function im2col(xt: Float32Array, cols: Float32Array, b0: number, nb: number, info: backend_util.Conv2DInfo, fast: FastRows | null): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const plane = h * w;
  let o = 0;
  for (let kh = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      // Input column of output column 0, and the output columns [lo, hi) that fall inside x.
      const c0 = kw * dw - left;
      const lo = Math.min(ow, Math.max(0, Math.ceil(-c0 / sw)));
      const hi = Math.max(lo, Math.min(ow, Math.floor((w - 1 - c0) / sw) + 1));
      // Output rows [yLo, yHi) read input rows inside x.
      const yLo = Math.min(oh, Math.max(0, Math.ceil((top - kh * dh) / sh)));
      const yHi = Math.max(yLo, Math.min(oh, Math.floor((h - 1 + top - kh * dh) / sh) + 1));
      for (let c = 0; c < ci; c++) {
        if (fast != null && sw === 1) {
          // One SIMD call for all images: zero rows, rows inside x (zeros left and right), zero rows.
          const src = (c * n + b0) * plane + (yLo * sh + kh * dh - top) * w + lo + c0;
          const inside = yHi - yLo;
          const at = (k: number) => fast.cols + 4 * k;
          fast.simd.imageRows(
            inside > 0 ? fast.src + 4 * src : 0,
            at(o),
            nb,
            4 * plane,
            inside,
            4 * sh * w,
            4 * lo,
            4 * (hi - lo),
            4 * (ow - hi),
            4 * yLo * ow,
            4 * (oh - yHi) * ow,
          );
          o += nb * oh * ow;
          continue;
        }
        for (let b = b0; b < b0 + nb; b++) {
          const base = (c * n + b) * plane;
          for (let oy = 0; oy < oh; oy++) {
            const r = oy * sh + kh * dh - top;
            if (r < 0 || r >= h) {
              cols.fill(0, o, o + ow);
              o += ow;
              continue;
            }
            let ox = 0;
            for (; ox < lo; ox++) cols[o++] = 0;
            let src = base + r * w + lo * sw + c0;
            for (; ox < hi; ox++, src += sw) cols[o++] = xt[src];
            for (; ox < ow; ox++) cols[o++] = 0;
          }
        }
      }
    }
  }
}

/**
 * Stride-1 im2col as block copies. With `xp` the zero-padded input, channels outermost
 * ([ci, n, hp + 1, wp]: one spare zero row per image), the output pixels laid out on the padded
 * width (`oh * wp` per image, columns `ox >= ow` unused) make every (kh, kw, c, image) block of
 * `cols` one contiguous slice of `xp`; the unused columns are zeroed (so that non-finite inputs
 * cannot leak into the product), and `dy` is padded to the same layout.
 */
function shiftedIm2col(xp: Float32Array, cols: Float32Array, b0: number, nb: number, info: backend_util.Conv2DInfo, wp: number, hp: number): void {
  const { batchSize: n, inChannels: ci, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = info;
  const { dilationHeight: dh, dilationWidth: dw } = info;
  const plane = (hp + 1) * wp;
  const block = oh * wp;
  let o = 0;
  for (let kh = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      const shift = kh * dh * wp + kw * dw;
      for (let c = 0; c < ci; c++) {
        const rowStart = o;
        for (let b = b0; b < b0 + nb; b++, o += block) {
          const src = (c * n + b) * plane + shift;
          cols.set(xp.subarray(src, src + block), o);
        }
        if (wp > ow) {
          for (let q = rowStart + ow; q < o; q += wp) {
            for (let j = 0; j < wp - ow; j++) cols[q + j] = 0;
          }
        }
      }
    }
  }
}

/**
 * Filter gradient of an ordinary NHWC convolution. With SIMD and `co` a multiple of 4 (every
 * usual layer): {@link filterGradNhwc}, no im2col. Otherwise `dW = cols^T · dy` with the
 * transposed im2col matrix `cols^T` ([fh*fw*ci, pixels]) and `dy` as [pixels, co]: one
 * untransposed (XNNPACK) wasm `BatchMatMul` whose [fh*fw*ci, co] output already is the filter layout, with `cols^T` from
 * {@link im2col} or, without SIMD at stride 1 with a wide im2col, from block copies of the padded
 * input ({@link shiftedIm2col}). Batches whose im2col would exceed 64 MiB go in chunks (partial
 * products summed in float64).
 */
function conv2DFilterGrad(
  backend: WasmBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const kernelName = 'Conv2DBackpropFilter';
  assertChannelsLast(kernelName, info);
  assertFloat32(kernelName, x, dy);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  const filterShape = [fh, fw, ci, co];
  if (fh * fw * ci * co === 0 || n * oh * ow === 0) {
    lastFilterGradPath = 'empty';
    const zeros = backend.makeOutput(filterShape, 'float32');
    floatViews(backend, zeros)[0].fill(0);
    return zeros;
  }
  const temps: TensorInfo[] = [];
  try {
    const wino = winogradFilterGrad(backend, x, dy, info);
    if (wino != null) {
      lastFilterGradPath = 'winograd';
      return wino;
    }
    const simd = simdKernels(backend);
    if (simd != null && co % 4 === 0 && readsInsidePadded(info) && floatOffset(backend, x) != null && floatOffset(backend, dy) != null) {
      lastFilterGradPath = 'nhwc';
      return filterGradNhwc(backend, info, x, dy, simd);
    }
    // Channels outermost, so that im2col reads rows in order (no copy for ci = 1).
    const xt = ci === 1 ? x : transpose(backend, x, [3, 0, 1, 2]);
    if (xt !== x) temps.push(xt);
    const hp = h + padInfo.top + padInfo.bottom;
    const wp = w + padInfo.left + padInfo.right;
    // Without SIMD, block copies pay for padding dy and a wider product when the im2col matrix
    // is wide compared to dy (measured: ci = 16, co = 32 gains; ci = 1, co = 16 loses). With the
    // SIMD row copier the plain im2col is faster (conv 16 -> 32 on 14x14, batch 128: 14 vs 18 ms).
    const shifted = simd == null && sh === 1 && sw === 1 && oh === hp - (fh - 1) * dh && ow === wp - (fw - 1) * dw && fh * fw * ci >= 2 * co;
    lastFilterGradPath = shifted ? 'shifted' : 'im2col';
    if (!shifted) {
      return filterGradByMatMul(backend, info, xt, dy, oh * ow, (src, cols, b0, nb, fast) => im2col(src, cols, b0, nb, info, fast));
    }
    const xp = run(
      'PadV2',
      { x: view(xt, [ci * n, h, w]) },
      { paddings: [[0, 0], [padInfo.top, padInfo.bottom + 1], [padInfo.left, padInfo.right]], constantValue: 0 },
      backend,
    ); // [ci*n, hp + 1, wp]
    temps.push(xp);
    let dyp = dy;
    if (wp > ow) {
      dyp = run('PadV2', { x: view(dy, [n * oh, ow, co]) }, { paddings: [[0, 0], [0, wp - ow], [0, 0]], constantValue: 0 }, backend);
      temps.push(dyp);
    }
    return filterGradByMatMul(backend, info, xp, dyp, oh * wp, (src, cols, b0, nb) => shiftedIm2col(src, cols, b0, nb, info, wp, hp));
  } finally {
    free(backend, ...temps);
  }
}

/** Input channels per register block of {@link filterGradNhwc} (2 x 16 measured fastest). */
const CHANNEL_BLOCK = 2;
/** Output pixels per float32 register accumulation of {@link filterGradNhwc} (at most). */
const NHWC_PIXELS = 1024;

/**
 * Filter gradient without im2col (wider layers with SIMD, `co` a multiple of 4):
 * `dW[kh, kw, c, o] = sum_p xp[p @ (kh, kw), c] * dy[p, o]`, read in place from the zero-padded
 * NHWC input `xp` and `dy` by the SIMD register blocks `dg{kb}x{cv}` (2 input channels x 16 output
 * channels; ~33 GFLOP/s on this machine, XNNPACK's GEMM peak, without im2col's copy or XNNPACK's
 * re-packing of `dy`). Passes of <= 1024 output pixels (a few whole images, or row bands of a
 * large one) stay in cache while all (kh, kw, channel) blocks go over them; sums run in float32
 * per pass, then in float64.
 */
function filterGradNhwc(backend: WasmBackendLike, info: backend_util.Conv2DInfo, x: TensorInfo, dy: TensorInfo, simd: SimdKernels): TensorInfo {
  const { inChannels: ci, outChannels: co, outWidth: ow, filterHeight: fh, filterWidth: fw, dilationHeight: dh, dilationWidth: dw } = info;
  return inPlacePasses('Conv2DBackpropFilter', backend, info, x, dy, simd, [fh, fw, ci, co], (p) => {
    for (let kh = 0; kh < fh; kh++) {
      for (let kw = 0; kw < fw; kw++) {
        const xBase = p.x + 4 * ((kh * dh) * p.wp + kw * dw) * ci;
        const outBase = p.acc + 8 * (kh * fw + kw) * ci * co;
        // One input channel: the taps of a filter row are adjacent floats of x (dilation 1),
        // so they form the register block instead of channels.
        const tapBlock = ci === 1 && dw === 1 ? Math.min(DG_ROWS, fw - kw) : 0;
        const step = tapBlock > 0 ? ci : CHANNEL_BLOCK;
        for (let c0 = 0; c0 < ci; c0 += step) {
          const kb = tapBlock > 0 ? tapBlock : Math.min(CHANNEL_BLOCK, ci - c0);
          for (let o0 = 0; o0 < co; o0 += 4 * DG_VECS) {
            const cv = Math.min(DG_VECS, (co - o0) / 4);
            simd[`dg${kb}x${cv}`](xBase + 4 * c0, p.dy + 4 * o0, outBase + 8 * (c0 * co + o0), 8 * co, ow, p.rows, p.images, p.xPixel, p.xRowJump, p.xImageJump, 4 * co);
          }
        }
        if (tapBlock > 0) kw += tapBlock - 1;
      }
    }
  });
}

/** Heap byte offsets and loop arguments of one pass of {@link inPlacePasses}. */
interface Pass {
  /** the pass's first input pixel in the padded input, tap (0, 0), channel 0 */
  x: number;
  /** the pass's first `dy` pixel, channel 0 */
  dy: number;
  /** the float64 accumulators */
  acc: number;
  images: number;
  rows: number;
  /** padded input width */
  wp: number;
  xPixel: number;
  xRowJump: number;
  xImageJump: number;
}

/**
 * The frame of the in-place filter gradients: zero-pads `x` (SIMD row copies), zeroes float64
 * accumulators for a filter of `filterShape`, calls `pass` for passes of <= 1024 output pixels
 * (a few whole images, or row bands of a large one: they stay in cache while every block goes
 * over them) and returns the accumulators as the float32 filter gradient.
 */
function inPlacePasses(
  kernelName: string,
  backend: WasmBackendLike,
  info: backend_util.Conv2DInfo,
  x: TensorInfo,
  dy: TensorInfo,
  simd: SimdKernels,
  filterShape: number[],
  pass: (p: Pass) => void,
): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { strideHeight: sh, strideWidth: sw, padInfo } = info;
  const { top, bottom, left, right } = padInfo;
  const hp = h + top + bottom;
  const wp = w + left + right;
  const count = size(filterShape);
  const padded = top + bottom + left + right > 0;
  const xp = padded ? padImages(backend, x, padInfo, simd) : x;
  const out = backend.makeOutput(filterShape, 'float32');
  const acc = backend.makeOutput([2 * count], 'float32'); // float64 accumulators
  try {
    const [xAt, dyAt, accAt] = [xp, dy, acc].map((t) => floatOffset(backend, t));
    if (xAt == null || dyAt == null || accAt == null || accAt % 8 !== 0) {
      // Fresh float32 outputs and float32 inputs (checked by the caller) always have one.
      throw new Error(`@luzts/wasm-kernels: ${kernelName}: a tensor has no wasm heap offset.`);
    }
    const [accV] = floatViews(backend, acc);
    new Float64Array(accV.buffer, accV.byteOffset, count).fill(0);
    const geometry = { acc: accAt, wp, xPixel: 4 * sw * ci, xRowJump: 4 * ci * (sh * wp - ow * sw), xImageJump: 4 * ci * wp * (hp - oh * sh) };
    const perImage = oh * ow;
    const images = Math.max(1, Math.min(n, Math.floor(NHWC_PIXELS / perImage)));
    const rows = perImage > NHWC_PIXELS ? Math.max(1, Math.floor(NHWC_PIXELS / ow)) : oh;
    for (let b0 = 0; b0 < n; b0 += images) {
      for (let r0 = 0; r0 < oh; r0 += rows) {
        pass({
          ...geometry,
          x: xAt + 4 * ((b0 * hp + r0 * sh) * wp) * ci,
          dy: dyAt + 4 * ((b0 * oh + r0) * ow) * co,
          images: Math.min(images, n - b0),
          rows: Math.min(rows, oh - r0),
        });
      }
    }
    const [outV, accV2] = floatViews(backend, out, acc);
    outV.set(new Float64Array(accV2.buffer, accV2.byteOffset, count));
    return out;
  } catch (e) {
    free(backend, out);
    throw e;
  } finally {
    free(backend, acc, ...(padded ? [xp] : []));
  }
}

/**
 * `cols^T · dy` over batch chunks: `fill` writes the [k, nb * perImage] im2col block of images
 * `[b0, b0 + nb)` from the heap view of `src`; `dyMat` holds `perImage` rows of `co` per image.
 */
function filterGradByMatMul(
  backend: WasmBackendLike,
  info: backend_util.Conv2DInfo,
  src: TensorInfo,
  dyMat: TensorInfo,
  perImage: number,
  fill: (src: Float32Array, cols: Float32Array, b0: number, nb: number, fast: FastRows | null) => void,
): TensorInfo {
  const simd = simdKernels(backend);
  /** Heap offsets for the SIMD row copier (after every allocation; null: JavaScript path). */
  const fastFor = (cols: TensorInfo): FastRows | null => {
    if (simd == null) return null;
    const [srcAt, colsAt] = [floatOffset(backend, src), floatOffset(backend, cols)];
    return srcAt == null || colsAt == null ? null : { simd, src: srcAt, cols: colsAt };
  };
  const { batchSize: n, inChannels: ci, outChannels: co, filterHeight: fh, filterWidth: fw } = info;
  const filterShape = [fh, fw, ci, co];
  const k = fh * fw * ci;
  const chunk = Math.max(1, Math.min(n, Math.floor(IM2COL_MAX_ELEMENTS / (k * perImage))));
  const matMul = (cols: TensorInfo, dys: TensorInfo, rows: number): TensorInfo =>
    run('BatchMatMul', { a: view(cols, [1, k, rows]), b: view(dys, [1, rows, co]) }, { transposeA: false, transposeB: false }, backend);
  if (chunk === n) {
    const cols = backend.makeOutput([k, n * perImage], 'float32');
    try {
      const fast = fastFor(cols);
      const [colsV, srcV] = floatViews(backend, cols, src);
      fill(srcV, colsV, 0, n, fast);
      return view(matMul(cols, dyMat, n * perImage), filterShape); // [1, k, co] is [fh, fw, ci, co]
    } finally {
      free(backend, cols);
    }
  }
  const sum = new Float64Array(k * co);
  for (let b0 = 0; b0 < n; b0 += chunk) {
    const nb = Math.min(chunk, n - b0);
    const rows = nb * perImage;
    const cols = backend.makeOutput([k, rows], 'float32');
    const dys = backend.makeOutput([rows, co], 'float32');
    let part: TensorInfo | null = null;
    try {
      const fast = fastFor(cols);
      const [colsV, srcV, dyV, dysV] = floatViews(backend, cols, src, dyMat, dys);
      fill(srcV, colsV, b0, nb, fast);
      dysV.set(dyV.subarray(b0 * perImage * co, (b0 + nb) * perImage * co));
      part = matMul(cols, dys, rows);
      const [partV] = floatViews(backend, part);
      for (let i = 0; i < partV.length; i++) sum[i] += partV[i];
    } finally {
      free(backend, cols, dys, ...(part ? [part] : []));
    }
  }
  const out = backend.makeOutput(filterShape, 'float32');
  floatViews(backend, out)[0].set(sum);
  return out;
}

/** Which algorithm the last depthwise filter gradient used (for tests and profiling). */
export let lastDepthwiseFilterGradPath: 'nhwc' | 'composed' = 'composed';

/**
 * Depthwise filter gradient with channel multiplier 1 (channels a multiple of 4, filters up to
 * {@link DWG_TAPS} wide): `dW[kh, kw, c] = sum_p xp[p @ (kh, kw), c] * dy[p, c]` read in place from
 * the zero-padded input and `dy` by the SIMD `dwg{fw}` blocks (one filter row x 4 channels), in
 * passes of <= 1024 output pixels; float32 sums per pass, then float64. The composition below
 * (a depthwise convolution with `dy` as a filter the size of the image) ran at ~1 GFLOP/s: 10.4 ms
 * for a 64 x 16 x 16 x 32 layer.
 */
function depthwiseFilterGradNhwc(backend: WasmBackendLike, info: backend_util.Conv2DInfo, x: TensorInfo, dy: TensorInfo, simd: SimdKernels): TensorInfo {
  const { inChannels: c, outWidth: ow, filterHeight: fh, filterWidth: fw, dilationHeight: dh, dilationWidth: dw } = info;
  return inPlacePasses('DepthwiseConv2dNativeBackpropFilter', backend, info, x, dy, simd, [fh, fw, c, 1], (p) => {
    for (let kh = 0; kh < fh; kh++) {
      const xRow = p.x + 4 * kh * dh * p.wp * c;
      for (let c0 = 0; c0 < c; c0 += 4) {
        simd[`dwg${fw}`](xRow + 4 * c0, p.dy + 4 * c0, p.acc + 8 * (kh * fw * c + c0), 8 * c, ow, p.rows, p.images, p.xPixel, p.xRowJump, p.xImageJump, 4 * c, 4 * dw * c, 0, 0, 0, 0);
      }
    }
  });
}

/**
 * Filter gradient of a depthwise NHWC convolution as one forward wasm depthwise convolution of
 * the input with `dy` used as the filter (then a `Sum` over the batch).
 */
function depthwiseFilterGrad(
  kernelName: string,
  backend: WasmBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  convInfo: backend_util.Conv2DInfo,
): TensorInfo {
  assertChannelsLast(kernelName, convInfo);
  assertFloat32(kernelName, x, dy);
  const simd = readsInsidePadded(convInfo) ? depthwiseSimd(backend, convInfo, [x, dy]) : null;
  if (simd != null) {
    lastDepthwiseFilterGradPath = 'nhwc';
    return depthwiseFilterGradNhwc(backend, convInfo, x, dy, simd);
  }
  lastDepthwiseFilterGradPath = 'composed';
  const {
    batchSize: n,
    inHeight: h,
    inWidth: w,
    inChannels: ci,
    outHeight: oh,
    outWidth: ow,
    outChannels: co,
    filterHeight: fh,
    filterWidth: fw,
    strideHeight: sh,
    strideWidth: sw,
    dilationHeight: dh,
    dilationWidth: dw,
    padInfo,
  } = convInfo;
  // dW[kh,kw,*] = sum_{n,oh,ow} x[n, oh*sh + kh*dh - top, ow*sw + kw*dw - left, *] dy[n,oh,ow,*]
  // = a convolution over x (stride = dilation of the forward op) with dy as a filter
  // dilated by the forward strides. Paddings that make its output exactly fh x fw:
  const pads: [number, number, number, number] = [
    padInfo.top,
    (fh - 1) * dh + (oh - 1) * sh + 1 - h - padInfo.top,
    padInfo.left,
    (fw - 1) * dw + (ow - 1) * sw + 1 - w - padInfo.left,
  ];
  const temps: TensorInfo[] = [];
  try {
    // Depthwise: input channels (c, n) with c major; a per-channel filter
    // F[oh, ow, c*n + b, m] = dy[b, oh, ow, c*M + m]; then sum over the batch.
    const mult = co / ci;
    const xt = transpose(backend, x, [1, 2, 3, 0]); // [h, w, ci, n]
    temps.push(xt);
    const dyt = transpose(backend, view(dy, [n, oh, ow, ci, mult]), [1, 2, 3, 0, 4]); // [oh, ow, ci, n, m]
    temps.push(dyt);
    const cropped = cropForPads(backend, view(xt, [1, h, w, ci * n]), pads, temps);
    const out = run(
      'DepthwiseConv2dNative',
      { x: cropped.x, filter: view(dyt, [oh, ow, ci * n, mult]) },
      { strides: [dh, dw], pad: explicitPad(cropped.pads), dilations: [sh, sw], dimRoundingMode: undefined },
      backend,
    ); // [1, fh, fw, ci*n*m]
    temps.push(out);
    if (n === 1) return share(backend, out, [fh, fw, ci, mult]);
    return run('Sum', { x: view(out, [fh, fw, ci, n, mult]) }, { axis: [3], keepDims: false }, backend);
  } finally {
    free(backend, ...temps);
  }
}

/**
 * Input gradient of a (depthwise or ordinary) NHWC convolution: for a depthwise one with
 * multiplier 1 (channels a multiple of 4, filters up to 5 wide, SIMD), the stride phases of
 * {@link depthwiseInputGradPhases}; otherwise one forward wasm convolution of the stride-dilated
 * `dy` with the flipped filter.
 */
function convInputGrad(
  kernelName: string,
  backend: WasmBackendLike,
  dy: TensorInfo,
  filter: TensorInfo,
  convInfo: backend_util.Conv2DInfo,
  depthwise: boolean,
): TensorInfo {
  assertChannelsLast(kernelName, convInfo);
  assertFloat32(kernelName, dy, filter);
  if (depthwise) {
    const phased = depthwiseInputGradPhases(backend, dy, filter, convInfo);
    if (phased != null) return phased;
  }
  const {
    batchSize: n,
    inHeight: h,
    inWidth: w,
    inChannels: ci,
    outHeight: oh,
    outWidth: ow,
    outChannels: co,
    filterHeight: fh,
    filterWidth: fw,
    strideHeight: sh,
    strideWidth: sw,
    dilationHeight: dh,
    dilationWidth: dw,
    padInfo,
  } = convInfo;
  const temps: TensorInfo[] = [];
  try {
    // dx[ih] = sum_k D[ih + top - (fh-1)*dh + k*dh] * Wflip[k], D = dy dilated by the strides.
    const padTop = (fh - 1) * dh - padInfo.top;
    const padLeft = (fw - 1) * dw - padInfo.left;
    let cropped: { x: TensorInfo; pads: [number, number, number, number] };
    if (sh > 1 || sw > 1) {
      // Dilated and padded in one pass: zeros, then each dy pixel's channels at (y*sh + padTop,
      // x*sw + padLeft) when that falls inside (negative paddings crop). The forward convolution
      // then needs no padding.
      const hd = h + (fh - 1) * dh;
      const wd = w + (fw - 1) * dw;
      const d = backend.makeOutput([n, hd, wd, co], 'float32');
      temps.push(d);
      const [dv, g] = floatViews(backend, d, dy);
      dv.fill(0);
      for (let b = 0; b < n; b++) {
        for (let y = 0; y < oh; y++) {
          const r = y * sh + padTop;
          if (r < 0 || r >= hd) continue;
          for (let x = 0; x < ow; x++) {
            const q = x * sw + padLeft;
            if (q < 0 || q >= wd) continue;
            const src = ((b * oh + y) * ow + x) * co;
            dv.set(g.subarray(src, src + co), ((b * hd + r) * wd + q) * co);
          }
        }
      }
      cropped = { x: d, pads: [0, 0, 0, 0] };
    } else {
      cropped = cropForPads(backend, dy, [padTop, h - oh + padInfo.top, padLeft, w - ow + padInfo.left], temps);
    }
    const flipped = run('Reverse', { x: filter }, { dims: [0, 1] }, backend); // [fh, fw, ci, co|m]
    temps.push(flipped);
    if (!depthwise) {
      const wt = transpose(backend, flipped, [0, 1, 3, 2]); // [fh, fw, co, ci]
      temps.push(wt);
      return conv2DForward(backend, cropped.x, wt, {
        strides: [1, 1],
        pad: explicitPad(cropped.pads),
        dataFormat: 'NHWC',
        dilations: [dh, dw],
        dimRoundingMode: undefined,
      });
    }
    const mult = co / ci;
    const out = run(
      'DepthwiseConv2dNative',
      { x: cropped.x, filter: view(flipped, [fh, fw, co, 1]) },
      { strides: [1, 1], pad: explicitPad(cropped.pads), dilations: [dh, dw], dimRoundingMode: undefined },
      backend,
    ); // [n, h, w, ci*m]
    if (mult === 1) return out;
    temps.push(out);
    return run('Sum', { x: view(out, [n, h, w, ci, mult]) }, { axis: [4], keepDims: false }, backend);
  } finally {
    free(backend, ...temps);
  }
}

export const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as Inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | Pad4;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  const convInfo = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  return conv2DFilterGrad(backend as unknown as WasmBackendLike, x, dy, convInfo);
};

export const conv2DBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as Inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | Pad4;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    inputShape: [number, number, number, number];
  };
  const convInfo = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const be = backend as unknown as WasmBackendLike;
  if (inputGradientSkipped()) {
    // The input gradient of a fused convolution whose input needs none: never read.
    const zeros = be.makeOutput(inputShape.slice(), 'float32');
    floatViews(be, zeros)[0].fill(0);
    return zeros;
  }
  return convInputGrad('Conv2DBackpropInput', be, dy, filter, convInfo, false);
};

export const depthwiseBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as Inputs;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number;
    dilations: [number, number] | number;
    pad: 'valid' | 'same' | number | Pad4;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  const convInfo = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    true,
  );
  return depthwiseFilterGrad('DepthwiseConv2dNativeBackpropFilter', backend as unknown as WasmBackendLike, x, dy, convInfo);
};

export const depthwiseBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as Inputs;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: [number, number] | number;
    dilations: [number, number] | number;
    pad: 'valid' | 'same' | number | Pad4;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    inputShape: [number, number, number, number];
  };
  const convInfo = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    true,
  );
  return convInputGrad(
    'DepthwiseConv2dNativeBackpropInput',
    backend as unknown as WasmBackendLike,
    dy,
    filter,
    convInfo,
    true,
  );
};

