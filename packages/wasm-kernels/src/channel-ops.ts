/**
 * `Add`, `Sub`, `Multiply` and `RealDiv` of a tensor and a vector along its last axis (conv /
 * dense biases, which tfjs-layers adds unfused while recording gradients, and batch-norm
 * statistics) as one SIMD pass each.
 *
 * @internal
 * @packageDocumentation
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { floatOffset, simdKernels, type RowOp } from './simd.js';
import { kernel, size, type Inputs, type WasmBackendLike } from './wasm.js';

/** Below this many output elements the stock kernel is as fast (and the call overhead matters). */
const MIN_ELEMENTS = 1024;

/** Whether `v` broadcasts along the last axis of `x` only: shape `[c]` or `[1, ..., 1, c]`. */
function isLastAxisVector(x: TensorInfo, v: TensorInfo): boolean {
  const c = x.shape[x.shape.length - 1];
  const vs = v.shape;
  return (
    x.shape.length >= 2 &&
    vs.length >= 1 &&
    vs.length <= x.shape.length &&
    vs[vs.length - 1] === c &&
    vs.slice(0, -1).every((d) => d === 1)
  );
}

/** The four binary kernels with a last-axis fast path. */
export type ChannelOpKernel = 'Add' | 'Sub' | 'Multiply' | 'RealDiv';

/** The SIMD row operation of `name` with the tensor first (`[0]`) or the vector first (`[1]`). */
const ROW_OP: Record<ChannelOpKernel, [RowOp, RowOp]> = {
  Add: ['rowAdd', 'rowAdd'],
  Sub: ['rowSub', 'rowRsub'],
  Multiply: ['rowMul', 'rowMul'],
  RealDiv: ['rowDiv', 'rowRdiv'],
};

/**
 * `name(a, b)` for float32 operands where one is a vector along the other's last axis of a
 * multiple of 4 channels (at least 1024 elements): one SIMD pass, IEEE float32 operations like
 * the CPU backend (the stock broadcasting path is 2.5-10x slower). Everything else runs the
 * stock kernel.
 */
export function makeChannelOp(name: ChannelOpKernel): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as Inputs;
    const be = args.backend as unknown as WasmBackendLike;
    const [x, v, vectorFirst] = isLastAxisVector(a, b) ? [a, b, false] : isLastAxisVector(b, a) ? [b, a, true] : [null, null, false];
    if (x == null || v == null || a.dtype !== 'float32' || b.dtype !== 'float32') return kernel(name).kernelFunc(args);
    const c = x.shape[x.shape.length - 1];
    const n = size(x.shape);
    const simd = c % 4 === 0 && n >= MIN_ELEMENTS ? simdKernels(be) : null;
    if (simd == null) return kernel(name).kernelFunc(args);
    const out = be.makeOutput(x.shape.slice(), 'float32');
    const [outAt, xAt, vAt] = [out, x, v].map((t) => floatOffset(be, t));
    if (outAt == null || xAt == null || vAt == null) {
      be.disposeData(out.dataId);
      return kernel(name).kernelFunc(args);
    }
    simd[ROW_OP[name][vectorFirst ? 1 : 0]](xAt, vAt, outAt, n / c, 4 * c, 0, 0);
    return out;
  };
}
