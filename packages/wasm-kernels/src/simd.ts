/**
 * WebAssembly SIMD code that runs directly on the wasm backend's heap: a small module, assembled
 * here byte by byte (no build step, no binary asset), that imports the backend's
 * `WebAssembly.Memory`. Memory-bound passes (the max-pool gradient, im2col rows, bias add, row
 * sums: JavaScript loops over the heap cost up to ~15 ns per element for the branchy max-pool
 * gradient), a fused Adam update and relu gradient, and register-blocked products for filter
 * gradients, which read the padded input and `dy` in place where XNNPACK would first re-pack
 * all of `dy` (and im2col would copy the input nine times).
 *
 * Used only where the backend's memory is exported and not shared (the single-threaded wasm
 * builds) and the engine validates SIMD; callers keep their JavaScript path for everything else.
 *
 * @internal
 * @packageDocumentation
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { storedDtype, type WasmBackendLike } from './wasm.js';

/** The exports of the SIMD module. Pointers are byte offsets into the backend's heap. */
/**
 * A Winograd tile transform: over `images` images of `rows` rows of `tiles` tiles (each starting
 * 2 pixels after the previous one) and `groups` groups of 4 channels, from NHWC pixels `src`
 * (`pixel` / `row` bytes apart; `rowJump` / `imageJump` more after a row of tiles / an image) to 16
 * planes `plane` bytes apart from `dst` (4 * `groups` floats per tile, in visiting order).
 */
type WinoTransform = (
  src: number,
  dst: number,
  plane: number,
  groups: number,
  images: number,
  rows: number,
  tiles: number,
  pixel: number,
  row: number,
  rowJump: number,
  imageJump: number,
) => void;

/**
 * A Winograd output transform: the inverse layout of {@link WinoTransform}, from the 16 product
 * planes `m` to 2x2 output pixels from `out`, plus the `bias` vector (4 * `groups` floats).
 */
type WinoOut = (
  m: number,
  out: number,
  plane: number,
  groups: number,
  images: number,
  rows: number,
  tiles: number,
  outPixel: number,
  outRow: number,
  outRowJump: number,
  outImageJump: number,
  bias: number,
  unused0: number,
  unused1: number,
  unused2: number,
  unused3: number,
) => void;

export interface SimdKernels {
  /**
   * Max-pool gradient of 2x2 windows at stride 2 that tile the input exactly (no padding, no
   * leftover row or column), channels a multiple of 4: `dx` gets each window's gradient at the
   * first maximum of the window in row-major order (NaN never wins) and 0 elsewhere.
   * `rows` = batch * output height, `ow` = output width, `cb` = channels * 4, `rb` = input row
   * bytes (width * channels * 4). Every element of `dx` is written.
   */
  maxPoolGrad2x2(x: number, g: number, dx: number, rows: number, ow: number, cb: number, rb: number): void;
  /**
   * Max pooling over 2x2 windows at stride 2 that tile the input exactly, channels a multiple of
   * 4: `out` gets each window's maximum, NaN never winning (a window of only NaN / -Infinity gives
   * -Infinity), like the CPU backend. Same arguments as {@link SimdKernels.maxPoolGrad2x2}, with
   * `out` (the pooled output) in place of `g` and the last two unused.
   */
  maxPool2x2(x: number, out: number, unused: number, rows: number, ow: number, cb: number, rb: number): void;
  /**
   * Average-pool gradient of 2x2 windows at stride 2 that tile the input, channels a multiple of
   * 4: every element of each window of `dx` gets its window's `dy / 4` (exact). Same loop
   * arguments as {@link SimdKernels.maxPool2x2}, with `dx` first and `dy` second.
   */
  avgPoolGrad2x2(dx: number, dy: number, unused: number, rows: number, ow: number, cb: number, rb: number): void;
  /**
   * im2col rows of `images` images (>= 1), written one after the other from `dst`: per image,
   * `before` bytes of zeros, then `n` rows (>= 0) of `lead` bytes of zeros, `len` bytes copied
   * from the source row and `tail` bytes of zeros, then `after` bytes of zeros. The first source
   * row is at `src` (advancing `imageStride` bytes per image), the next ones `stride` bytes apart.
   * All sizes are multiples of 4; bit patterns are copied (NaN payloads included).
   */
  imageRows(
    src: number,
    dst: number,
    images: number,
    imageStride: number,
    n: number,
    stride: number,
    lead: number,
    len: number,
    tail: number,
    before: number,
    after: number,
  ): void;
  /**
   * `out[r, :] = x[r, :] + v` for `rows` rows of `cb` bytes (a multiple of 16, `rows` >= 1): a
   * vector (a bias, batch-norm statistics) broadcast along the last axis. `out` may be `x`. The
   * other {@link RowOp}s alike: `rowSub` `x - v`, `rowRsub` `v - x`, `rowMul` `x * v`, `rowDiv`
   * `x / v`, `rowRdiv` `v / x`.
   */
  rowAdd(x: number, v: number, out: number, rows: number, cb: number, unused0: number, unused1: number): void;
  rowSub(x: number, v: number, out: number, rows: number, cb: number, unused0: number, unused1: number): void;
  rowRsub(x: number, v: number, out: number, rows: number, cb: number, unused0: number, unused1: number): void;
  rowMul(x: number, v: number, out: number, rows: number, cb: number, unused0: number, unused1: number): void;
  rowDiv(x: number, v: number, out: number, rows: number, cb: number, unused0: number, unused1: number): void;
  rowRdiv(x: number, v: number, out: number, rows: number, cb: number, unused0: number, unused1: number): void;
  /**
   * `out[r, :] = (x[r, :] - p[0, :]) * p[1, :] + p[2, :]` for `rows` rows of `cb` bytes (a
   * multiple of 16): batch normalization with per-channel mean `p[0]`, factor `p[1]` and offset
   * `p[2]` (`p` is 3 rows of `cb` bytes).
   */
  rowAffine(x: number, p: number, out: number, rows: number, cb: number, unused0: number, unused1: number): void;
  /**
   * `acc[j] += x[r, j]` over `rows` rows (`rows` >= 1) of `ib` bytes of float32 (a multiple of
   * 8), into float64 accumulators `acc`, row after row (the CPU backend's order).
   */
  sumRows(x: number, acc: number, rows: number, ib: number, unused0: number, unused1: number, unused2: number): void;
  /**
   * One Adam update of `n4` groups of 4 float32 (`n4` >= 1), exactly the operations of tfjs's
   * `AdamOptimizer.applyGradients` in the same order, each rounded to float32:
   * `m' = m * b1 + g * c1`, `v' = v * b2 + (g * g) * c2`,
   * `x' = ((m' / d1) / (sqrt(v' / d2) + eps)) * nlr + x`. Pointers `x, g, m, v` (read) and
   * `ox, om, ov` (written) are byte offsets; the scalars are float32 bit patterns.
   */
  adam(
    x: number,
    g: number,
    m: number,
    v: number,
    ox: number,
    om: number,
    ov: number,
    n4: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    d1: number,
    d2: number,
    eps: number,
    nlr: number,
  ): void;
  /**
   * The relu gradient `dx = dy * step(x)` of `n4` groups of 4 float32 (`n4` >= 1), as tfjs
   * computes it (`mul(dy, step(x))`): `dy * 1` where `x > 0`, `dy * NaN` where `x` is NaN,
   * `dy * 0` elsewhere (so `-0`, and NaN for infinite `dy`).
   */
  reluGrad(dy: number, x: number, dx: number, n4: number, unused0: number, unused1: number, unused2: number): void;
  /**
   * `cf{px}x{cv}` (px in {@link CF_PIXELS}, cv in 1..{@link CF_VECS}): a register block of the
   * direct forward convolution plus a bias; `cfr{px}x{cv}` the same followed by relu; see `cfBody`.
   */
  [cf: `cf${'' | 'r'}${number}x${number}`]: (
    x: number,
    w: number,
    out: number,
    fh: number,
    fwci: number,
    xRowStride: number,
    wRow: number,
    blocks: number,
    rows: number,
    images: number,
    xBlock: number,
    xRowJump: number,
    xImageJump: number,
    outBlock: number,
    xPixel: number,
    outPixel: number,
    bias: number,
  ) => void;
  /**
   * `dwg{fw}` (fw in 1..{@link DWG_TAPS}): one filter row of a depthwise filter gradient (channel
   * multiplier 1) for 4 channels: `out[t, l] += sum_p x[p @ t, l] * dy[p, l]` for the `fw` taps
   * `t` of the row, over `images` images of `oh` rows of `ow` pixels (the loop arguments of
   * {@link SimdKernels.dg}); tap `t` reads `x + t * tap`; float32 sums, then added to float64
   * `out` (`outStep` bytes per tap).
   */
  [dwg: `dwg${number}`]: (
    x: number,
    dy: number,
    out: number,
    outStep: number,
    ow: number,
    oh: number,
    images: number,
    xPixel: number,
    xRowJump: number,
    xImageJump: number,
    dyPixel: number,
    tap: number,
    unused0: number,
    unused1: number,
    unused2: number,
    unused3: number,
  ) => void;
  /**
   * Winograd F(2x2, 3x3) input transform `V = Bᵀ d B` of 4x4 input tiles at stride 2 (see
   * `winoInBody`).
   */
  winoIn: WinoTransform;
  /**
   * Winograd F(3x3, 2x2) transform `G' g G'ᵀ` of 2x2 `dy` tiles for the filter gradient (see
   * `winoDyBody`); same arguments as {@link SimdKernels.winoIn}.
   */
  winoDy: WinoTransform;
  /**
   * Winograd F(2x2, 3x3) output transform `Y = Aᵀ m A` plus a bias (`woutr`: then relu) into 2x2
   * output pixels (see `winoOutBody`).
   */
  wout: WinoOut;
  /** {@link SimdKernels.wout} followed by relu. */
  woutr: WinoOut;
  /**
   * `dwc{px}p{fw}x{cv}` (px in {@link DWC_PIXELS}, fw in 1..{@link DWG_TAPS}, cv in
   * 1..{@link DWC_VECS}): a direct depthwise convolution (channel multiplier 1) of `4 * cv`
   * adjacent channels, `px` pixels at a time; see `dwcBody`.
   */
  [dwc: `dwc${number}p${number}x${number}`]: (
    x: number,
    w: number,
    out: number,
    fh: number,
    tapY: number,
    tapX: number,
    wRow: number,
    wTap: number,
    ow: number,
    rows: number,
    images: number,
    xPixel: number,
    xRowJump: number,
    xImageJump: number,
    outPixel: number,
    outRowJump: number,
    outImageJump: number,
  ) => void;
  /**
   * `dg{kb}x{cv}` (kb in 1..{@link DG_ROWS}, cv in 1..{@link DG_VECS}): a register block of the
   * direct (im2col-free) filter gradient over `images` images; see `dgBody`.
   */
  [dg: `dg${number}x${number}`]: (
    x: number,
    dy: number,
    out: number,
    outRow: number,
    ow: number,
    oh: number,
    images: number,
    xPixel: number,
    xRowJump: number,
    xImageJump: number,
    dyPixel: number,
  ) => void;
}

