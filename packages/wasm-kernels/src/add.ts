/**
 * `Add` of a bias along the last axis (the bias of every conv / dense layer that tfjs-layers
 * does not fuse while recording gradients) as one SIMD pass.
 *
 * @internal
 * @packageDocumentation
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { floatOffset, simdKernels } from './simd.js';
import { kernel, size, type Inputs, type WasmBackendLike } from './wasm.js';

/** Below this many output elements the stock kernel is as fast (and the call overhead matters). */
const MIN_ELEMENTS = 1024;

/** Whether `bias` broadcasts along the last axis of `x` only: shape `[c]` or `[1, ..., 1, c]`. */
function isBias(x: TensorInfo, bias: TensorInfo): boolean {
  const c = x.shape[x.shape.length - 1];
  const bs = bias.shape;
  return (
    x.shape.length >= 2 &&
    bs.length >= 1 &&
    bs.length <= x.shape.length &&
    bs[bs.length - 1] === c &&
    bs.slice(0, -1).every((d) => d === 1)
  );
}

/**
 * `x + bias` (either order) for float32 with a bias along the last axis of a multiple of 4
 * channels: one SIMD pass (the stock kernel's broadcasting path is ~3x slower on a conv
 * layer's output). Everything else runs the stock kernel.
 */
export const add: KernelFunc = (args) => {
  const { a, b } = args.inputs as Inputs;
  const be = args.backend as unknown as WasmBackendLike;
  const [x, bias] = isBias(a, b) ? [a, b] : isBias(b, a) ? [b, a] : [null, null];
  if (x == null || bias == null || a.dtype !== 'float32' || b.dtype !== 'float32') return kernel('Add').kernelFunc(args);
  const c = x.shape[x.shape.length - 1];
  const n = size(x.shape);
  const simd = c % 4 === 0 && n >= MIN_ELEMENTS ? simdKernels(be) : null;
  if (simd == null) return kernel('Add').kernelFunc(args);
  const out = be.makeOutput(x.shape.slice(), 'float32');
  const [outAt, xAt, biasAt] = [out, x, bias].map((t) => floatOffset(be, t));
  if (outAt == null || xAt == null || biasAt == null) {
    be.disposeData(out.dataId);
    return kernel('Add').kernelFunc(args);
  }
  simd.biasAdd(xAt, biasAt, outAt, n / c, 4 * c, 0, 0);
  return out;
};

