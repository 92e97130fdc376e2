/**
 * 3x3 stride-1 convolutions by Winograd's minimal filtering: F(2x2, 3x3) for the forward
 * convolution (and so the input gradient, a forward convolution of `dy`), 16 products per 2x2
 * output tile instead of 36, and F(3x3, 2x2) for the filter gradient; WebAssembly SIMD transforms
 * around the `cf` / `dg` register blocks used as 16 small matrix products, over chunks of tiles
 * that stay in cache.
 *
 * @internal
 * @packageDocumentation
 */
import type { backend_util, TensorInfo } from '@tensorflow/tfjs';
import { CF_VECS, DG_VECS, floatOffset, simdKernels, type SimdKernels } from './simd.js';
import { padImages, type ConvEpilogue } from './conv-forward.js';
import { floatViews, free, size, type WasmBackendLike } from './wasm.js';

/** Tiles per chunk: its transformed inputs and products (16 planes each) stay in L2. */
const CHUNK_TILES = 256;

/**
 * Floats between the starts of two of the 16 planes of a chunk's transforms: `perPlane` plus one
 * cache line, so that the planes never sit a power of two apart (16 KiB apart, the 16 loads and
 * stores of a tile would all compete for the same cache set: 2x slower at 16 x 16 images).
 */
const planeFloats = (perPlane: number): number => perPlane + 16;

/**
 * The filter transform `U = G g Gᵀ` with `G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2],
 * [0, 0, 1]]`, per input/output channel pair, computed in float64: `[16, ci, co]`.
 */
function filterTransform(f: Float32Array, ci: number, co: number, u: Float32Array): void {
  const plane = ci * co;
  const r = new Float64Array(12);
  // f is [3, 3, ci, co]: tap t of pair e = c * co + o at f[t * plane + e]; u is [16, ci, co].
  for (let e = 0; e < plane; e++) {
    const g0 = f[e];
    const g1 = f[plane + e];
    const g2 = f[2 * plane + e];
    const g3 = f[3 * plane + e];
    const g4 = f[4 * plane + e];
    const g5 = f[5 * plane + e];
    const g6 = f[6 * plane + e];
    const g7 = f[7 * plane + e];
    const g8 = f[8 * plane + e];
    // rows: G g (4 x 3), row-major
    r.set([g0, g1, g2, (g0 + g3 + g6) / 2, (g1 + g4 + g7) / 2, (g2 + g5 + g8) / 2, (g0 - g3 + g6) / 2, (g1 - g4 + g7) / 2, (g2 - g5 + g8) / 2, g6, g7, g8]);
    // columns: (G g) Gᵀ (4 x 4)
    for (let i = 0; i < 4; i++) {
      const a = r[3 * i];
      const b = r[3 * i + 1];
      const d = r[3 * i + 2];
      u[(4 * i) * plane + e] = a;
      u[(4 * i + 1) * plane + e] = (a + b + d) / 2;
      u[(4 * i + 2) * plane + e] = (a - b + d) / 2;
      u[(4 * i + 3) * plane + e] = d;
    }
  }
}

/** Whether the last call of {@link winogradConv2D} or {@link winogradFilterGrad} applied (for tests and profiling). */
export let lastWinogradApplied = false;

/** Tiles of 2x2 outputs and the chunks they are processed in. */
interface Tiling {
  /** tile rows and columns */
  th: number;
  tw: number;
  /** the padded input: every tile's 4x4 window inside (odd output sizes: one more zero row / column) */
  hp: number;
  wp: number;
  pads: { top: number; bottom: number; left: number; right: number };
  /** images per chunk (whole images when an image has few tiles), else 1 */
  images: number;
  /** tile rows per chunk */
  rows: number;
  /** tiles of the largest chunk */
  maxTiles: number;
}

/**
 * The SIMD kernels and the tiling where Winograd F(2x2, 3x3) applies to `info`: a 3x3 filter at
 * stride 1 without dilation, NHWC, >= 8 input and output channels in multiples of 4, paddings that
 * are not negative, something to compute, float32 tensors on the heap. Null otherwise.
 */