// --- a minimal assembler ------------------------------------------------------------------

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  sub: [0x6b],
  ltU: [0x49],
  geU: [0x4f],
  eqz: [0x45],
  block: [0x02, 0x40],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  i32Load: [0x28, 0x02, 0x00],
  i32Store: [0x36, 0x02, 0x00],
  loop: [0x03, 0x40],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  // SIMD (prefix 0xfd); memarg: alignment hint 2^2, offset 0.
  load: [0xfd, 0x00, 0x02, 0x00],
  store: [0xfd, 0x0b, 0x02, 0x00],
  f32x4Gt: [0xfd, 0x44],
  f32x4Add: [0xfd, 0xe4, 0x01],
  load64Zero: [0xfd, 0x5d, 0x03, 0x00],
  f64x2PromoteLow: [0xfd, 0x5f],
  f64x2Add: [0xfd, 0xf0, 0x01],
  f32x4Mul: [0xfd, 0xe6, 0x01],
  f32x4Splat: [0xfd, 0x13],
  f32Load: [0x2a, 0x02, 0x00],
  loadAt: (offset: number) => [0xfd, 0x00, 0x02, ...uleb(offset)],
  storeAt: (offset: number) => [0xfd, 0x0b, 0x02, ...uleb(offset)],
  shuffle: (lanes: number[]) => [0xfd, 0x0d, ...lanes],
  mul: [0x6c],
  and: [0xfd, 0x4e],
  andNot: [0xfd, 0x4f],
  bitselect: [0xfd, 0x52],
  v128Const: (bytes: number[]) => [0xfd, 0x0c, ...bytes],
  f32Reinterpret: [0xbe],
  f32x4Sub: [0xfd, 0xe5, 0x01],
  f32x4Div: [0xfd, 0xe7, 0x01],
  f32x4Sqrt: [0xfd, 0xe3, 0x01],
  f32x4Eq: [0xfd, 0x41],
  f32x4Pmax: [0xfd, 0xeb, 0x01],
  f32x4Neg: [0xfd, 0xe1, 0x01],
};

/** `ptr += local` */
const bump = (ptr: number, by: number): number[] => [...op.get(ptr), ...op.get(by), ...op.add, ...op.set(ptr)];
/** `ptr += bytes` */
const bumpBy = (ptr: number, bytes: number): number[] => [...op.get(ptr), ...op.i32(bytes), ...op.add, ...op.set(ptr)];
/** Closes a counted loop: `if (--ctr != 0) continue; end`. */
const countDown = (ctr: number): number[] => [...op.get(ctr), ...op.i32(1), ...op.sub, ...op.tee(ctr), ...op.brIf(0), ...op.end];
/** `f32.load` at a constant byte offset from the address on the stack. */
const f32LoadAt = (offset: number): number[] => [0x2a, 0x02, ...uleb(offset)];
/** A v128 constant of four equal float32 lanes. */
const f32x4Const = (v: number): number[] => {
  const lane = Array.from(new Uint8Array(new Float32Array([v]).buffer));
  return op.v128Const([...lane, ...lane, ...lane, ...lane]);
};

/** Locals of {@link tiled2x2Loops} (i32). */
interface TiledLocals {
  /** top-left of the current window in x */
  P: number;
  /** windows left in the row */
  XC: number;
  /** channel byte offset */
  CH: number;
  /** P + CH: the current group of 4 channels, for `inner` */
  Q: number;
  /** 2 * cb */
  CB2: number;
  /** rb + cb: the window's bottom-right element, relative to Q */
  RCB: number;
}

/**
 * The loops of the 2x2 pooling passes (params: x, a pointer advancing 16 bytes per group of 4
 * channels, -, rows, ow, cb, rb): over `rows` window rows, `ow` windows per row, groups of 4
 * channels; `inner` runs per group with local `Q` at the group's top-left element (its window's
 * others at `Q + cb`, `Q + rb`, `Q + rcb`).
 */
function tiled2x2Loops(L: TiledLocals, inner: number[]): number[] {
  const [X, PTR, , ROWS, OW, CB, RB] = [0, 1, 2, 3, 4, 5, 6];
  return [
    ...op.get(CB),
    ...op.get(CB),
    ...op.add,
    ...op.set(L.CB2),
    ...op.get(RB),
    ...op.get(CB),
    ...op.add,
    ...op.set(L.RCB),
    ...op.get(X),
    ...op.set(L.P),
    ...op.loop, // rows
    ...op.get(OW),
    ...op.set(L.XC),
    ...op.loop, // windows of the row
    ...op.i32(0),
    ...op.set(L.CH),
    ...op.loop, // channels, 4 at a time
    ...op.get(L.P),
    ...op.get(L.CH),
    ...op.add,
    ...op.set(L.Q),
    ...inner,
    ...bumpBy(PTR, 16),
    ...op.get(L.CH),
    ...op.i32(16),
    ...op.add,
    ...op.tee(L.CH),
    ...op.get(CB),
    ...op.ltU,
    ...op.brIf(0),
    ...op.end, // channels
    ...bump(L.P, L.CB2),
    ...countDown(L.XC), // windows
    ...bump(L.P, RB), // skip the second input row of the window row
    ...countDown(ROWS),
  ];
}

