/**
 * Data movement: `Identity` and `Cast` without copies, `GatherV2`, `OneHot`, `Tile`.
 *
 * @internal
 * @packageDocumentation
 */
import { backend_util, util, type DataType, type KernelFunc } from '@tensorflow/tfjs';
import { heapViews, kernel, share, storedDtype, type Inputs, type WasmBackendLike } from './wasm.js';

/**
 * `Identity` shares the data (a reference count, like the CPU backend's and the wasm `Reshape`)
 * instead of copying it: tfjs clones every tensor it saves for a gradient, and on wasm each
 * clone was a full copy. Data stored as another dtype (bool bytes behind an int32 tensor) is
 * copied converted instead.
 */
export const identity: KernelFunc = (args) => {
  const { x } = args.inputs as Inputs;
  if (x.dtype === 'string') return kernel('Identity').kernelFunc(args);
  const be = args.backend as unknown as WasmBackendLike;
  if (storedDtype(be, x) === x.dtype) return share(be, x, x.shape.slice());
  const out = be.makeOutput(x.shape.slice(), x.dtype);
  const [dst, src] = heapViews(be, out, x);
  dst.set(src);
  return out;
};

/**
 * `Cast` to the dtype the data is already stored as shares it (tfjs's relu gradient casts a
 * float32 tensor to float32 on every step). Casts to bool write `x != 0` (the stock wasm kernel
 * truncates: 2.5 became 2, 256 became 0); data stored as another dtype than the tensor's is
 * converted from what is stored. float32 ↔ int32 runs the stock kernel.
 */
export const cast: KernelFunc = (args) => {
  const { x } = args.inputs as Inputs;
  const { dtype } = args.attrs as { dtype: DataType };
  const numeric = (d: DataType) => d === 'float32' || d === 'int32' || d === 'bool';
  if (!numeric(x.dtype) || !numeric(dtype)) return kernel('Cast').kernelFunc(args);
  const be = args.backend as unknown as WasmBackendLike;
  const stored = storedDtype(be, x);
  if (stored === dtype) return share(be, x, x.shape.slice(), dtype);
  if (stored === x.dtype && dtype !== 'bool') return kernel('Cast').kernelFunc(args);
  const out = be.makeOutput(x.shape.slice(), dtype);
  const [dst, src] = heapViews(be, out, x);
  if (dtype === 'bool') {
    for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
  } else {
    dst.set(src);
  }
  return out;
};

/** GatherV2 as contiguous slice copies: the stock wasm kernel walks element by element. */
export const gatherV2: KernelFunc = ({ inputs, backend, attrs }) => {
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
export const oneHot: KernelFunc = ({ inputs, backend, attrs }) => {
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

/**
 * `Tile` as copies over the heap: the input is written once into the output's "corner", then
 * each axis, innermost first, is completed by doubling `copyWithin`s of the contiguous slab it
 * already holds, so every output element is written once, by native copies (the stock kernel
 * computes an index per element: 42 ms for the 64 x 32 x 32 x 16 expansion of a batch-norm
 * gradient, this ~1 ms). Any dtype stored on the heap (float32, int32, bool); strings: stock kernel.
 */
export const tile: KernelFunc = (args) => {
  const { x } = args.inputs as Inputs;
  const { reps } = args.attrs as unknown as { reps: number[] };
  if (x.dtype === 'string' || reps.length !== x.shape.length) return kernel('Tile').kernelFunc(args);
  const be = args.backend as unknown as WasmBackendLike;
  const dims = x.shape;
  const rank = dims.length;
  const outShape = dims.map((d, i) => d * reps[i]);
  const out = be.makeOutput(outShape, x.dtype);
  if (util.sizeFromShape(outShape) === 0) return out;
  const [o, v] = heapViews(be, out, x);
  if (rank === 0) {
    o.set(v);
    return out;
  }
  const stride = new Array<number>(rank);
  stride[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) stride[i] = stride[i + 1] * outShape[i + 1];
  /** Calls `fn(offset)` for every index of axes [0, a) inside the input's extent (the corner). */
  const corners = (a: number, fn: (offset: number) => void): void => {
    const idx = new Array<number>(a).fill(0);
    for (;;) {
      let offset = 0;
      for (let j = 0; j < a; j++) offset += idx[j] * stride[j];
      fn(offset);
      let j = a - 1;
      while (j >= 0 && ++idx[j] === dims[j]) idx[j--] = 0;
      if (j < 0) return;
    }
  };
  // 1. The input, row by row, into the corner (TypedArray#set converts data stored as another dtype).
  const row = dims[rank - 1];
  let src = 0;
  corners(rank - 1, (dst) => {
    if (row >= 16) o.set(v.subarray(src, src + row), dst);
    else for (let k = 0; k < row; k++) o[dst + k] = v[src + k];
    src += row;
  });
  // 2. Each axis, innermost first: repeat the corner slab (its inner axes already complete).
  for (let a = rank - 1; a >= 0; a--) {
    if (reps[a] === 1) continue;
    const slab = dims[a] * stride[a];
    const total = slab * reps[a];
    corners(a, (base) => {
      for (let filled = slab; filled < total; ) {
        const n = Math.min(filled, total - filled);
        o.copyWithin(base + filled, base, base + n);
        filled += n;
      }
    });
  }
  return out;
};
