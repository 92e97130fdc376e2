/**
 * The relu gradient as one kernel. tfjs computes it as `mul(dy, cast(step(x), 'float32'))`: two
 * full passes (`Step`, `Multiply`) over every activation of a layer, about 2 ms per step of the
 * small benchmark CNN on wasm. `LuzReluGrad` is one pass with the same result, NaN and signed
 * zeros included.
 *
 * @internal
 * @packageDocumentation
 */
import { cast, engine, getBackend, getGradient, getKernel, mul, registerGradient, step, zerosLike, type GradConfig, type KernelFunc, type Tensor } from '@tensorflow/tfjs';
import { floatOffset, simdKernels } from './simd.js';
import { BACKEND, floatViews, size, type Inputs, type WasmBackendLike } from './wasm.js';

/** Name of the fused relu-gradient kernel (registered for `'wasm'` only). */
export const RELU_GRAD = 'LuzReluGrad';

/** Inputs `dy`, `x` (same shape, float32); output `dy * step(x)` (NaN where `x` is NaN). */
export const reluGrad: KernelFunc = (args) => {
  const { dy, x } = args.inputs as Inputs;
  const be = args.backend as unknown as WasmBackendLike;
  if (dy.dtype !== 'float32' || x.dtype !== 'float32') {
    throw new Error(`@luzts/wasm-kernels: ${RELU_GRAD} supports float32 only, got dy '${dy.dtype}' and x '${x.dtype}'.`);
  }
  const n = size(x.shape);
  if (size(dy.shape) !== n) {
    throw new Error(`@luzts/wasm-kernels: ${RELU_GRAD}: dy has shape [${dy.shape}], expected [${x.shape}] like x.`);
  }
  const out = be.makeOutput(x.shape.slice(), 'float32');
  let done = 0;
  const simd = n >= 4 ? simdKernels(be) : null;
  if (simd != null) {
    const [pdy, px, pout] = [dy, x, out].map((t) => floatOffset(be, t));
    if (pdy != null && px != null && pout != null) {
      done = (n >> 2) * 4;
      simd.reluGrad(pdy, px, pout, n >> 2, 0, 0, 0);
    }
  }
  if (done < n) {
    const [dyv, xv, ov] = floatViews(be, dy, x, out);
    for (let i = done; i < n; i++) {
      const xi = xv[i];
      ov[i] = dyv[i] * (xi > 0 ? 1 : xi === xi ? 0 : NaN);
    }
  }
  return out;
};

/** The stock relu gradient config, captured when ours is installed. */
let stockReluGrad: GradConfig | null = null;

/**
 * Replaces the registered `Relu` gradient with one that runs {@link RELU_GRAD} while the wasm
 * backend is active, and the stock formula on every other backend (idempotent). The fused kernel
 * has its own gradient (`d/d(dy)` is the same relu mask, `d/dx` is zero, as for `step`), so
 * higher-order gradients still work.
 */
export function installFusedReluGrad(): void {
  if (stockReluGrad != null) return;
  const stock = getGradient('Relu');
  if (stock == null) return;
  stockReluGrad = stock;
  registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      const d = dy as Tensor;
      const fused = getBackend() === BACKEND && getKernel(RELU_GRAD, BACKEND) != null && d.dtype === 'float32' && x.dtype === 'float32';
      return { x: () => (fused ? (engine().runKernel(RELU_GRAD, { dy: d, x }) as Tensor) : mul(d, cast(step(x), 'float32'))) };
    },
  });
  registerGradient({
    kernelName: RELU_GRAD,
    inputsToSave: ['x'],
    gradFunc: (ddx, saved) => {
      const [x] = saved;
      return {
        dy: () => engine().runKernel(RELU_GRAD, { dy: ddx as Tensor, x }) as Tensor,
        x: () => zerosLike(x),
      };
    },
  });
}

