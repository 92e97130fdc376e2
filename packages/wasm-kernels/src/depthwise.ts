/**
 * The input gradient of a strided depthwise convolution (channel multiplier 1) as direct
 * WebAssembly SIMD passes, one per stride phase, so that it multiplies no zeros.
 *
 * @internal
 * @packageDocumentation
 */
import type { backend_util, TensorInfo } from '@tensorflow/tfjs';
import { DWC_VECS, DWG_TAPS, floatOffset, simdKernels, type SimdKernels } from './simd.js';
import { padImages } from './conv-forward.js';
import { floatViews, free, type WasmBackendLike } from './wasm.js';

/** Which algorithm the last depthwise input gradient used (for tests and profiling). */
export let lastDepthwiseInputGradPath: 'phases' | 'composed' = 'composed';

/** Heap byte offsets and loop geometry of one {@link dwcPasses} run (see `dwc` in simd.ts). */
interface DwcGeometry {
  /** First input pixel's tap (0, 0), channel 0, of image 0. */
  x: number;
  /** Filter tap (0, 0), channel 0. */
  w: number;
  /** First output pixel, channel 0, of image 0. */
  out: number;
  fh: number;
  fw: number;
  tapY: number;
  tapX: number;
  wRow: number;
  wTap: number;
  ow: number;
  rows: number;
  images: number;
  xPixel: number;
  xRowJump: number;
  xImage: number;
  outPixel: number;
  outRowJump: number;
  outImage: number;
}

/** Input bytes per call of {@link dwcPasses} over all channel blocks (stays in L2). */
const CHUNK_BYTES = 256 * 1024;

/**
 * Runs the `dwc` blocks of each geometry (all over the same images of the same input) over `c`
 * channels (a multiple of 4), blocks of up to 16 channels, pairs of pixels (then the odd last
 * column of each row): a few images at a time, which stay in cache while every geometry and
 * channel block reads them.
 */
function dwcPasses(simd: SimdKernels, c: number, geometries: DwcGeometry[]): void {
  if (geometries.length === 0) return;
  const { images, xImage } = geometries[0];
  const chunk = Math.max(1, Math.min(images, Math.floor(CHUNK_BYTES / xImage)));
  /** Columns [col, col + px * blocks) of every row, `px` pixels per block. */
  const columns = (g: DwcGeometry, b0: number, nb: number, c0: number, cv: number, px: number, col: number, blocks: number) => {
    const xRow = g.xRowJump + (g.ow - px * blocks) * g.xPixel;
    const outRow = g.outRowJump + (g.ow - px * blocks) * g.outPixel;
    simd[`dwc${px}p${g.fw}x${cv}`](
      g.x + b0 * g.xImage + col * g.xPixel + 4 * c0,
      g.w + 4 * c0,
      g.out + b0 * g.outImage + col * g.outPixel + 4 * c0,
      g.fh,
      g.tapY,
      g.tapX,
      g.wRow,
      g.wTap,
      blocks,
      g.rows,
      nb,
      g.xPixel,
      xRow,
      g.xImage - g.rows * (xRow + px * blocks * g.xPixel),
      g.outPixel,
      outRow,
      g.outImage - g.rows * (outRow + px * blocks * g.outPixel),
    );
  };
  for (let b0 = 0; b0 < images; b0 += chunk) {
    const nb = Math.min(chunk, images - b0);
    for (const g of geometries) {
      const pairs = Math.floor(g.ow / 2);
      for (let c0 = 0; c0 < c; c0 += 4 * DWC_VECS) {
        const cv = Math.min(DWC_VECS, (c - c0) / 4);
        if (pairs > 0) columns(g, b0, nb, c0, cv, 2, 0, pairs);
        if (g.ow % 2 === 1) columns(g, b0, nb, c0, cv, 1, g.ow - 1, 1);
      }
    }
  }
}

/**
 * The SIMD kernels, where the direct depthwise SIMD passes (this module's stride phases and the
 * `dwg` filter gradient) apply to `info`: channel multiplier 1, channels a multiple of 4, filters
 * up to {@link DWG_TAPS} wide, NHWC, output pixels to compute, float32 tensors on the heap.
 */
export function depthwiseSimd(backend: WasmBackendLike, info: backend_util.Conv2DInfo, tensors: TensorInfo[]): SimdKernels | null {
  const { batchSize: n, inChannels: c, outChannels: co, outHeight: oh, outWidth: ow, filterWidth: fw } = info;
  if (co !== c || c % 4 !== 0 || fw > DWG_TAPS || info.dataFormat !== 'channelsLast' || n * oh * ow === 0) return null;
  if (tensors.some((t) => t.dtype !== 'float32')) return null;
  const simd = simdKernels(backend);
  if (simd == null || tensors.some((t) => floatOffset(backend, t) == null)) return null;
  return simd;
}

/** The taps of one stride phase along one axis: filter indices and their `dy` offsets. */
interface PhaseTaps {
  /** Filter indices, ordered by increasing `dy` offset (decreasing index). */
  taps: number[];
  /** `dy` offset of the first tap: output `k` of the phase reads `dy[k + first + j * step]`. */
  first: number;
  /** `dy` offset between consecutive taps. */
  step: number;
  /** Outputs of the phase: input positions `r, r + s, ...` below `len`. */
  count: number;
}