function winogradTiling(backend: WasmBackendLike, info: backend_util.Conv2DInfo, tensors: TensorInfo[]): [SimdKernels, Tiling] | null {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  if (fh !== 3 || fw !== 3 || sh !== 1 || sw !== 1 || dh !== 1 || dw !== 1 || info.dataFormat !== 'channelsLast') return null;
  if (ci % 4 !== 0 || co % 4 !== 0 || ci < 8 || co < 8 || n * oh * ow === 0) return null;
  const { top, bottom, left, right } = padInfo;
  if (top < 0 || bottom < 0 || left < 0 || right < 0 || oh !== h + top + bottom - 2 || ow !== w + left + right - 2) return null;
  if (tensors.some((t) => t.dtype !== 'float32')) return null;
  const simd = simdKernels(backend);
  if (simd == null || tensors.some((t) => floatOffset(backend, t) == null)) return null;
  const th = Math.ceil(oh / 2);
  const tw = Math.ceil(ow / 2);
  const hp = 2 * th + 2;
  const wp = 2 * tw + 2;
  const perImage = th * tw;
  const images = perImage >= CHUNK_TILES ? 1 : Math.max(1, Math.floor(CHUNK_TILES / perImage));
  const rows = perImage >= CHUNK_TILES ? Math.max(1, Math.floor(CHUNK_TILES / tw)) : th;
  return [simd, { th, tw, hp, wp, pads: { top, bottom: hp - h - top, left, right: wp - w - left }, images, rows, maxTiles: images * rows * tw }];
}

/** Calls `chunk` for each chunk of tiles: images `[b0, b0 + nb)`, tile rows `[r0, r0 + nr)`. */
function forEachChunk(n: number, t: Tiling, chunk: (b0: number, nb: number, r0: number, nr: number) => void): void {
  for (let b0 = 0; b0 < n; b0 += t.images) {
    for (let r0 = 0; r0 < t.th; r0 += t.rows) chunk(b0, Math.min(t.images, n - b0), r0, Math.min(t.rows, t.th - r0));
  }
}

/** `x` zero-padded by `pads` (or `x` itself when nothing is added; a new buffer goes to `temps`). */
function padded(backend: WasmBackendLike, simd: SimdKernels, x: TensorInfo, pads: Tiling['pads'], temps: TensorInfo[]): TensorInfo {
  const { top, bottom, left, right } = pads;
  if (top + bottom + left + right === 0) return x;
  const xp = padImages(backend, x, pads, simd);
  temps.push(xp);
  return xp;
}

/** `winoIn` over the chunk's 4x4 input tiles (see {@link SimdKernels.winoIn}). */
function transformInput(simd: SimdKernels, xAt: number, vAt: number, vPlane: number, ci: number, t: Tiling, b0: number, nb: number, r0: number, nr: number): void {
  const [xPixel, xRow] = [4 * ci, 4 * t.wp * ci];
  simd.winoIn(xAt + 4 * ci * (b0 * t.hp * t.wp + 2 * r0 * t.wp), vAt, vPlane, ci / 4, nb, nr, t.tw, xPixel, xRow, 2 * xRow - 2 * t.tw * xPixel, xRow * (t.hp - 2 * nr));
}

/**
 * A 3x3, stride-1, undilated NHWC convolution (plus a bias and relu) by Winograd F(2x2, 3x3), or
 * null where it does not apply (see {@link winogradTiling}). Per chunk of tiles: the input
 * transform, 16 `[tiles, ci] x [ci, co]` products by the `cf` register blocks, the output
 * transform with the bias (and relu). Sums differ from the direct ones by float32 rounding (the
 * transforms are additions and halvings; the filter transform runs in float64); a NaN or infinite
 * input spreads to the whole 2x2 output tile it falls in. Measured (batch 128, 14 x 14):
 * 16 -> 32 channels 6.3 → ~4 ms, 32 -> 16 (an input gradient) 6.6 → ~4 ms.
 */
