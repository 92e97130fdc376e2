/**
 * Fast, exact training kernels for the TensorFlow.js wasm backend.
 *
 * The stock `@tensorflow/tfjs-backend-wasm` 4.22 runs transposed `BatchMatMul` (every
 * backward pass of a dense layer) an order of magnitude slower than the untransposed
 * case, runs `Conv2DBackpropInput` and `MaxPoolGrad` with naive loops, and does not
 * register `Conv2DBackpropFilter`, the depthwise gradients or `UnsortedSegmentSum` at all,
 * so CNNs and embeddings cannot train on wasm. {@link registerWasmTrainingKernels}
 * replaces or adds those kernels with compositions of the fast (XNNPACK-backed) wasm
 * kernels that are already there: `Transpose`, `Conv2D`, `DepthwiseConv2dNative`,
 * `PadV2`, `Slice`, `Reverse`, `Sum`, `ScatterNd` and the original
 * untransposed `BatchMatMul`. Every composition computes exactly the same sums as the
 * CPU backend (up to float32 summation order) and frees every intermediate buffer.
 *
 * @packageDocumentation
 */
import {
  backend_util,
  getKernel,
  registerKernel,
  unregisterKernel,
  util,
  type DataType,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs';

/**
 * Names of the kernels that {@link registerWasmTrainingKernels} registers for the
 * `'wasm'` backend, in registration order.
 *
 * - `BatchMatMul`, `_FusedMatMul`: transposed operands are transposed explicitly with the
 *   wasm `Transpose` kernel, then the original (fast) untransposed wasm kernel runs.
 * - `Conv2DBackpropFilter`: a wasm `Conv2D` over the input with batch and channel axes
 *   swapped, using `dy` as the filter (forward strides become dilations).
 * - `Conv2DBackpropInput`: a wasm `Conv2D` of the (stride-dilated, padded) `dy` with the
 *   spatially flipped, in/out-transposed filter.
 * - `DepthwiseConv2dNativeBackpropFilter`, `DepthwiseConv2dNativeBackpropInput`: the same
 *   two constructions with the wasm `DepthwiseConv2dNative` kernel (plus a `Sum` over the
 *   channel multiplier or batch axis).
 * - `UnsortedSegmentSum`: the wasm `ScatterNd` kernel (which sums duplicate indices);
 *   out-of-range segment ids are dropped like on the CPU backend.
 * - `MaxPoolGrad`: one pass over the wasm heap (first maximum of each window, like the
 *   CPU backend). It is memory-bound, and compositions of wasm kernels cost several full
 *   passes each. The stock wasm `MaxPoolGrad` is slow and also wrong for windows whose
 *   values are all <= 0 (it sends their gradient to the window's first element).
 *
 * - `GatherV2`: row copies with `TypedArray#set` over the wasm heap (about 10x faster than
 *   the stock kernel for a shuffled batch of 128 MNIST rows, 3.2 ms before), with the same
 *   out-of-range error as the stock kernel.
 * - `OneHot`: the stock wasm kernel always writes int32 values, even for `dtype: 'float32'`
 *   (so `tf.oneHot(labels, n, 1, 0, 'float32')` holds denormal garbage); this one writes the
 *   requested dtype in one pass over the wasm heap.
 *
 * @example
 * ```ts
 * import { wasmTrainingKernelNames } from '@luzts/wasm-kernels';
 * console.log(wasmTrainingKernelNames.includes('Conv2DBackpropFilter')); // true
 * ```
 */
export const wasmTrainingKernelNames: readonly string[] = Object.freeze([
  'BatchMatMul',
  '_FusedMatMul',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
  'MaxPoolGrad',
  'OneHot',
  'GatherV2',
]);

const BACKEND = 'wasm';
/** The stock wasm kernels the compositions call. */
const COMPOSED_FROM = [
  'Transpose',
  'Conv2D',
  'DepthwiseConv2dNative',
  'PadV2',
  'Slice',
  'Reverse',
  'Sum',
  'ScatterNd',
];

/** The slice of `BackendWasm` the compositions use. */
interface WasmBackendLike {
  dataIdMap: { get(dataId: object): { id: number; dtype?: DataType } | undefined };
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number, values?: Int32Array): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

type Inputs = Record<string, TensorInfo>;
type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

/** Original wasm kernel configs captured before they were overridden. */
const originals = new Map<string, KernelConfig>();
/** Our configs, to recognise them on a second call. */
const ours = new Set<KernelFunc>();
let registered: string[] | null = null;

function kernel(name: string): KernelConfig {
  const config = originals.get(name) ?? getKernel(name, BACKEND);
  if (config == null) {
    throw new Error(`@luzts/wasm-kernels: the wasm backend has no '${name}' kernel to compose with.`);
  }
  return config;
}

function run(name: string, inputs: Inputs, attrs: object, backend: WasmBackendLike): TensorInfo {
  return kernel(name).kernelFunc({
    inputs: inputs as never,
    attrs: attrs as NamedAttrMap,
    backend: backend as never,
  }) as TensorInfo;
}

/** A reshaped alias of `t` that owns nothing (never dispose it; dispose `t`). */
function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

function free(backend: WasmBackendLike, ...ts: TensorInfo[]): void {
  for (const t of ts) backend.disposeData(t.dataId);
}

/**
 * Heap views of several tensors, taken together. Looking a tensor up moves it to wasm when it
 * still lives on another backend, and that allocation can grow the wasm memory, which detaches
 * every view taken before it: so all lookups happen first, then all views. Allocate outputs
 * (`makeOutput`) before calling this.
 */
function heapViews(backend: WasmBackendLike, ...ts: TensorInfo[]): Array<Float32Array | Int32Array | Uint8Array> {
  // The stored dtype can differ from the tensor's: tfjs casts bool → int32 on the CPU backend
  // without copying, and a later move to wasm keeps the bytes as bool. View what is stored;
  // TypedArray#set converts element by element.
  const stored = ts.map((t) => (backend.dataIdMap.get(t.dataId) as { dtype?: DataType } | undefined)?.dtype ?? t.dtype);
  return ts.map((t, i) => backend.typedArrayFromHeap({ ...t, dtype: stored[i] }));
}

function size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

function transpose(backend: WasmBackendLike, x: TensorInfo, perm: number[]): TensorInfo {
  return run('Transpose', { x }, { perm }, backend);
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

function assertChannelsLast(kernelName: string, convInfo: backend_util.Conv2DInfo): void {
  if (convInfo.dataFormat !== 'channelsLast') {
    throw new Error(
      `@luzts/wasm-kernels: ${kernelName} on wasm does not support dataFormat 'NCHW' ` +
        `(${convInfo.dataFormat}; the wasm Conv2D kernel is channelsLast only); use dataFormat 'NHWC'.`,
    );
  }
}

function assertFloat32(kernelName: string, ...ts: TensorInfo[]): void {
  for (const t of ts) {
    if (t.dtype !== 'float32') {
      throw new Error(`@luzts/wasm-kernels: ${kernelName} on wasm supports float32 only, got dtype '${t.dtype}'.`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// BatchMatMul / _FusedMatMul

function swapLastTwo(backend: WasmBackendLike, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return transpose(backend, x, perm);
}

function makeMatMul(name: 'BatchMatMul' | '_FusedMatMul'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const original = kernel(name);
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) {
      return original.kernelFunc({ inputs, backend, attrs });
    }
    const be = backend as unknown as WasmBackendLike;
    const { a, b } = inputs as Inputs;
    const temps: TensorInfo[] = [];
    let a2 = a;
    let b2 = b;
    if (transposeA) temps.push((a2 = swapLastTwo(be, a)));
    if (transposeB) temps.push((b2 = swapLastTwo(be, b)));
    try {
      return original.kernelFunc({
        inputs: { ...inputs, a: a2, b: b2 },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
    } finally {
      free(be, ...temps);
    }
  };
}

// ---------------------------------------------------------------------------------------
// Convolution gradients

/**
 * Filter gradient of a (depthwise or ordinary) NHWC convolution as one forward wasm
 * convolution of the input with `dy` used as the filter.
 */
function convFilterGrad(
  kernelName: string,
  backend: WasmBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  convInfo: backend_util.Conv2DInfo,
  depthwise: boolean,
): TensorInfo {
  assertChannelsLast(kernelName, convInfo);
  assertFloat32(kernelName, x, dy);
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
    if (!depthwise) {
      // Input: channels become the batch, the batch becomes the channels.
      const xt = transpose(backend, x, [3, 1, 2, 0]); // [ci, h, w, n]
      temps.push(xt);
      const dyt = transpose(backend, dy, [1, 2, 0, 3]); // [oh, ow, n, co]
      temps.push(dyt);
      const cropped = cropForPads(backend, xt, pads, temps);
      const out = run(
        'Conv2D',
        { x: cropped.x, filter: dyt },
        { strides: [dh, dw], pad: explicitPad(cropped.pads), dataFormat: 'NHWC', dilations: [sh, sw], dimRoundingMode: undefined },
        backend,
      ); // [ci, fh, fw, co]
      temps.push(out);
      return transpose(backend, out, [1, 2, 0, 3]); // [fh, fw, ci, co]
    }
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
    if (n === 1) {
      backend.incRef(out.dataId);
      return view(out, [fh, fw, ci, mult]);
    }
    return run('Sum', { x: view(out, [fh, fw, ci, n, mult]) }, { axis: [3], keepDims: false }, backend);
  } finally {
    free(backend, ...temps);
  }
}

/**
 * Input gradient of a (depthwise or ordinary) NHWC convolution as one forward wasm
 * convolution of the stride-dilated `dy` with the flipped filter.
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
    // Dilate dy by the strides: [n, oh, ow, co] -> [n, oh*sh, ow*sw, co] with zeros
    // between (and sh-1 / sw-1 trailing zero rows / columns, accounted for below).
    let d = dy;
    if (sh > 1 || sw > 1) {
      const padded = run(
        'PadV2',
        { x: view(dy, [n * oh, 1, ow, 1, co]) },
        {
          paddings: [
            [0, 0],
            [0, sh - 1],
            [0, 0],
            [0, sw - 1],
            [0, 0],
          ],
          constantValue: 0,
        },
        backend,
      );
      temps.push(padded);
      d = view(padded, [n, oh * sh, ow * sw, co]);
    }
    // dx[ih] = sum_k D[ih + top - (fh-1)*dh + k*dh] * Wflip[k]
    const lenH = (oh - 1) * sh + 1;
    const lenW = (ow - 1) * sw + 1;
    const padTop = (fh - 1) * dh - padInfo.top;
    const padLeft = (fw - 1) * dw - padInfo.left;
    const pads: [number, number, number, number] = [
      padTop,
      h - lenH + padInfo.top - (sh - 1),
      padLeft,
      w - lenW + padInfo.left - (sw - 1),
    ];
    const cropped = cropForPads(backend, d, pads, temps);
    const flipped = run('Reverse', { x: filter }, { dims: [0, 1] }, backend); // [fh, fw, ci, co|m]
    temps.push(flipped);
    if (!depthwise) {
      const wt = transpose(backend, flipped, [0, 1, 3, 2]); // [fh, fw, co, ci]
      temps.push(wt);
      return run(
        'Conv2D',
        { x: cropped.x, filter: wt },
        { strides: [1, 1], pad: explicitPad(cropped.pads), dataFormat: 'NHWC', dilations: [dh, dw], dimRoundingMode: undefined },
        backend,
      );
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

const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
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
  return convFilterGrad('Conv2DBackpropFilter', backend as unknown as WasmBackendLike, x, dy, convInfo, false);
};

const conv2DBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
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
  return convInputGrad('Conv2DBackpropInput', backend as unknown as WasmBackendLike, dy, filter, convInfo, false);
};

const depthwiseBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
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
  return convFilterGrad(
    'DepthwiseConv2dNativeBackpropFilter',
    backend as unknown as WasmBackendLike,
    x,
    dy,
    convInfo,
    true,
  );
};

const depthwiseBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
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

// ---------------------------------------------------------------------------------------
// UnsortedSegmentSum

const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as WasmBackendLike;
  const { x, segmentIds } = inputs as Inputs;
  const { numSegments } = attrs as unknown as { numSegments: number };
  const numIds = size(segmentIds.shape);
  const rest = x.shape.slice(segmentIds.shape.length);
  const outShape = [numSegments, ...rest];
  if (segmentIds.dtype !== 'int32') {
    throw new Error(`@luzts/wasm-kernels: UnsortedSegmentSum on wasm needs int32 segmentIds, got '${segmentIds.dtype}'.`);
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`@luzts/wasm-kernels: UnsortedSegmentSum on wasm supports float32 and int32 x, got '${x.dtype}'.`);
  }
  const temps: TensorInfo[] = [];
  try {
    // Out-of-range ids are dropped (as on the CPU backend): send them to an extra
    // segment that is sliced away.
    const [ids] = heapViews(be, segmentIds);
    let bad = false;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= numSegments) {
        bad = true;
        break;
      }
    }
    let indices = view(segmentIds, [numIds, 1]);
    let scatterShape = outShape;
    if (bad) {
      const remapped = new Int32Array(numIds);
      for (let i = 0; i < numIds; i++) remapped[i] = ids[i] < 0 || ids[i] >= numSegments ? numSegments : ids[i];
      const fixed = be.makeOutput([numIds, 1], 'int32', undefined, remapped);
      temps.push(fixed);
      indices = fixed;
      scatterShape = [numSegments + 1, ...rest];
    }
    const out = run(
      'ScatterNd',
      { indices, updates: view(x, [numIds, ...rest]) },
      { shape: scatterShape },
      be,
    );
    if (!bad) return out;
    temps.push(out);
    return run('Slice', { x: out }, { begin: outShape.map(() => 0), size: outShape }, be);
  } finally {
    free(be, ...temps);
  }
};

// ---------------------------------------------------------------------------------------
// MaxPoolGrad

const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as WasmBackendLike;
  const { dy, input } = inputs as Inputs;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  assertFloat32('MaxPoolGrad', dy, input);
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const {
    batchSize: n,
    inHeight: h,
    inWidth: w,
    inChannels: c,
    outHeight: oh,
    outWidth: ow,
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: kh,
    filterWidth: kw,
    padInfo,
  } = info;
  // One memory-bound pass over the wasm heap: no FLOPs to hand to XNNPACK, and every
  // composition of wasm kernels (window Transpose, ArgMax, Gather, int Add, ScatterNd)
  // costs several full passes (40-95 ms for the benchmark CNN). The output is made
  // first: allocating may grow the wasm memory and detach earlier heap views.
  const out = be.makeOutput(input.shape.slice(), 'float32');
  const [dx, x, g] = heapViews(be, out, input, dy) as Float32Array[];
  dx.fill(0);
  const rowStride = w * c;
  const batchStride = h * rowStride;
  let gi = 0;
  for (let b = 0; b < n; b++) {
    const xb = b * batchStride;
    for (let yr = 0; yr < oh; yr++) {
      const r0 = yr * sh - padInfo.top;
      const rStart = Math.max(0, r0);
      const rEnd = Math.min(h, r0 + kh);
      for (let xc = 0; xc < ow; xc++) {
        const c0 = xc * sw - padInfo.left;
        const cStart = Math.max(0, c0);
        const cEnd = Math.min(w, c0 + kw);
        for (let ch = 0; ch < c; ch++, gi++) {
          // First maximum in row-major window order, like the CPU backend.
          let best = Number.NEGATIVE_INFINITY;
          let pos = -1;
          for (let r = rStart; r < rEnd; r++) {
            let k = xb + r * rowStride + cStart * c + ch;
            for (let q = cStart; q < cEnd; q++, k += c) {
              const v = x[k];
              if (v > best) {
                best = v;
                pos = k;
              }
            }
          }
          if (pos >= 0) dx[pos] += g[gi];
        }
      }
    }
  }
  return out;
};

/** GatherV2 as contiguous slice copies: the stock wasm kernel walks element by element. */
const gatherV2: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as unknown as WasmBackendLike;
  const { x, indices } = inputs as Inputs;
  const { axis, batchDims } = attrs as { axis: number; batchDims: number };
  const parsedAxis = util.parseAxisParam(axis, x.shape)[0];
  const info = backend_util.segment_util.collectGatherOpShapeInfo(x as never, indices as never, parsedAxis, batchDims);
  const out = be.makeOutput(info.outputShape, x.dtype);
  const [ids, src, dst] = heapViews(be, indices, x, out);
  const { batchSize, outerSize, dimSize, sliceSize } = info;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!(id >= 0 && id <= dimSize - 1)) {
      be.disposeData(out.dataId);
      throw new Error(`GatherV2: the index value ${id} is not in [0, ${dimSize - 1}]`);
    }
  }
  if (out.shape.some((d) => d === 0) || x.shape.some((d) => d === 0)) return out;
  const perBatch = ids.length / batchSize;
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let outer = 0; outer < outerSize; outer++) {
      const base = (b * outerSize + outer) * dimSize * sliceSize;
      for (let j = 0; j < perBatch; j++) {
        const start = base + ids[b * perBatch + j] * sliceSize;
        dst.set(src.subarray(start, start + sliceSize), o);
        o += sliceSize;
      }
    }
  }
  return out;
};

