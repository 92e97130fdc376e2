/**
 * The forward NHWC convolution as WebAssembly SIMD register blocks (`Conv2D`, `FusedConv2D` with
 * a bias and linear / relu activation, and the forward convolution inside `Conv2DBackpropInput`),
 * plus the zero padding both convolution directions share.
 *
 * @internal
 * @packageDocumentation
 */
import { backend_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { CF_VECS, floatOffset, simdKernels, type SimdKernels } from './simd.js';
import { floatViews, free, kernel, run, size, type Inputs, type Pad4, type WasmBackendLike } from './wasm.js';
import { winogradConv2D } from './winograd.js';
import { noteFusedConv2D } from './fused-conv-grad.js';

/**
 * Whether every input position a convolution reads lies inside its zero-padded input (tfjs's
 * paddings always satisfy this; an explicit padding with `dimRoundingMode: 'ceil'` may not).
 */
export function readsInsidePadded(info: backend_util.Conv2DInfo): boolean {
  const { inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  const { top, bottom, left, right } = padInfo;
  return (
    top >= 0 &&
    bottom >= 0 &&
    left >= 0 &&
    right >= 0 &&
    (oh - 1) * sh + (fh - 1) * dh < h + top + bottom &&
    (ow - 1) * sw + (fw - 1) * dw < w + left + right
  );
}

/**
 * `x` (NHWC, float32 on the heap) zero-padded by `pads` in height and width, written by the SIMD
 * row copier (the stock wasm `PadV2` takes ~1.4 ms for a 128 x 14 x 14 x 16 batch; this ~0.1 ms).
 */
export function padImages(backend: WasmBackendLike, x: TensorInfo, pads: { top: number; bottom: number; left: number; right: number }, simd: SimdKernels): TensorInfo {
  const [n, h, w, c] = x.shape;
  const { top, bottom, left, right } = pads;
  const wp = w + left + right;
  const out = backend.makeOutput([n, h + top + bottom, wp, c], 'float32');
  const [src, dst] = [x, out].map((t) => floatOffset(backend, t));
  if (src == null || dst == null) {
    free(backend, out);
    throw new Error('@luzts/wasm-kernels: padImages: a tensor has no wasm heap offset.');
  }
  const row = 4 * w * c;
  simd.imageRows(src, dst, n, h * row, h, row, 4 * left * c, row, 4 * right * c, 4 * top * wp * c, 4 * bottom * wp * c);
  return out;
}

/** What a forward convolution adds on the way out: a bias (the sums' start) and relu. */
export interface ConvEpilogue {
  bias?: TensorInfo;
  relu?: boolean;
}

/** Attributes of the wasm `Conv2D` kernel. */
export interface Conv2DAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | Pad4;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Input bytes per pass of {@link directConv2D} over all output-channel blocks (stays in L2). */
const CHUNK_BYTES = 256 * 1024;

/** Which algorithm the last forward convolution used (for tests and profiling). */
export let lastConvPath: 'winograd' | 'direct' | 'stock' = 'stock';

/**
 * A forward NHWC convolution (no bias, no activation) as SIMD register blocks of 2 output pixels x
 * 16 output channels over the zero-padded input, or null where it does not apply: no SIMD,
 * not float32, NCHW, fewer than 3 output channels, an odd output width, horizontal dilation, or
 * reads outside the padded input. Output channels that are not a multiple of 4 are computed
 * padded (zero filter columns) and compacted. Measured (batch 128): first layer 1 -> 16 on
 * 28 x 28 0.85 ms vs 2.6 ms for the stock (XNNPACK) kernel, whose tiny inner products
 * (`fh * fw * ci` = 9) waste its tiles; 16 -> 32 on 14 x 14 6.3 vs 6.7 ms.
 */
export function directConv2D(
  backend: WasmBackendLike,
  x: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  epilogue: ConvEpilogue = {},
): TensorInfo | null {
  const wino = winogradConv2D(backend, x, filter, info, epilogue);
  if (wino != null) {
    lastConvPath = 'winograd';
    return wino;
  }
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || info.dataFormat !== 'channelsLast') return null;
  if (co < 3 || ow % 2 !== 0 || dw !== 1 || n * oh * ow * co === 0 || fh * fw * ci === 0 || !readsInsidePadded(info)) return null;
  const simd = simdKernels(backend);
  if (simd == null || floatOffset(backend, x) == null || floatOffset(backend, filter) == null) return null;
  const { top, bottom, left, right } = padInfo;
  const hp = h + top + bottom;
  const wp = w + left + right;
  const { bias, relu = false } = epilogue;
  if (bias != null && (bias.dtype !== 'float32' || (size(bias.shape) !== co && size(bias.shape) !== 1))) return null;
  // Output channels padded to a multiple of 4 (zero filter columns), compacted at the end:
  // e.g. the 3-channel input gradient of an RGB first layer.
  const co4 = Math.ceil(co / 4) * 4;
  const temps: TensorInfo[] = [];
  try {
    const xp = top + bottom + left + right > 0 ? padImages(backend, x, padInfo, simd) : x;
    if (xp !== x) temps.push(xp);
    // The sums start at the bias: co4 floats (zeros without one; a scalar bias repeated).
    const biasRow = backend.makeOutput([co4], 'float32');
    temps.push(biasRow);
    const filter4 = co4 === co ? filter : backend.makeOutput([fh, fw, ci, co4], 'float32');
    if (filter4 !== filter) temps.push(filter4);
    const out4 = backend.makeOutput([n, oh, ow, co4], 'float32');
    if (co4 !== co) temps.push(out4);
    const [row, b, f, f4] = floatViews(backend, biasRow, bias ?? biasRow, filter, filter4);
    row.fill(0);
    if (bias != null) {
      if (b.length === 1) row.fill(b[0], 0, co);
      else row.set(b);
    }
    if (filter4 !== filter) {
      f4.fill(0);
      for (let k = 0; k < fh * fw * ci; k++) f4.set(f.subarray(k * co, (k + 1) * co), k * co4);
    }
    const [xAt, wAt, outAt, biasAt] = [xp, filter4, out4, biasRow].map((t) => floatOffset(backend, t)) as number[];
    const xPixel = 4 * sw * ci;
    // A few images at a time, all output-channel blocks over them while they are in cache.
    const chunk = Math.max(1, Math.min(n, Math.floor(CHUNK_BYTES / (4 * hp * wp * ci))));
    for (let b0 = 0; b0 < n; b0 += chunk) {
      const nb = Math.min(chunk, n - b0);
      for (let o0 = 0; o0 < co4; o0 += 4 * CF_VECS) {
        const cv = Math.min(CF_VECS, (co4 - o0) / 4);
        // Narrow blocks take 4 pixels at a time: more sums per filter load.
        const px = cv <= 2 && ow % 4 === 0 ? 4 : 2;
        simd[`cf${relu ? 'r' : ''}${px}x${cv}`](
          xAt + 4 * b0 * hp * wp * ci,
          wAt + 4 * o0,
          outAt + 4 * (b0 * oh * ow * co4 + o0),
          fh,
          fw * ci,
          4 * dh * wp * ci,
          4 * co4,
          ow / px,
          oh,
          nb,
          px * xPixel,
          4 * ci * (sh * wp - ow * sw),
          4 * ci * wp * (hp - oh * sh),
          4 * px * co4,
          xPixel,
          4 * co4,
          biasAt + 4 * o0,
        );
      }
    }
    lastConvPath = 'direct';
    if (co4 === co) return out4;
    // Compact: the first co of every co4 floats (SIMD row copies).
    const out = backend.makeOutput([n, oh, ow, co], 'float32');
    const [src, dst] = [out4, out].map((t) => floatOffset(backend, t)) as number[];
    simd.imageRows(src, dst, 1, 0, n * oh * ow, 4 * co4, 0, 4 * co, 0, 0, 0);
    return out;
  } finally {
    free(backend, ...temps);
  }
}

/** The conv info of a `Conv2D` call. */
function conv2DInfo(x: TensorInfo, filter: TensorInfo, attrs: Conv2DAttrs): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

/** A forward convolution: {@link directConv2D} where it applies, else the stock wasm `Conv2D`. */
export function conv2DForward(backend: WasmBackendLike, x: TensorInfo, filter: TensorInfo, attrs: Conv2DAttrs): TensorInfo {
  const out = directConv2D(backend, x, filter, conv2DInfo(x, filter, attrs));
  if (out != null) return out;
  lastConvPath = 'stock';
  return run('Conv2D', { x, filter }, attrs, backend);
}

/** `Conv2D`: {@link conv2DForward}. */
export const conv2D: KernelFunc = (args) => {
  const { x, filter } = args.inputs as Inputs;
  return conv2DForward(args.backend as unknown as WasmBackendLike, x, filter, args.attrs as unknown as Conv2DAttrs);
};

/**
 * `FusedConv2D` (tfjs-layers' convolution with a bias and no activation, or outside a gradient
 * tape any activation it fuses): {@link directConv2D} with the bias as the sums' start and relu
 * applied on the way out, for activation `'linear'` or `'relu'`; other activations, PReLU weights
 * and the cases `directConv2D` does not take run the stock kernel. Its output is noted, so that the
 * gradient can skip an input gradient nobody needs (see `fused-conv-grad.ts`).
 */
export const fusedConv2D: KernelFunc = (args) => {
  const { x, filter, bias, preluActivationWeights } = args.inputs as Inputs;
  const attrs = args.attrs as unknown as Conv2DAttrs & { activation?: string };
  const activation = attrs.activation ?? 'linear';
  const be = args.backend as unknown as WasmBackendLike;
  const direct = (activation === 'linear' || activation === 'relu') && preluActivationWeights == null;
  let out = direct ? directConv2D(be, x, filter, conv2DInfo(x, filter, attrs), { bias: bias ?? undefined, relu: activation === 'relu' }) : null;
  if (out == null) {
    lastConvPath = 'stock';
    out = kernel('FusedConv2D').kernelFunc(args) as TensorInfo;
  }
  noteFusedConv2D(out);
  return out;
};
