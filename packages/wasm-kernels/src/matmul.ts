/**
 * `BatchMatMul` / `_FusedMatMul`: the stock wasm kernels are fast (XNNPACK) only without
 * transposes. `aᵀ · b` (every dense layer's weight gradient) runs as WebAssembly SIMD register
 * blocks that read both operands in place; other transposed operands are transposed explicitly
 * first.
 *
 * @internal
 * @packageDocumentation
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { DG_VECS, floatOffset, simdKernels, type SimdKernels } from './simd.js';
import { floatViews, free, kernel, size, transpose, type Inputs, type WasmBackendLike } from './wasm.js';

function swapLastTwo(backend: WasmBackendLike, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return transpose(backend, x, perm);
}

/** Which algorithm the last transposed-a product used (for tests and profiling). */
export let lastTransposedAPath: 'simd' | 'transpose' = 'transpose';

/** Rows of `aᵀ · b` per register block, and rows (`k`) per float32 accumulation. */
const ROW_BLOCK = 2;
const K_CHUNK = 1024;
/** Products with both sides at least this wide go to XNNPACK. */
const NARROW = 16;

/**
 * `out[m, n] = sum_k a[k, m] * b[k, n]` per batch (float32, equal batch dims), by the `dg`
 * register blocks of the SIMD module: scalars from one operand's rows, 4-float vectors from the
 * other's (whichever has a multiple of 4 columns; the result is transposed back when that is
 * `a`), float32 sums over <= 1024 rows, then float64. Null where it does not apply, and for
 * products whose sides are both >= {@link NARROW} wide, where XNNPACK after a transpose is as fast
 * or faster (784 x 256 from 128 rows: 2.2 ms either way). Measured on narrow ones (batch 128): the
 * benchmark CNN's dense-layer weight gradient (1568 x 10) 0.8 → 0.25 ms.
 */
function productTransposedA(be: WasmBackendLike, a: TensorInfo, b: TensorInfo, simd: SimdKernels): TensorInfo | null {
  const rank = a.shape.length;
  if (rank < 2 || b.shape.length !== rank || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const lead = a.shape.slice(0, -2);
  if (lead.some((d, i) => d !== b.shape[i])) return null;
  const [k, m] = a.shape.slice(-2);
  const [kb, n] = b.shape.slice(-2);
  const vectorsFromB = n % 4 === 0;
  if (kb !== k || (!vectorsFromB && m % 4 !== 0) || k === 0 || m * n === 0 || Math.min(m, n) >= NARROW) return null;
  const out = be.makeOutput([...lead, m, n], 'float32');
  const acc = be.makeOutput([2 * m * n], 'float32'); // float64 accumulators
  try {
    const [aAt, bAt, accAt] = [a, b, acc].map((t) => floatOffset(be, t));
    if (aAt == null || bAt == null || accAt == null || accAt % 8 !== 0) {
      free(be, out);
      return null;
    }
    // Scalars from S (sCols columns), vectors from V (vCols columns, a multiple of 4).
    const [sAt, vAt, sCols, vCols] = vectorsFromB ? [aAt, bAt, m, n] : [bAt, aAt, n, m];
    for (let bi = 0; bi < size(lead); bi++) {
      const [outV, accV] = floatViews(be, out, acc);
      const sums = new Float64Array(accV.buffer, accV.byteOffset, m * n);
      sums.fill(0);
      for (let k0 = 0; k0 < k; k0 += K_CHUNK) {
        const rows = Math.min(K_CHUNK, k - k0);
        for (let s0 = 0; s0 < sCols; s0 += ROW_BLOCK) {
          const rb = Math.min(ROW_BLOCK, sCols - s0);
          for (let v0 = 0; v0 < vCols; v0 += 4 * DG_VECS) {
            const cv = Math.min(DG_VECS, (vCols - v0) / 4);
            simd[`dg${rb}x${cv}`](
              sAt + 4 * ((bi * k + k0) * sCols + s0),
              vAt + 4 * ((bi * k + k0) * vCols + v0),
              accAt + 8 * (s0 * vCols + v0),
              8 * vCols,
              rows,
              1,
              1,
              4 * sCols,
              0,
              0,
              4 * vCols,
            );
          }
        }
      }
      const base = bi * m * n;
      if (vectorsFromB) {
        outV.set(sums, base);
      } else {
        // sums is [n, m]: write its transpose.
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) outV[base + i * n + j] = sums[j * m + i];
      }
    }
    return out;
  } finally {
    free(be, acc);
  }
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
    if (name === 'BatchMatMul' && transposeA && !transposeB) {
      const simd = simdKernels(be);
      const out = simd == null ? null : productTransposedA(be, a, b, simd);
      lastTransposedAPath = out == null ? 'transpose' : 'simd';
      if (out != null) return out;
    }
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