/**
 * Along one axis of a convolution with stride `s`, dilation `d`, leading padding `pad` and `f`
 * taps: `dx[i] = sum_t dy[(i + pad - t * d) / s] * w[t]` over the taps where that index is an
 * integer. For the phase `i = r + k * s` these taps and their offsets `(r + pad - t * d) / s`.
 */
function phaseTaps(r: number, s: number, d: number, pad: number, f: number, len: number): PhaseTaps {
  const taps: number[] = [];
  for (let t = f - 1; t >= 0; t--) if ((((r + pad - t * d) % s) + s) % s === 0) taps.push(t);
  const offset = (t: number) => (r + pad - t * d) / s;
  return {
    taps,
    first: taps.length > 0 ? offset(taps[0]) : 0,
    step: taps.length > 1 ? offset(taps[1]) - offset(taps[0]) : 1,
    count: Math.max(0, Math.ceil((len - r) / s)),
  };
}

/**
 * Input gradient of a depthwise convolution (multiplier 1) without multiplying zeros: for each of
 * the `sh x sw` stride phases of `dx`, a direct depthwise convolution of the zero-padded `dy` with
 * the phase's taps of the flipped filter, written in place into the phase's pixels of `dx`. Null
 * where it does not apply. The stock composition convolved the stride-dilated `dy`, three quarters
 * zeros at stride 2 (4.8 ms for a 128 x 16 x 16 x 64 gradient; this 1.4 ms).
 */
export function depthwiseInputGradPhases(backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo | null {
  // At stride 1 there are no zeros to skip, and the stock (XNNPACK) depthwise convolution of the
  // padded dy is faster than these passes (1.4 vs 1.6 ms for 128 x 16 x 16 x 32).
  const simd = info.strideHeight * info.strideWidth > 1 ? depthwiseSimd(backend, info, [dy, filter]) : null;
  lastDepthwiseInputGradPath = simd == null ? 'composed' : 'phases';
  if (simd == null) return null;
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  const rowsOf = Array.from({ length: sh }, (_, r) => phaseTaps(r, sh, dh, padInfo.top, fh, h));
  const colsOf = Array.from({ length: sw }, (_, r) => phaseTaps(r, sw, dw, padInfo.left, fw, w));
  // Zero padding of dy that every phase's reads fit in.
  const span = (axis: PhaseTaps[], len: number): [number, number] => {
    let before = 0;
    let after = 0;
    for (const p of axis) {
      if (p.taps.length === 0 || p.count === 0) continue;
      before = Math.max(before, -p.first);
      after = Math.max(after, p.count - 1 + p.first + (p.taps.length - 1) * p.step - (len - 1));
    }
    return [before, after];
  };
  const [top, bottom] = span(rowsOf, oh);
  const [left, right] = span(colsOf, ow);
  const hp = oh + top + bottom;
  const wp = ow + left + right;
  const dyp = top + bottom + left + right > 0 ? padImages(backend, dy, { top, bottom, left, right }, simd) : dy;
  const temps: TensorInfo[] = dyp === dy ? [] : [dyp];
  try {
    const dx = backend.makeOutput([n, h, w, c], 'float32');
    const empty = rowsOf.some((p) => p.taps.length === 0 && p.count > 0) || colsOf.some((p) => p.taps.length === 0 && p.count > 0);
    if (empty) floatViews(backend, dx)[0].fill(0); // phases no tap reaches: zeros
    const [dypAt, dxAt] = [dyp, dx].map((t) => floatOffset(backend, t)) as number[];
    const phases: DwcGeometry[] = [];
    for (const [r, rows] of rowsOf.entries()) {
      for (const [q, cols] of colsOf.entries()) {
        if (rows.taps.length === 0 || cols.taps.length === 0 || rows.count === 0 || cols.count === 0) continue;
        // The phase's filter: taps (ty, tx) in the order of their dy offsets.
        const sub = backend.makeOutput([rows.taps.length, cols.taps.length, c], 'float32');
        temps.push(sub);
        const [subV, f] = floatViews(backend, sub, filter);
        rows.taps.forEach((ty, i) => cols.taps.forEach((tx, j) => subV.set(f.subarray((ty * fw + tx) * c, (ty * fw + tx + 1) * c), (i * cols.taps.length + j) * c)));
        phases.push({
          x: dypAt + 4 * c * ((rows.first + top) * wp + cols.first + left),
          w: floatOffset(backend, sub) as number,
          out: dxAt + 4 * c * (r * w + q),
          fh: rows.taps.length,
          fw: cols.taps.length,
          tapY: 4 * c * rows.step * wp,
          tapX: 4 * c * cols.step,
          wRow: 4 * c * cols.taps.length,
          wTap: 4 * c,
          ow: cols.count,
          rows: rows.count,
          images: n,
          xPixel: 4 * c,
          xRowJump: 4 * c * (wp - cols.count),
          xImage: 4 * c * hp * wp,
          outPixel: 4 * c * sw,
          outRowJump: 4 * c * (sh * w - cols.count * sw),
          outImage: 4 * c * h * w,
        });
      }
    }
    dwcPasses(simd, c, phases);
    return dx;
  } finally {
    free(backend, ...temps);
  }
}