/** The max-pool gradient function body (see {@link SimdKernels.maxPoolGrad2x2}). */
function maxPoolGrad2x2Body(): number[] {
  // params 0..6: x, g, dx, rows, ow, cb, rb
  const [X, G, DX, , , CB, RB] = [0, 1, 2, 3, 4, 5, 6];
  const L: TiledLocals = { P: 7, XC: 8, CH: 9, Q: 10, CB2: 11, RCB: 12 };
  const DELTA = 13; // dx - x
  const [A, B, C, D, M, S0, S1, S2, S3, GV, NINF] = [14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24];
  const loadAt = (extra: number | null): number[] => [...op.get(L.Q), ...(extra == null ? [] : [...op.get(extra), ...op.add]), ...op.load];
  const storeAt = (extra: number | null, value: number[]): number[] => [
    ...op.get(L.Q),
    ...op.get(DELTA),
    ...op.add,
    ...(extra == null ? [] : [...op.get(extra), ...op.add]),
    ...value,
    ...op.store,
  ];
  /** s = v > m; m = s ? v : m */
  const select = (v: number, s: number): number[] => [
    ...op.get(v),
    ...op.get(M),
    ...op.f32x4Gt,
    ...op.set(s),
    ...op.get(v),
    ...op.get(M),
    ...op.get(s),
    ...op.bitselect,
    ...op.set(M),
  ];
  const inner: number[] = [
    ...loadAt(null),
    ...op.set(A),
    ...loadAt(CB),
    ...op.set(B),
    ...loadAt(RB),
    ...op.set(C),
    ...loadAt(L.RCB),
    ...op.set(D),
    ...op.get(NINF),
    ...op.set(M),
    // s0 = a > -inf; m = s0 ? a : -inf; then b, c against the running maximum
    ...select(A, S0),
    ...select(B, S1),
    ...select(C, S2),
    // s3 = d > m
    ...op.get(D),
    ...op.get(M),
    ...op.f32x4Gt,
    ...op.set(S3),
    ...op.get(G),
    ...op.load,
    ...op.set(GV),
    // The winner is the last k with s_k set: w3 = s3, w2 = s2 & ~s3, w1 = s1 & ~s2 & ~s3, ...
    ...storeAt(L.RCB, [...op.get(GV), ...op.get(S3), ...op.and]),
    ...storeAt(RB, [...op.get(GV), ...op.get(S2), ...op.get(S3), ...op.andNot, ...op.and]),
    ...storeAt(CB, [...op.get(GV), ...op.get(S1), ...op.get(S2), ...op.andNot, ...op.get(S3), ...op.andNot, ...op.and]),
    ...storeAt(null, [
      ...op.get(GV),
      ...op.get(S0),
      ...op.get(S1),
      ...op.andNot,
      ...op.get(S2),
      ...op.andNot,
      ...op.get(S3),
      ...op.andNot,
      ...op.and,
    ]),
  ];
  const body: number[] = [
    // locals: 7 i32, 11 v128
    ...uleb(2),
    ...uleb(7),
    I32,
    ...uleb(11),
    V128,
    ...f32x4Const(Number.NEGATIVE_INFINITY),
    ...op.set(NINF),
    ...op.get(DX),
    ...op.get(X),
    ...op.sub,
    ...op.set(DELTA),
    ...tiled2x2Loops(L, inner),
    ...op.end, // function
  ];
  return [...uleb(body.length), ...body];
}

/** The max-pool function body (see {@link SimdKernels.maxPool2x2}). */
function maxPool2x2Body(): number[] {
  const [OUT, CB, RB] = [1, 5, 6];
  const L: TiledLocals = { P: 7, XC: 8, CH: 9, Q: 10, CB2: 11, RCB: 12 };
  const [M, V] = [13, 14]; // v128
  /** m = v > m ? v : m, with v loaded from q + extra (NaN never wins). */
  const maxWith = (extra: number | null): number[] => [
    ...op.get(L.Q),
    ...(extra == null ? [] : [...op.get(extra), ...op.add]),
    ...op.load,
    ...op.tee(V),
    ...op.get(M),
    ...op.get(V),
    ...op.get(M),
    ...op.f32x4Gt,
    ...op.bitselect,
    ...op.set(M),
  ];
  const inner: number[] = [
    ...f32x4Const(Number.NEGATIVE_INFINITY),
    ...op.set(M),
    ...maxWith(null),
    ...maxWith(CB),
    ...maxWith(RB),
    ...maxWith(L.RCB),
    ...op.get(OUT),
    ...op.get(M),
    ...op.store,
  ];
  const body: number[] = [...uleb(2), ...uleb(6), I32, ...uleb(2), V128, ...tiled2x2Loops(L, inner), ...op.end];
  return [...uleb(body.length), ...body];
}

/** The average-pool gradient function body (see {@link SimdKernels.avgPoolGrad2x2}). */
function avgPoolGrad2x2Body(): number[] {
  const [DY, CB, RB] = [1, 5, 6];
  const L: TiledLocals = { P: 7, XC: 8, CH: 9, Q: 10, CB2: 11, RCB: 12 };
  const G = 13; // v128: dy / 4
  const storeAt = (extra: number | null): number[] => [
    ...op.get(L.Q),
    ...(extra == null ? [] : [...op.get(extra), ...op.add]),
    ...op.get(G),
    ...op.store,
  ];
  const inner: number[] = [
    ...op.get(DY),
    ...op.load,
    ...f32x4Const(0.25),
    ...op.f32x4Mul,
    ...op.set(G),
    ...storeAt(null),
    ...storeAt(CB),
    ...storeAt(RB),
    ...storeAt(L.RCB),
  ];
  const body: number[] = [...uleb(2), ...uleb(6), I32, ...uleb(1), V128, ...tiled2x2Loops(L, inner), ...op.end];
  return [...uleb(body.length), ...body];
}