/** The stock wasm OneHot writes int32 whatever the dtype: one pass over the heap instead. */
const oneHot: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dtype, depth, onValue, offValue } = attrs as { dtype: DataType; depth: number; onValue: number; offValue: number };
  if (dtype === 'int32') return kernel('OneHot').kernelFunc({ inputs, backend, attrs });
  const be = backend as unknown as WasmBackendLike;
  const { indices } = inputs as Inputs;
  const out = be.makeOutput([...indices.shape, depth], dtype);
  const [ids, values] = heapViews(be, indices, out);
  values.fill(offValue);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id >= 0 && id < depth) values[i * depth + id] = onValue;
  }
  return out;
};

// ---------------------------------------------------------------------------------------
// Registration

const kernelFuncs: Record<string, KernelFunc> = {
  BatchMatMul: makeMatMul('BatchMatMul'),
  _FusedMatMul: makeMatMul('_FusedMatMul'),
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
  UnsortedSegmentSum: unsortedSegmentSum,
  MaxPoolGrad: maxPoolGrad,
  OneHot: oneHot,
  GatherV2: gatherV2,
};

/**
 * Registers the fast training kernels of this package for the tfjs `'wasm'` backend and
 * returns their names (see {@link wasmTrainingKernelNames}).
 *
 * Idempotent: later calls register nothing and return the same list. The original wasm
 * kernels that are overridden (`BatchMatMul`, `_FusedMatMul`, `Conv2DBackpropInput`,
 * `MaxPoolGrad`) are captured first and still serve the cases they are fast at. Call it
 * once, before or after `tf.setBackend('wasm')`; the `@tensorflow/tfjs-backend-wasm`
 * module must have been imported (it registers the kernels this package composes).
 *
 * Unsupported cases throw an error naming the kernel and the attribute (for example
 * `dataFormat: 'NCHW'`): there is never a silent fallback to a slow path.
 *
 * @returns the names of the kernels registered for `'wasm'`.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-wasm';
 * import { registerWasmTrainingKernels } from '@luzts/wasm-kernels';
 *
 * registerWasmTrainingKernels();
 * await tf.setBackend('wasm');
 * // conv2d now trains on wasm, and dense backward passes run ~3x faster:
 * const w = tf.variable(tf.randomNormal([3, 3, 1, 8]));
 * const x = tf.randomNormal([4, 28, 28, 1]);
 * const { grads } = tf.variableGrads(() => tf.conv2d(x, w, 1, 'same').square().mean());
 * ```
 */
