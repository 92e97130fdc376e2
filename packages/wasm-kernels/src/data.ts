/**
 * Data movement: `Identity` and `Cast` without copies, `GatherV2`, `OneHot`.
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