/** The im2col row-copy function body (see {@link SimdKernels.imageRows}). */
function imageRowsBody(): number[] {
  const [SRC, DST, IMAGES, IMAGE_STRIDE, N, STRIDE, LEAD, LEN, TAIL, BEFORE, AFTER] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const S = 11; // read pointer in the row
  const E = 12; // end of the current segment
  const R = 13; // source of the current row
  const CNT = 14; // rows left in the image
  /** while (dst < E) { body; } */
  const whileBelow = (end: number[], body: number[]): number[] => [
    ...op.block,
    ...op.loop,
    ...op.get(DST),
    ...end,
    ...op.geU,
    ...op.brIf(1),
    ...body,
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
  const zeros = (bytes: number): number[] => [
    ...op.get(DST),
    ...op.get(bytes),
    ...op.add,
    ...op.set(E),
    ...whileBelow(op.get(E), [...op.get(DST), ...op.i32(0), ...op.i32Store, ...op.get(DST), ...op.i32(4), ...op.add, ...op.set(DST)]),
  ];
  const step = (bytes: number): number[] => [
    ...op.get(DST),
    ...op.i32(bytes),
    ...op.add,
    ...op.set(DST),
    ...op.get(S),
    ...op.i32(bytes),
    ...op.add,
    ...op.set(S),
  ];
  const body: number[] = [
    ...uleb(1),
    ...uleb(4),
    I32,
    ...op.loop, // images
    ...zeros(BEFORE),
    ...op.block, // rows inside the input, if any
    ...op.get(N),
    ...op.eqz,
    ...op.brIf(0),
    ...op.get(SRC),
    ...op.set(R),
    ...op.get(N),
    ...op.set(CNT),
    ...op.loop, // rows
    ...zeros(LEAD),
    ...op.get(R),
    ...op.set(S),
    ...op.get(DST),
    ...op.get(LEN),
    ...op.add,
    ...op.set(E),
    // 16 bytes at a time while dst + 16 <= E, i.e. dst < E - 12, then 4 at a time
    ...whileBelow([...op.get(E), ...op.i32(12), ...op.sub], [...op.get(DST), ...op.get(S), ...op.load, ...op.store, ...step(16)]),
    ...whileBelow(op.get(E), [...op.get(DST), ...op.get(S), ...op.i32Load, ...op.i32Store, ...step(4)]),
    ...zeros(TAIL),
    ...op.get(R),
    ...op.get(STRIDE),
    ...op.add,
    ...op.set(R),
    ...op.get(CNT),
    ...op.i32(1),
    ...op.sub,
    ...op.tee(CNT),
    ...op.brIf(0),
    ...op.end, // rows
    ...op.end, // block
    ...zeros(AFTER),
    ...op.get(SRC),
    ...op.get(IMAGE_STRIDE),
    ...op.add,
    ...op.set(SRC),
    ...op.get(IMAGES),
    ...op.i32(1),
    ...op.sub,
    ...op.tee(IMAGES),
    ...op.brIf(0),
    ...op.end, // images
    ...op.end, // function
  ];
  return [...uleb(body.length), ...body];
}

/** The last-axis broadcast operations of {@link SimdKernels}: name, f32x4 opcode, vector first. */
export const ROW_OPS = {
  rowAdd: [op.f32x4Add, false],
  rowSub: [op.f32x4Sub, false],
  rowRsub: [op.f32x4Sub, true],
  rowMul: [op.f32x4Mul, false],
  rowDiv: [op.f32x4Div, false],
  rowRdiv: [op.f32x4Div, true],
} as const;
export type RowOp = keyof typeof ROW_OPS;

/**
 * The function body of a pass over `rows` rows of `cb` bytes (params x, v, out, rows, cb; x and
 * out advance a row at a time): per group of 4 channels, `inner` (with local 7 = the channel's
 * byte offset in the row, and `i32Locals - 1` more i32 locals from 8) pushes the value stored at
 * `out + ch`.
 */
function channelRowsBody(inner: number[], i32Locals = 1): number[] {
  const [X, , OUT, ROWS, CB] = [0, 1, 2, 3, 4];
  const CH = 7;
  const body: number[] = [
    ...uleb(1),
    ...uleb(i32Locals),
    I32,
    ...op.loop, // rows
    ...op.i32(0),
    ...op.set(CH),
    ...op.loop, // 4 channels at a time
    ...op.get(OUT),
    ...op.get(CH),
    ...op.add,
    ...inner,
    ...op.store,
    ...op.get(CH),
    ...op.i32(16),
    ...op.add,
    ...op.tee(CH),
    ...op.get(CB),
    ...op.ltU,
    ...op.brIf(0),
    ...op.end, // channels
    ...bump(X, CB),
    ...bump(OUT, CB),
    ...countDown(ROWS),
    ...op.end, // function
  ];
  return [...uleb(body.length), ...body];
}

/** The body of a last-axis broadcast operation (see {@link SimdKernels.rowAdd}). */
function rowOpBody(opcode: readonly number[], vectorFirst: boolean): number[] {
  const [X, V] = [0, 1];
  const CH = 7;
  const loadX = [...op.get(X), ...op.get(CH), ...op.add, ...op.load];
  const loadV = [...op.get(V), ...op.get(CH), ...op.add, ...op.load];
  return channelRowsBody([...(vectorFirst ? [...loadV, ...loadX] : [...loadX, ...loadV]), ...opcode]);
}

/** The batch-norm function body (see {@link SimdKernels.rowAffine}). */
function rowAffineBody(): number[] {
  const [X, P, CB] = [0, 1, 4];
  const [CH, PC] = [7, 8]; // i32: channel byte offset, P + CH
  return channelRowsBody(
    [
      ...op.get(P),
      ...op.get(CH),
      ...op.add,
      ...op.set(PC),
      ...op.get(X),
      ...op.get(CH),
      ...op.add,
      ...op.load,
      ...op.get(PC),
      ...op.load,
      ...op.f32x4Sub,
      ...op.get(PC),
      ...op.get(CB),
      ...op.add,
      ...op.load,
      ...op.f32x4Mul,
      ...op.get(PC),
      ...op.get(CB),
      ...op.add,
      ...op.get(CB),
      ...op.add,
      ...op.load,
      ...op.f32x4Add,
    ],
    2,
  );
}

/** The row-sum function body (see {@link SimdKernels.sumRows}). */
function sumRowsBody(): number[] {
  const [X, ACC, ROWS, IB] = [0, 1, 2, 3];
  const J = 7; // float32 byte offset in the row
  const A = 8; // accumulator address
  const body: number[] = [
    ...uleb(1),
    ...uleb(2),
    I32,
    ...op.loop, // rows
    ...op.i32(0),
    ...op.set(J),
    ...op.loop, // 2 columns at a time
    ...op.get(ACC),
    ...op.get(J),
    ...op.i32(2),
    ...op.mul,
    ...op.add,
    ...op.tee(A),
    ...op.get(A),
    ...op.load,
    ...op.get(X),
    ...op.get(J),
    ...op.add,
    ...op.load64Zero,
    ...op.f64x2PromoteLow,
    ...op.f64x2Add,
    ...op.store,
    ...op.get(J),
    ...op.i32(8),
    ...op.add,
    ...op.tee(J),
    ...op.get(IB),
    ...op.ltU,
    ...op.brIf(0),
    ...op.end, // columns
    ...op.get(X),
    ...op.get(IB),
    ...op.add,
    ...op.set(X),
    ...op.get(ROWS),
    ...op.i32(1),
    ...op.sub,
    ...op.tee(ROWS),
    ...op.brIf(0),
    ...op.end, // rows
    ...op.end, // function
  ];
  return [...uleb(body.length), ...body];
}

/** The Adam update function body (see {@link SimdKernels.adam}). */
function adamBody(): number[] {
  const [X, G, M, V, OX, OM, OV, N4] = [0, 1, 2, 3, 4, 5, 6, 7];
  const scalars = [8, 9, 10, 11, 12, 13, 14, 15]; // b1, c1, b2, c2, d1, d2, eps, nlr
  const [B1, C1, B2, C2, D1, D2, EPS, NLR, GV, M1, V1] = [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26];
  const body: number[] = [...uleb(1), ...uleb(11), V128];
  scalars.forEach((param, i) => body.push(...op.get(param), ...op.f32Reinterpret, ...op.f32x4Splat, ...op.set(B1 + i)));
  body.push(
    ...op.loop,
    ...op.get(G),
    ...op.load,
    ...op.set(GV),
    // m' = m * b1 + g * c1
    ...op.get(M),
    ...op.load,
    ...op.get(B1),
    ...op.f32x4Mul,
    ...op.get(GV),
    ...op.get(C1),
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...op.set(M1),
    // v' = v * b2 + (g * g) * c2
    ...op.get(V),
    ...op.load,
    ...op.get(B2),
    ...op.f32x4Mul,
    ...op.get(GV),
    ...op.get(GV),
    ...op.f32x4Mul,
    ...op.get(C2),
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...op.set(V1),
    ...op.get(OM),
    ...op.get(M1),
    ...op.store,
    ...op.get(OV),
    ...op.get(V1),
    ...op.store,
    // x' = ((m' / d1) / (sqrt(v' / d2) + eps)) * nlr + x
    ...op.get(OX),
    ...op.get(M1),
    ...op.get(D1),
    ...op.f32x4Div,
    ...op.get(V1),
    ...op.get(D2),
    ...op.f32x4Div,
    ...op.f32x4Sqrt,
    ...op.get(EPS),
    ...op.f32x4Add,
    ...op.f32x4Div,
    ...op.get(NLR),
    ...op.f32x4Mul,
    ...op.get(X),
    ...op.load,
    ...op.f32x4Add,
    ...op.store,
  );
  for (const ptr of [X, G, M, V, OX, OM, OV]) body.push(...bumpBy(ptr, 16));
  body.push(...countDown(N4), ...op.end);
  return [...uleb(body.length), ...body];
}

/** The relu-gradient function body (see {@link SimdKernels.reluGrad}). */
function reluGradBody(): number[] {
  const [DY, X, DX, N4] = [0, 1, 2, 3];
  const [XV, ONE, ZERO] = [7, 8, 9];
  const body: number[] = [
    ...uleb(1),
    ...uleb(3),
    V128,
    ...f32x4Const(1),
    ...op.set(ONE),
    ...op.v128Const(Array<number>(16).fill(0)),
    ...op.set(ZERO),
    ...op.loop,
    ...op.get(X),
    ...op.load,
    ...op.set(XV),
    ...op.get(DX),
    ...op.get(DY),
    ...op.load,
    // step(x) = x > 0 ? 1 : (x == x ? 0 : x), i.e. NaN stays NaN
    ...op.get(ONE),
    ...op.get(ZERO),
    ...op.get(XV),
    ...op.get(XV),
    ...op.get(XV),
    ...op.f32x4Eq,
    ...op.bitselect,
    ...op.get(XV),
    ...op.get(ZERO),
    ...op.f32x4Gt,
    ...op.bitselect,
    ...op.f32x4Mul,
    ...op.store,
  ];
  for (const ptr of [DY, X, DX]) body.push(...bumpBy(ptr, 16));
  body.push(...countDown(N4), ...op.end);
  return [...uleb(body.length), ...body];
}

/**
 * Register blocks of the {@link SimdKernels.cf} convolution: output pixels (2 or 4; 4 for narrow
 * blocks of 1-2 channel vectors) x 4-channel vectors (1 to 4).
 */
export const CF_PIXELS = [2, 4] as const;
export const CF_VECS = 4;

/**
 * The body of `cf{px}x{cv}`: a direct NHWC convolution (no bias, no activation) of a zero-padded
 * input, `px` horizontally adjacent output pixels by `4 * cv` output channels at a time:
 * `out[p + i, 4v + l] = sum_kh sum_j x[p + i, kh, j] * w[kh, j, 4v + l]`, where `j` runs over the
 * `fwci` = filter width x input channels floats that a filter row reads (adjacent in NHWC at
 * horizontal dilation 1). Per output row, `blocks` blocks of `px` pixels; `rows` rows per image;
 * `images` images (all >= 1). `x` points at the first pixel's tap (0, 0), channel 0; pixel `i` of a
 * block reads from `x + i * xPixel`; filter row `kh` from `xRowStride` bytes further per `kh`. The
 * pointers advance `xBlock` / `outBlock` bytes per block, `xRowJump` more after a row and
 * `xImageJump` more after an image (`out` is contiguous). `w` points at output channel 0 of the
 * block in an [fh, fwci, co] filter with `wRow` = 4 * co bytes per row; `out` pixels are
 * `outPixel` bytes apart. Sums run in float32 in the order (kh, j), like XNNPACK's, starting at the
 * `bias` vector (`co` floats; zeros for none); with `relu`, negative results become 0.
 */
function cfBody(px: number, cv: number, relu: boolean): number[] {
  const [X, W, OUT, FH, FWCI, X_ROW_STRIDE, W_ROW, BLOCKS, ROWS, IMAGES, X_BLOCK, X_ROW_JUMP, X_IMAGE_JUMP, OUT_BLOCK, X_PIXEL, OUT_PIXEL, BIAS] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
  ];
  const [ROW, BLOCK, KH, J, XK, XJ, WJ] = [17, 18, 19, 20, 21, 22, 23]; // i32
  const acc = (i: number, v: number) => 24 + i * cv + v; // v128
  const splat = (i: number) => 24 + px * cv + i; // v128
  const WV = 24 + px * cv + px; // v128
  const body: number[] = [...uleb(2), ...uleb(7), I32, ...uleb(px * cv + px + 1), V128];
  body.push(...op.loop, ...op.get(ROWS), ...op.set(ROW)); // images
  body.push(...op.loop, ...op.get(BLOCKS), ...op.set(BLOCK)); // rows
  body.push(...op.loop); // blocks
  // Sums start at the bias (a buffer of zeros when there is none).
  for (let i = 0; i < px; i++) for (let v = 0; v < cv; v++) body.push(...op.get(BIAS), ...op.loadAt(16 * v), ...op.set(acc(i, v)));
  body.push(...op.get(X), ...op.set(XK), ...op.get(W), ...op.set(WJ), ...op.get(FH), ...op.set(KH));
  body.push(...op.loop, ...op.get(XK), ...op.set(XJ), ...op.get(FWCI), ...op.set(J)); // kh
  body.push(...op.loop); // j
  for (let i = 0; i < px; i++) {
    body.push(...op.get(XJ), ...(i === 0 ? [] : [...op.get(X_PIXEL), ...op.i32(i), ...op.mul, ...op.add]), ...f32LoadAt(0), ...op.f32x4Splat, ...op.set(splat(i)));
  }
  for (let v = 0; v < cv; v++) {
    body.push(...op.get(WJ), ...op.loadAt(16 * v), ...op.set(WV));
    for (let i = 0; i < px; i++) {
      body.push(...op.get(acc(i, v)), ...op.get(splat(i)), ...op.get(WV), ...op.f32x4Mul, ...op.f32x4Add, ...op.set(acc(i, v)));
    }
  }
  body.push(...bumpBy(XJ, 4), ...bump(WJ, W_ROW), ...countDown(J));
  body.push(...bump(XK, X_ROW_STRIDE), ...countDown(KH));
  for (let i = 0; i < px; i++) {
    for (let v = 0; v < cv; v++) {
      // relu as tfjs computes it: x < 0 ? 0 : x (pmax keeps NaN and -0).
      const value = relu ? [...op.get(acc(i, v)), ...op.v128Const(Array<number>(16).fill(0)), ...op.f32x4Pmax] : op.get(acc(i, v));
      body.push(...op.get(OUT), ...(i === 0 ? [] : [...op.get(OUT_PIXEL), ...op.i32(i), ...op.mul, ...op.add]), ...value, ...op.storeAt(16 * v));
    }
  }
  body.push(...bump(X, X_BLOCK), ...bump(OUT, OUT_BLOCK), ...countDown(BLOCK));
  body.push(...bump(X, X_ROW_JUMP), ...countDown(ROW));
  body.push(...bump(X, X_IMAGE_JUMP), ...countDown(IMAGES));
  body.push(...op.end);
  return [...uleb(body.length), ...body];
}

