/**
 * Shared plumbing of the kernels: the slice of the wasm backend they use, calls into the
 * original (stock) wasm kernels, and safe views of the wasm heap.
 *
 * @internal
 * @packageDocumentation
 */
import { backend_util, getKernel, type DataType, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';

export const BACKEND = 'wasm';

/** The slice of `BackendWasm` the kernels use. */
export interface WasmBackendLike {
  dataIdMap: { get(dataId: object): { id: number; dtype?: DataType; memoryOffset?: number } | undefined };
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number, values?: Int32Array): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export type Inputs = Record<string, TensorInfo>;
export type Pad4 = [[number, number], [number, number], [number, number], [number, number]];
export type HeapArray = Float32Array | Int32Array | Uint8Array;

/** Original wasm kernel configs captured before they were overridden (filled at registration). */
export const originals = new Map<string, KernelConfig>();

/** The original wasm kernel `name` (the stock one, even after it was overridden). */
export function kernel(name: string): KernelConfig {
  const config = originals.get(name) ?? getKernel(name, BACKEND);
  if (config == null) {
    throw new Error(`@luzts/wasm-kernels: the wasm backend has no '${name}' kernel to compose with.`);
  }
  return config;
}

/** Runs the original wasm kernel `name`. */
export function run(name: string, inputs: Inputs, attrs: object, backend: WasmBackendLike): TensorInfo {
  return kernel(name).kernelFunc({
    inputs: inputs as never,
    attrs: attrs as NamedAttrMap,
    backend: backend as never,
  }) as TensorInfo;
}

/** A reshaped alias of `t` that owns nothing (never dispose it; dispose `t`). */
export function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/** A new reference to `t`'s data under another shape (the caller owns it, like a kernel output). */
export function share(backend: WasmBackendLike, t: TensorInfo, shape: number[], dtype: DataType = t.dtype): TensorInfo {
  backend.incRef(t.dataId);
  return { dataId: t.dataId, shape, dtype };
}

export function free(backend: WasmBackendLike, ...ts: TensorInfo[]): void {
  for (const t of ts) backend.disposeData(t.dataId);
}

/**
 * The dtype `t`'s bytes are stored as on wasm. It can differ from the tensor's: tfjs casts
 * bool → int32 on the CPU backend without copying, and a later move to wasm keeps the bytes as
 * bool. Looking the tensor up moves it to wasm if it still lives on another backend.
 */
export function storedDtype(backend: WasmBackendLike, t: TensorInfo): DataType {
  return backend.dataIdMap.get(t.dataId)?.dtype ?? t.dtype;
}

/**
 * Heap views of several tensors, taken together. Looking a tensor up moves it to wasm when it
 * still lives on another backend, and that allocation can grow the wasm memory, which detaches
 * every view taken before it: so all lookups happen first, then all views. Allocate outputs
 * (`makeOutput`) and run every wasm kernel before calling this; take views again after any.
 * Each view has the dtype the data is stored as (TypedArray#set converts element by element).
 */
export function heapViews(backend: WasmBackendLike, ...ts: TensorInfo[]): HeapArray[] {
  const stored = ts.map((t) => storedDtype(backend, t));
  return ts.map((t, i) => backend.typedArrayFromHeap({ ...t, dtype: stored[i] }));
}

/** {@link heapViews} for float32 tensors (checked by the caller). */
export function floatViews(backend: WasmBackendLike, ...ts: TensorInfo[]): Float32Array[] {
  return heapViews(backend, ...ts) as Float32Array[];
}

export function size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

export function transpose(backend: WasmBackendLike, x: TensorInfo, perm: number[]): TensorInfo {
  return run('Transpose', { x }, { perm }, backend);
}

export function assertChannelsLast(kernelName: string, convInfo: backend_util.Conv2DInfo): void {
  if (convInfo.dataFormat !== 'channelsLast') {
    throw new Error(
      `@luzts/wasm-kernels: ${kernelName} on wasm does not support dataFormat 'NCHW' ` +
        `(${convInfo.dataFormat}; the wasm Conv2D kernel is channelsLast only); use dataFormat 'NHWC'.`,
    );
  }
}

export function assertFloat32(kernelName: string, ...ts: TensorInfo[]): void {
  for (const t of ts) {
    if (t.dtype !== 'float32') {
      throw new Error(`@luzts/wasm-kernels: ${kernelName} on wasm supports float32 only, got dtype '${t.dtype}'.`);
    }
  }
}