export function registerWasmTrainingKernels(): string[] {
  if (registered != null) return registered.slice();
  const names: string[] = [];
  for (const name of wasmTrainingKernelNames) {
    const existing = getKernel(name, BACKEND);
    if (existing != null && !ours.has(existing.kernelFunc)) originals.set(name, existing);
  }
  for (const name of COMPOSED_FROM) {
    if (getKernel(name, BACKEND) == null) {
      throw new Error(
        `@luzts/wasm-kernels: the '${name}' kernel is not registered for 'wasm'; ` +
          `import '@tensorflow/tfjs-backend-wasm' before calling registerWasmTrainingKernels().`,
      );
    }
  }
  for (const name of wasmTrainingKernelNames) {
    const original = originals.get(name);
    if ((name === 'BatchMatMul' || name === '_FusedMatMul' || name === 'OneHot' || name === 'GatherV2') && original == null) continue;
    const kernelFunc = kernelFuncs[name];
    ours.add(kernelFunc);
    const config: KernelConfig = {
      kernelName: name,
      backendName: BACKEND,
      kernelFunc,
      // The original's setup (its cwrap) must still run if the backend initialises later.
      ...(original?.setupFunc ? { setupFunc: original.setupFunc } : {}),
    };
    if (getKernel(name, BACKEND) != null) unregisterKernel(name, BACKEND);
    registerKernel(config);
    names.push(name);
  }
  registered = names;
  return names.slice();
}