/** Register blocks of the {@link SimdKernels.dg} product: input channels x 4-channel vectors. */
export const DG_ROWS = 3;
export const DG_VECS = 4;

/**
 * The body of `dg{kb}x{cv}`: `out[j, 4v + l] += sum_p x[p, j] * dy[p, 4v + l]` for `j < kb`,
 * `v < cv`, lanes `l < 4`, over `images` (>= 1) images of `oh` (>= 1) rows of `ow` (>= 1) pixels,
 * accumulated in float32 registers and then added to float64 `out` (`outRow` bytes per row).
 * `x` points at the input channels `j` (adjacent floats) of the first pixel's input; it advances
 * `xPixel` bytes per pixel, `xRowJump` more after each row and `xImageJump` more after each
 * image, so a zero-padded NHWC input is read in place for any stride. `dy` (the first pixel's
 * first channel of the block) advances `dyPixel` bytes per pixel.
 */
function dgBody(kb: number, cv: number): number[] {
  const [X, DY, OUT, OUT_ROW, OW, OH, IMAGES, X_PIXEL, X_ROW_JUMP, X_IMAGE_JUMP, DY_PIXEL] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [COL, ROW] = [11, 12]; // i32
  const acc = (j: number, v: number) => 13 + j * cv + v; // v128
  const splat = (j: number) => 13 + kb * cv + j; // v128
  const D = 13 + kb * cv + kb; // v128
  const body: number[] = [...uleb(2), ...uleb(2), I32, ...uleb(kb * cv + kb + 1), V128];
  for (let j = 0; j < kb; j++) for (let v = 0; v < cv; v++) body.push(...op.v128Const(Array<number>(16).fill(0)), ...op.set(acc(j, v)));
  body.push(...op.loop, ...op.get(OH), ...op.set(ROW), ...op.loop, ...op.get(OW), ...op.set(COL), ...op.loop);
  for (let j = 0; j < kb; j++) body.push(...op.get(X), ...f32LoadAt(4 * j), ...op.f32x4Splat, ...op.set(splat(j)));
  for (let v = 0; v < cv; v++) {
    body.push(...op.get(DY), ...op.loadAt(16 * v), ...op.set(D));
    for (let j = 0; j < kb; j++) {
      body.push(...op.get(acc(j, v)), ...op.get(splat(j)), ...op.get(D), ...op.f32x4Mul, ...op.f32x4Add, ...op.set(acc(j, v)));
    }
  }
  body.push(...bump(X, X_PIXEL), ...bump(DY, DY_PIXEL), ...countDown(COL));
  body.push(...bump(X, X_ROW_JUMP), ...countDown(ROW));
  body.push(...bump(X, X_IMAGE_JUMP), ...countDown(IMAGES));
  // Flush: out (float64) += acc, low and high lane pairs.
  const high = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
  for (let j = 0; j < kb; j++) {
    for (let v = 0; v < cv; v++) {
      for (const half of [0, 1]) {
        const addr = [...op.get(OUT), ...op.get(OUT_ROW), ...op.i32(j), ...op.mul, ...op.add];
        const value = half === 0 ? op.get(acc(j, v)) : [...op.get(acc(j, v)), ...op.get(acc(j, v)), ...op.shuffle(high)];
        const off = 32 * v + 16 * half;
        body.push(...addr, ...addr, ...op.loadAt(off), ...value, ...op.f64x2PromoteLow, ...op.f64x2Add, ...op.storeAt(off));
      }
    }
  }
  body.push(...op.end);
  return [...uleb(body.length), ...body];
}

