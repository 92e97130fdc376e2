/**
 * `BatchMatMul` / `_FusedMatMul`: the stock wasm kernels are fast (XNNPACK) only without
 * transposes; transposed operands are transposed explicitly first.
 *
 * @internal
 * @packageDocumentation
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { free, kernel, transpose, type Inputs, type WasmBackendLike } from './wasm.js';

function swapLastTwo(backend: WasmBackendLike, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return transpose(backend, x, perm);
}

export function makeMatMul(name: 'BatchMatMul' | '_FusedMatMul'): KernelFunc {
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