export function winogradConv2D(
  backend: WasmBackendLike,
  x: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  epilogue: ConvEpilogue = {},
): TensorInfo | null {
  lastWinogradApplied = false;
  const { bias, relu = false } = epilogue;
  const { batchSize: n, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  if (bias != null && (bias.dtype !== 'float32' || (size(bias.shape) !== co && size(bias.shape) !== 1))) return null;
  const found = winogradTiling(backend, info, [x, filter]);
  if (found == null) return null;
  const [simd, tiling] = found;
  const { th, tw } = tiling;
  const temps: TensorInfo[] = [];
  const even = oh === 2 * th && ow === 2 * tw;
  let out: TensorInfo | null = null;
  try {
    const xp = padded(backend, simd, x, tiling.pads, temps);
    out = backend.makeOutput([n, 2 * th, 2 * tw, co], 'float32');
    if (!even) temps.push(out);
    const slots = tiling.maxTiles + (tiling.maxTiles % 2); // the products go 2 tiles at a time
    const u = backend.makeOutput([16, ci, co], 'float32');
    temps.push(u);
    const [vPlane, mPlane] = [4 * planeFloats(slots * ci), 4 * planeFloats(slots * co)];
    const vBuf = backend.makeOutput([(16 * vPlane) / 4], 'float32');
    temps.push(vBuf);
    const mBuf = backend.makeOutput([(16 * mPlane) / 4], 'float32');
    temps.push(mBuf);
    const zeros = backend.makeOutput([co], 'float32');
    temps.push(zeros);
    const biasRow = backend.makeOutput([co], 'float32');
    temps.push(biasRow);
    const [uV, fV, zV, bV, vV] = floatViews(backend, u, filter, zeros, biasRow, vBuf);
    filterTransform(fV, ci, co, uV);
    zV.fill(0);
    vV.fill(0); // the spare tile slot is read by the products (its results are never used)
    bV.fill(0);
    if (bias != null) {
      const [b] = floatViews(backend, bias);
      if (b.length === 1) bV.fill(b[0]);
      else bV.set(b);
    }
    const [xAt, outAt, uAt, vAt, mAt, zAt, bAt] = [xp, out as TensorInfo, u, vBuf, mBuf, zeros, biasRow].map((t) => floatOffset(backend, t)) as number[];
    const [outPixel, outRow] = [4 * co, 4 * 2 * tw * co];
    const wout = simd[relu ? 'woutr' : 'wout'];
    // The register blocks (up to 16 output channels, 2 tiles at a time), looked up once.
    const blocks: Array<{ o0: number; cf: SimdKernels[`cf${number}x${number}`] }> = [];
    for (let o0 = 0; o0 < co; o0 += 4 * CF_VECS) blocks.push({ o0, cf: simd[`cf2x${Math.min(CF_VECS, (co - o0) / 4)}`] });
    forEachChunk(n, tiling, (b0, nb, r0, nr) => {
      const pairs = Math.ceil((nb * nr * tw) / 2);
      transformInput(simd, xAt, vAt, vPlane, ci, tiling, b0, nb, r0, nr);
      for (let k = 0; k < 16; k++) {
        // One row of `tiles` "pixels" with ci inputs each: a [tiles, ci] x [ci, co] product.
        for (const { o0, cf } of blocks) cf(vAt + k * vPlane, uAt + 4 * (k * ci * co + o0), mAt + k * mPlane + 4 * o0, 1, ci, 0, 4 * co, pairs, 1, 1, 2 * 4 * ci, 0, 0, 2 * 4 * co, 4 * ci, 4 * co, zAt + 4 * o0);
      }
      wout(
        mAt,
        outAt + 4 * co * (b0 * 4 * th * tw + 2 * r0 * 2 * tw),
        mPlane,
        co / 4,
        nb,
        nr,
        tw,
        outPixel,
        outRow,
        2 * outRow - 2 * tw * outPixel,
        outRow * (2 * th - 2 * nr),
        bAt,
        0,
        0,
        0,
        0,
      );
    });
    lastWinogradApplied = true;
    if (even) return out as TensorInfo;
    // Drop the last output row / column of odd sizes (SIMD row copies).
    const result = backend.makeOutput([n, oh, ow, co], 'float32');
    const [src, dst] = [out as TensorInfo, result].map((t) => floatOffset(backend, t)) as number[];
    simd.imageRows(src, dst, n, outRow * 2 * th, oh, outRow, 0, 4 * ow * co, 0, 0, 0);
    return result;
  } catch (e) {
    if (even && out != null) free(backend, out);
    throw e;
  } finally {
    free(backend, ...temps);
  }
}

/** Input channels per `dg` register block of the filter-gradient products. */
const CHANNEL_BLOCK = 2;

/**
 * The 3x3 filter gradient of a convolution that {@link winogradConv2D} applies to, by Winograd
 * F(3x3, 2x2): per chunk of 2x2 `dy` tiles, the input tiles through `winoIn`, the `dy` tiles
 * through `winoDy`, and for each of the 16 transformed positions the `[ci, tiles] x [tiles, co]`
 * product by the `dg` register blocks (float32 per chunk, then float64), mapped back to 3x3 in
 * float64 at the end. Null where it does not apply. Measured (batch 128, 14 x 14, 16 -> 32
 * channels): 7.4 → ~4 ms.
 */
export function winogradFilterGrad(backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo | null {
  lastWinogradApplied = false;
  const found = winogradTiling(backend, info, [x, dy]);
  if (found == null) return null;
  const [simd, tiling] = found;
  const { batchSize: n, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { th, tw } = tiling;
  const temps: TensorInfo[] = [];
  try {
    const xp = padded(backend, simd, x, tiling.pads, temps);
    // dy tiles of odd sizes: a zero row / column.
    const dyp = padded(backend, simd, dy, { top: 0, bottom: 2 * th - oh, left: 0, right: 2 * tw - ow }, temps);
    const slots = tiling.maxTiles;
    const [vPlane, dPlane] = [4 * planeFloats(slots * ci), 4 * planeFloats(slots * co)];
    const vBuf = backend.makeOutput([(16 * vPlane) / 4], 'float32');
    temps.push(vBuf);
    const dBuf = backend.makeOutput([(16 * dPlane) / 4], 'float32');
    temps.push(dBuf);
    const acc = backend.makeOutput([2 * 16 * ci * co], 'float32'); // float64 sums
    temps.push(acc);
    const [xAt, dyAt, vAt, dAt, accAt] = [xp, dyp, vBuf, dBuf, acc].map((t) => floatOffset(backend, t)) as number[];
    if (accAt % 8 !== 0) throw new Error('@luzts/wasm-kernels: Winograd filter gradient: unaligned float64 accumulators.');
    const [accF] = floatViews(backend, acc);
    new Float64Array(accF.buffer, accF.byteOffset, 16 * ci * co).fill(0);
    const [dyPixel, dyRow] = [4 * co, 4 * 2 * tw * co];
    // The register blocks (input-channel pairs x up to 16 output channels), looked up once.
    const blocks: Array<{ c0: number; o0: number; dg: SimdKernels[`dg${number}x${number}`] }> = [];
    for (let c0 = 0; c0 < ci; c0 += CHANNEL_BLOCK) {
      for (let o0 = 0; o0 < co; o0 += 4 * DG_VECS) blocks.push({ c0, o0, dg: simd[`dg${Math.min(CHANNEL_BLOCK, ci - c0)}x${Math.min(DG_VECS, (co - o0) / 4)}`] });
    }
    forEachChunk(n, tiling, (b0, nb, r0, nr) => {
      const tiles = nb * nr * tw;
      transformInput(simd, xAt, vAt, vPlane, ci, tiling, b0, nb, r0, nr);
      simd.winoDy(dyAt + 4 * co * (b0 * 4 * th * tw + 2 * r0 * 2 * tw), dAt, dPlane, co / 4, nb, nr, tw, dyPixel, dyRow, 2 * dyRow - 2 * tw * dyPixel, dyRow * (2 * th - 2 * nr));
      for (let k = 0; k < 16; k++) {
        for (const { c0, o0, dg } of blocks) dg(vAt + k * vPlane + 4 * c0, dAt + k * dPlane + 4 * o0, accAt + 8 * ((k * ci + c0) * co + o0), 8 * co, tiles, 1, 1, 4 * ci, 0, 0, 4 * co);
      }
    });
    // dW[a, b] = sum_{r, s} Aᵀ[a, r] S[4r + s] Aᵀ[b, s], Aᵀ = [[1, 1, 1, 0], [0, 1, -1, 0], [0, 1, 1, 1]]:
    // rows first (3 x 4 per pair), then columns.
    const out = backend.makeOutput([3, 3, ci, co], 'float32');
    const [outV, accV] = floatViews(backend, out, acc);
    const sums = new Float64Array(accV.buffer, accV.byteOffset, 16 * ci * co);
    const plane = ci * co;
    const t = new Float64Array(12);
    for (let e = 0; e < plane; e++) {
      for (let s2 = 0; s2 < 4; s2++) {
        const m0 = sums[s2 * plane + e];
        const m1 = sums[(4 + s2) * plane + e];
        const m2 = sums[(8 + s2) * plane + e];
        const m3 = sums[(12 + s2) * plane + e];
        t[s2] = m0 + m1 + m2;
        t[4 + s2] = m1 - m2;
        t[8 + s2] = m1 + m2 + m3;
      }
      for (let a = 0; a < 3; a++) {
        const m0 = t[4 * a];
        const m1 = t[4 * a + 1];
        const m2 = t[4 * a + 2];
        const m3 = t[4 * a + 3];
        outV[(3 * a) * plane + e] = m0 + m1 + m2;
        outV[(3 * a + 1) * plane + e] = m1 - m2;
        outV[(3 * a + 2) * plane + e] = m1 + m2 + m3;
      }
    }
    lastWinogradApplied = true;
    return out;
  } finally {
    free(backend, ...temps);
  }
}