/** Taps per filter row of the {@link SimdKernels.dwg} depthwise filter gradient. */
export const DWG_TAPS = 5;

/** The body of `dwg{fw}` (see {@link SimdKernels.dwg}). */
function dwgBody(fw: number): number[] {
  const [X, DY, OUT, OUT_STEP, OW, OH, IMAGES, X_PIXEL, X_ROW_JUMP, X_IMAGE_JUMP, DY_PIXEL, TAP] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const [COL, ROW] = [16, 17]; // i32
  const acc = (t: number) => 18 + t; // v128
  const D = 18 + fw; // v128
  const body: number[] = [...uleb(2), ...uleb(2), I32, ...uleb(fw + 1), V128];
  for (let t = 0; t < fw; t++) body.push(...op.v128Const(Array<number>(16).fill(0)), ...op.set(acc(t)));
  body.push(...op.loop, ...op.get(OH), ...op.set(ROW), ...op.loop, ...op.get(OW), ...op.set(COL), ...op.loop);
  body.push(...op.get(DY), ...op.load, ...op.set(D));
  for (let t = 0; t < fw; t++) {
    const address = t === 0 ? op.get(X) : [...op.get(X), ...op.get(TAP), ...op.i32(t), ...op.mul, ...op.add];
    body.push(...op.get(acc(t)), ...address, ...op.load, ...op.get(D), ...op.f32x4Mul, ...op.f32x4Add, ...op.set(acc(t)));
  }
  body.push(...bump(X, X_PIXEL), ...bump(DY, DY_PIXEL), ...countDown(COL));
  body.push(...bump(X, X_ROW_JUMP), ...countDown(ROW));
  body.push(...bump(X, X_IMAGE_JUMP), ...countDown(IMAGES));
  // Flush: out (float64) += acc, low and high lane pairs.
  const high = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
  for (let t = 0; t < fw; t++) {
    for (const half of [0, 1]) {
      const addr = [...op.get(OUT), ...op.get(OUT_STEP), ...op.i32(t), ...op.mul, ...op.add];
      const value = half === 0 ? op.get(acc(t)) : [...op.get(acc(t)), ...op.get(acc(t)), ...op.shuffle(high)];
      body.push(...addr, ...addr, ...op.loadAt(16 * half), ...value, ...op.f64x2PromoteLow, ...op.f64x2Add, ...op.storeAt(16 * half));
    }
  }
  body.push(...op.end);
  return [...uleb(body.length), ...body];
}

/** 4-channel vectors per call of the {@link SimdKernels.dwc} depthwise convolution (independent sums). */
export const DWC_VECS = 4;
/** Output pixels per iteration of the {@link SimdKernels.dwc} depthwise convolution. */
export const DWC_PIXELS = [1, 2] as const;

/**
 * The body of `dwc{px}p{fw}x{cv}`: `out[p, 4v + l] = sum_kh sum_t x[p + kh * tapY + t * tapX, 4v + l]
 * * w[kh * wRow + t * wTap, 4v + l]` (byte offsets) for `fh` (>= 1) filter rows of `fw` taps, over
 * `images` images of `rows` rows of `ow` blocks of `px` pixels (all >= 1). `x` and `out` advance
 * `xPixel` / `outPixel` bytes per pixel, `xRowJump` / `outRowJump` more after each row and
 * `xImageJump` / `outImageJump` more after each image, so a zero-padded input is read in place
 * at any stride and dilation, and the output may be strided (the phases of a strided input
 * gradient). Each weight vector loaded serves the `px` pixels. Sums run in float32 from 0 in the
 * order (kh, t), like the CPU backend's.
 */
function dwcBody(px: number, fw: number, cv: number): number[] {
  const [X, W, OUT, FH, TAP_Y, TAP_X, W_ROW, W_TAP, OW, ROWS, IMAGES, X_PIXEL, X_ROW_JUMP, X_IMAGE_JUMP, OUT_PIXEL, OUT_ROW_JUMP, OUT_IMAGE_JUMP] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
  ];
  const [ROW, COL, KH, XK, WK, XT, WT] = [17, 18, 19, 20, 21, 22, 23]; // i32
  const acc = (i: number, v: number) => 24 + i * cv + v; // v128
  const WV = 24 + px * cv; // v128
  const at = (ptr: number, step: number, i: number): number[] => (i === 0 ? op.get(ptr) : [...op.get(ptr), ...op.get(step), ...op.i32(i), ...op.mul, ...op.add]);
  const body: number[] = [...uleb(2), ...uleb(7), I32, ...uleb(px * cv + 1), V128];
  body.push(...op.loop, ...op.get(ROWS), ...op.set(ROW)); // images
  body.push(...op.loop, ...op.get(OW), ...op.set(COL)); // rows
  body.push(...op.loop); // blocks of px pixels
  for (let i = 0; i < px; i++) for (let v = 0; v < cv; v++) body.push(...op.v128Const(Array<number>(16).fill(0)), ...op.set(acc(i, v)));
  body.push(...op.get(X), ...op.set(XK), ...op.get(W), ...op.set(WK), ...op.get(FH), ...op.set(KH));
  body.push(...op.loop, ...op.get(XK), ...op.set(XT), ...op.get(WK), ...op.set(WT)); // kh
  for (let t = 0; t < fw; t++) {
    if (t > 0) body.push(...bump(XT, TAP_X), ...bump(WT, W_TAP));
    for (let v = 0; v < cv; v++) {
      body.push(...op.get(WT), ...op.loadAt(16 * v), ...op.set(WV));
      for (let i = 0; i < px; i++) {
        body.push(...op.get(acc(i, v)), ...at(XT, X_PIXEL, i), ...op.loadAt(16 * v), ...op.get(WV), ...op.f32x4Mul, ...op.f32x4Add, ...op.set(acc(i, v)));
      }
    }
  }
  body.push(...bump(XK, TAP_Y), ...bump(WK, W_ROW), ...countDown(KH));
  for (let i = 0; i < px; i++) for (let v = 0; v < cv; v++) body.push(...at(OUT, OUT_PIXEL, i), ...op.get(acc(i, v)), ...op.storeAt(16 * v));
  for (let i = 0; i < px; i++) body.push(...bump(X, X_PIXEL), ...bump(OUT, OUT_PIXEL));
  body.push(...countDown(COL));
  body.push(...bump(X, X_ROW_JUMP), ...bump(OUT, OUT_ROW_JUMP), ...countDown(ROW));
  body.push(...bump(X, X_IMAGE_JUMP), ...bump(OUT, OUT_IMAGE_JUMP), ...countDown(IMAGES));
  body.push(...op.end);
  return [...uleb(body.length), ...body];
}

/** Parameters (0-10) and i32 locals (11-15) of the Winograd tile transforms (see {@link WinoTransform}). */
const WT = { X: 0, V: 1, PLANE: 2, GROUPS: 3, IMAGES: 4, ROWS: 5, TILES: 6, X_PIXEL: 7, X_ROW: 8, X_ROW_JUMP: 9, X_IMAGE_JUMP: 10, ROW: 11, TILE: 12, G: 13, P: 14, Q: 15 };

/**
 * The loops of a Winograd tile transform: images, rows of tiles, tiles (each 2 pixels after the
 * previous one), groups of 4 channels; `inner` runs per tile and group with `P` at the group's
 * top-left pixel and `Q` at its place in plane 0. `v128Locals` v128 locals follow the i32 ones
 * (from index 16); `prelude` runs once.
 */
function tileTransformBody(v128Locals: number, prelude: number[], inner: number[]): number[] {
  const { X, V, GROUPS, IMAGES, ROWS, TILES, X_PIXEL, X_ROW_JUMP, X_IMAGE_JUMP, ROW, TILE, G, P, Q } = WT;
  const body: number[] = [...uleb(2), ...uleb(5), I32, ...uleb(v128Locals), V128, ...prelude];
  body.push(...op.loop, ...op.get(ROWS), ...op.set(ROW)); // images
  body.push(...op.loop, ...op.get(TILES), ...op.set(TILE)); // rows of tiles
  body.push(...op.loop, ...op.get(X), ...op.set(P), ...op.get(V), ...op.set(Q), ...op.get(GROUPS), ...op.set(G)); // tiles
  body.push(...op.loop, ...inner, ...bumpBy(P, 16), ...bumpBy(Q, 16), ...countDown(G)); // channel groups
  // Next tile: 2 pixels right; the planes: the next tile's channels.
  body.push(...op.get(X), ...op.get(X_PIXEL), ...op.i32(2), ...op.mul, ...op.add, ...op.set(X));
  body.push(...op.get(V), ...op.get(GROUPS), ...op.i32(16), ...op.mul, ...op.add, ...op.set(V));
  body.push(...countDown(TILE));
  body.push(...bump(X, X_ROW_JUMP), ...countDown(ROW));
  body.push(...bump(X, X_IMAGE_JUMP), ...countDown(IMAGES));
  body.push(...op.end);
  return [...uleb(body.length), ...body];
}

/** Loads the tile pixel (i, j) of the current channel group (see {@link tileTransformBody}). */
const tilePixel = (i: number, j: number): number[] => [
  ...op.get(WT.P),
  ...(i === 0 ? [] : [...op.get(WT.X_ROW), ...op.i32(i), ...op.mul, ...op.add]),
  ...(j === 0 ? [] : [...op.get(WT.X_PIXEL), ...op.i32(j), ...op.mul, ...op.add]),
  ...op.load,
];

/** Stores `value` to plane `k` of the current tile and channel group. */
const planeStore = (k: number, value: number[]): number[] => [...op.get(WT.Q), ...op.get(WT.PLANE), ...op.i32(k), ...op.mul, ...op.add, ...value, ...op.store];

/**
 * The body of `winoIn`: per 4x4 input tile and group of 4 channels `d`, the 16 values
 * `(Bᵀ d B)[k]` with `Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]` (additions
 * only: exact up to float32 rounding), to planes `k = 4r + s`.
 */
function winoInBody(): number[] {
  const D = (i: number, j: number) => 16 + 4 * i + j; // v128: the tile
  const T = (r: number, j: number) => 32 + 4 * r + j; // v128: Bᵀ d
  const inner: number[] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) inner.push(...tilePixel(i, j), ...op.set(D(i, j)));
  // [a, b, c, d] -> [a - c, b + c, c - b, b - d]
  const bt = (v: (i: number) => number[]): number[][] => [
    [...v(0), ...v(2), ...op.f32x4Sub],
    [...v(1), ...v(2), ...op.f32x4Add],
    [...v(2), ...v(1), ...op.f32x4Sub],
    [...v(1), ...v(3), ...op.f32x4Sub],
  ];
  for (let j = 0; j < 4; j++) bt((i) => op.get(D(i, j))).forEach((e, r) => inner.push(...e, ...op.set(T(r, j))));
  for (let r = 0; r < 4; r++) bt((j) => op.get(T(r, j))).forEach((e, s2) => inner.push(...planeStore(4 * r + s2, e)));
  return tileTransformBody(32, [], inner);
}

/**
 * The body of `winoDy`: per 2x2 `dy` tile and group of 4 channels `g`, the 16 values
 * `(G' g G'ᵀ)[k]` with `G' = [[1, 0], [1/2, 1/2], [1/2, -1/2], [0, -1]]`: with `winoIn`'s `Bᵀ`,
 * the products of the two transforms summed over tiles and mapped back by
 * `Aᵀ = [[1, 1, 1, 0], [0, 1, -1, 0], [0, 1, 1, 1]]` give the 3x3 filter gradient (Winograd
 * F(3x3, 2x2); the last row of `G'` is negated because `winoIn`'s last row of `Bᵀ` is F(2x2,
 * 3x3)'s). Halvings and negations are exact.
 */
function winoDyBody(): number[] {
  const D = (i: number, j: number) => 16 + 2 * i + j; // v128: the 2x2 tile
  const T = (r: number, j: number) => 20 + 2 * r + j; // v128: G' g (4 x 2)
  const HALF = 28; // v128
  const inner: number[] = [];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) inner.push(...tilePixel(i, j), ...op.set(D(i, j)));
  // [a, b] -> [a, (a + b) / 2, (a - b) / 2, -b]
  const expand = (a: number[], b: number[]): number[][] => [
    a,
    [...a, ...b, ...op.f32x4Add, ...op.get(HALF), ...op.f32x4Mul],
    [...a, ...b, ...op.f32x4Sub, ...op.get(HALF), ...op.f32x4Mul],
    [...b, ...op.f32x4Neg],
  ];
  for (let j = 0; j < 2; j++) expand(op.get(D(0, j)), op.get(D(1, j))).forEach((e, r) => inner.push(...e, ...op.set(T(r, j))));
  for (let r = 0; r < 4; r++) expand(op.get(T(r, 0)), op.get(T(r, 1))).forEach((e, s2) => inner.push(...planeStore(4 * r + s2, e)));
  return tileTransformBody(13, [...f32x4Const(0.5), ...op.set(HALF)], inner);
}

/**
 * The body of `wout` / `woutr`: the inverse of {@link winoInBody}'s layout for the products `m`
 * (16 planes `plane` bytes apart, 4 * `groups` channels per tile): each tile's 2x2 output pixels
 * `Y = Aᵀ m A + bias` with `Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]]`, then (`relu`) negative values
 * become 0 (pmax keeps NaN and -0, like `cfBody`). `out` points at the first tile's top-left
 * output pixel; pixels `outPixel` bytes apart, rows `outRow`; `outRowJump` / `outImageJump` more
 * after a row of tiles / an image; `bias` holds 4 * `groups` floats.
 */
function winoOutBody(relu: boolean): number[] {
  const [M, OUT, PLANE, GROUPS, IMAGES, ROWS, TILES, OUT_PIXEL, OUT_ROW, OUT_ROW_JUMP, OUT_IMAGE_JUMP, BIAS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const [ROW, TILE, G, P, Q, BP] = [16, 17, 18, 19, 20, 21]; // i32
  const K = (k: number) => 22 + k; // v128: the 16 products
  const T = (a: number, s: number) => 38 + 4 * a + s; // v128: Aᵀ m (2 x 4)
  const B = 46; // v128: bias
  const body: number[] = [...uleb(2), ...uleb(6), I32, ...uleb(25), V128];
  body.push(...op.loop, ...op.get(ROWS), ...op.set(ROW)); // images
  body.push(...op.loop, ...op.get(TILES), ...op.set(TILE)); // rows of tiles
  body.push(...op.loop, ...op.get(M), ...op.set(Q), ...op.get(OUT), ...op.set(P), ...op.get(BIAS), ...op.set(BP), ...op.get(GROUPS), ...op.set(G)); // tiles
  body.push(...op.loop); // channel groups
  for (let k = 0; k < 16; k++) body.push(...op.get(Q), ...(k === 0 ? [] : [...op.get(PLANE), ...op.i32(k), ...op.mul, ...op.add]), ...op.load, ...op.set(K(k)));
  body.push(...op.get(BP), ...op.load, ...op.set(B));
  for (let s = 0; s < 4; s++) {
    body.push(...op.get(K(s)), ...op.get(K(4 + s)), ...op.f32x4Add, ...op.get(K(8 + s)), ...op.f32x4Add, ...op.set(T(0, s)));
    body.push(...op.get(K(4 + s)), ...op.get(K(8 + s)), ...op.f32x4Sub, ...op.get(K(12 + s)), ...op.f32x4Sub, ...op.set(T(1, s)));
  }
  const zero = op.v128Const(Array<number>(16).fill(0));
  for (let a = 0; a < 2; a++) {
    const ys = [
      [...op.get(T(a, 0)), ...op.get(T(a, 1)), ...op.f32x4Add, ...op.get(T(a, 2)), ...op.f32x4Add],
      [...op.get(T(a, 1)), ...op.get(T(a, 2)), ...op.f32x4Sub, ...op.get(T(a, 3)), ...op.f32x4Sub],
    ];
    ys.forEach((y, b) => {
      const address = [...op.get(P), ...(a === 0 ? [] : op.get(OUT_ROW).concat(op.add)), ...(b === 0 ? [] : op.get(OUT_PIXEL).concat(op.add))];
      body.push(...address, ...y, ...op.get(B), ...op.f32x4Add, ...(relu ? [...zero, ...op.f32x4Pmax] : []), ...op.store);
    });
  }
  body.push(...bumpBy(P, 16), ...bumpBy(Q, 16), ...bumpBy(BP, 16), ...countDown(G));
  body.push(...op.get(OUT), ...op.get(OUT_PIXEL), ...op.i32(2), ...op.mul, ...op.add, ...op.set(OUT));
  body.push(...op.get(M), ...op.get(GROUPS), ...op.i32(16), ...op.mul, ...op.add, ...op.set(M));
  body.push(...countDown(TILE));
  body.push(...bump(OUT, OUT_ROW_JUMP), ...countDown(ROW));
  body.push(...bump(OUT, OUT_IMAGE_JUMP), ...countDown(IMAGES));
  body.push(...op.end);
  return [...uleb(body.length), ...body];
}

/** The functions of the module, in export order. */
function functions(): Array<[string, number, number[]]> {
  // [name, type (0: 7 i32 params, 1: 11 i32 params, 2: 16 i32 params, 3: 17 i32 params), body]
  const fns: Array<[string, number, number[]]> = [
    ['maxPoolGrad2x2', 0, maxPoolGrad2x2Body()],
    ['maxPool2x2', 0, maxPool2x2Body()],
    ['avgPoolGrad2x2', 0, avgPoolGrad2x2Body()],
    ['imageRows', 1, imageRowsBody()],
    ...Object.entries(ROW_OPS).map(([name, [opcode, vectorFirst]]): [string, number, number[]] => [name, 0, rowOpBody(opcode, vectorFirst)]),
    ['sumRows', 0, sumRowsBody()],
    ['rowAffine', 0, rowAffineBody()],
    ['adam', 2, adamBody()],
    ['reluGrad', 0, reluGradBody()],
    ['winoIn', 1, winoInBody()],
    ['winoDy', 1, winoDyBody()],
    ['wout', 2, winoOutBody(false)],
    ['woutr', 2, winoOutBody(true)],
  ];
  for (let kb = 1; kb <= DG_ROWS; kb++) for (let cv = 1; cv <= DG_VECS; cv++) fns.push([`dg${kb}x${cv}`, 1, dgBody(kb, cv)]);
  for (let fw = 1; fw <= DWG_TAPS; fw++) fns.push([`dwg${fw}`, 2, dwgBody(fw)]);
  for (const px of DWC_PIXELS) {
    for (let fw = 1; fw <= DWG_TAPS; fw++) for (let cv = 1; cv <= DWC_VECS; cv++) fns.push([`dwc${px}p${fw}x${cv}`, 3, dwcBody(px, fw, cv)]);
  }
  for (const px of CF_PIXELS) {
    for (let cv = 1; cv <= CF_VECS; cv++) {
      fns.push([`cf${px}x${cv}`, 3, cfBody(px, cv, false)]);
      fns.push([`cfr${px}x${cv}`, 3, cfBody(px, cv, true)]);
    }
  }
  return fns;
}

/** The module's bytes. */
export function simdModuleBytes(): Uint8Array<ArrayBuffer> {
  const fns = functions();
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [
      ...uleb(4),
      ...[0x60, ...uleb(7), ...Array<number>(7).fill(I32), ...uleb(0)],
      ...[0x60, ...uleb(11), ...Array<number>(11).fill(I32), ...uleb(0)],
      ...[0x60, ...uleb(16), ...Array<number>(16).fill(I32), ...uleb(0)],
      ...[0x60, ...uleb(17), ...Array<number>(17).fill(I32), ...uleb(0)],
    ]),
    ...section(2, [...uleb(1), ...str('env'), ...str('memory'), 0x02, 0x00, ...uleb(0)]),
    ...section(3, [...uleb(fns.length), ...fns.flatMap(([, type]) => uleb(type))]),
    ...section(7, [...uleb(fns.length), ...fns.flatMap(([name], i) => [...str(name), 0x00, ...uleb(i)])]),
    ...section(10, [...uleb(fns.length), ...fns.flatMap(([, , body]) => body)]),
  ];
  return new Uint8Array(bytes);
}

interface WasmModuleLike {
  asm?: { memory?: unknown };
}

const instances = new WeakMap<WebAssembly.Memory, SimdKernels | null>();
let compiled: WebAssembly.Module | null | undefined;
let enabled = true;

/** Turns the SIMD paths off (tests of the JavaScript fallbacks) or back on. */
export function setSimdEnabled(on: boolean): void {
  enabled = on;
}

/**
 * The SIMD kernels bound to `backend`'s heap, or null where they cannot run (engine without
 * wasm SIMD, memory not exported, shared memory of the threaded builds).
 */
export function simdKernels(backend: WasmBackendLike): SimdKernels | null {
  if (!enabled) return null;
  const memory = (backend as unknown as { wasm?: WasmModuleLike }).wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  const cached = instances.get(memory);
  if (cached !== undefined) return cached;
  let kernels: SimdKernels | null = null;
  try {
    if (typeof SharedArrayBuffer === 'undefined' || !(memory.buffer instanceof SharedArrayBuffer)) {
      if (compiled === undefined) {
        const bytes = simdModuleBytes();
        compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
      }
      if (compiled != null) {
        const instance = new WebAssembly.Instance(compiled, { env: { memory } });
        kernels = instance.exports as unknown as SimdKernels;
      }
    }
  } catch {
    kernels = null;
  }
  instances.set(memory, kernels);
  return kernels;
}

/** Byte offset of `t`'s data in the heap, when it is stored there as float32 (else null). */
export function floatOffset(backend: WasmBackendLike, t: TensorInfo): number | null {
  if (storedDtype(backend, t) !== 'float32') return null;
  const offset = backend.dataIdMap.get(t.dataId)?.memoryOffset;
  return typeof offset === 'number' ? offset : null;
}
