/**
 * Adam's update as one kernel: tfjs's `AdamOptimizer.applyGradients` runs about fifteen
 * element-wise kernels per variable (a full pass over the weights each); on wasm those passes are
 * a fifth of an MLP training step. `LuzAdamUpdate` does the same float32 operations, in the same
 * order, in one pass, so its results are bit-identical to the stock optimizer's.
 *
 * @internal
 * @packageDocumentation
 */
import { AdamOptimizer, engine, getBackend, getKernel, sub, tidy, mul, zerosLike, type KernelFunc, type NamedTensorMap, type Tensor, type TensorInfo, type Variable } from '@tensorflow/tfjs';
import { floatOffset, simdKernels } from './simd.js';
import { BACKEND, floatViews, size, type Inputs, type WasmBackendLike } from './wasm.js';

/** Name of the fused Adam kernel (registered for `'wasm'` only). */
export const ADAM_UPDATE = 'LuzAdamUpdate';

/** Attributes of {@link ADAM_UPDATE}: the optimizer's hyper-parameters as JavaScript numbers. */
export interface AdamUpdateAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
}

const f32 = new Float32Array(1);
const bits = new Int32Array(f32.buffer);
/** The float32 bit pattern of `v` (rounded to float32), as the SIMD module takes scalars. */
function f32Bits(v: number): number {
  f32[0] = v;
  return bits[0];
}

/**
 * Inputs `x` (the variable), `g` (its gradient), `m`, `v` (the moments), `d1 = 1 - beta1^t`,
 * `d2 = 1 - beta2^t` (float32 scalars); outputs `[x', m', v']`.
 */
export const adamUpdate: KernelFunc = (args) => {
  const { x, g, m, v, d1, d2 } = args.inputs as Inputs;
  const { beta1, beta2, epsilon, learningRate } = args.attrs as unknown as AdamUpdateAttrs;
  const be = args.backend as unknown as WasmBackendLike;
  for (const [name, t] of Object.entries({ x, g, m, v, d1, d2 })) {
    if (t.dtype !== 'float32') {
      throw new Error(`@luzts/wasm-kernels: ${ADAM_UPDATE} supports float32 only, got ${name} of dtype '${t.dtype}'.`);
    }
  }
  const n = size(x.shape);
  for (const [name, t] of Object.entries({ g, m, v })) {
    if (size(t.shape) !== n) {
      throw new Error(`@luzts/wasm-kernels: ${ADAM_UPDATE}: ${name} has shape [${t.shape}], expected [${x.shape}] like x.`);
    }
  }
  const outs = [x, m, v].map(() => be.makeOutput(x.shape.slice(), 'float32'));
  // Scalars exactly as the stock ops see them: JavaScript numbers become float32 tensors.
  const b1 = Math.fround(beta1);
  const c1 = Math.fround(1 - beta1);
  const b2 = Math.fround(beta2);
  const c2 = Math.fround(1 - beta2);
  const eps = Math.fround(epsilon);
  const nlr = Math.fround(-learningRate);
  const [xv, gv, mv, vv, d1v, d2v, ox, om, ov] = floatViews(be, x, g, m, v, d1, d2, ...outs);
  const D1 = d1v[0];
  const D2 = d2v[0];
  let done = 0;
  const simd = n >= 4 ? simdKernels(be) : null;
  const at = simd == null ? [] : [x, g, m, v, ...outs].map((t) => floatOffset(be, t));
  if (simd != null && at.every((p) => p != null)) {
    const n4 = n >> 2;
    const [px, pg, pm, pv, pox, pom, pov] = at as number[];
    simd.adam(px, pg, pm, pv, pox, pom, pov, n4, f32Bits(b1), f32Bits(c1), f32Bits(b2), f32Bits(c2), f32Bits(D1), f32Bits(D2), f32Bits(eps), f32Bits(nlr));
    done = n4 * 4;
  }
  const r = Math.fround;
  for (let i = done; i < n; i++) {
    const gi = gv[i];
    const m1 = r(r(mv[i] * b1) + r(gi * c1));
    const v1 = r(r(vv[i] * b2) + r(r(gi * gi) * c2));
    om[i] = m1;
    ov[i] = v1;
    ox[i] = r(r(r(m1 / D1) / r(r(Math.sqrt(r(v1 / D2))) + eps)) * nlr) + xv[i];
  }
  return outs as TensorInfo[];
};

/** A variable and its gradient, as tfjs optimizers accept them in a list. */
interface NamedTensor {
  name: string;
  tensor: Tensor;
}

/** The private state of tfjs's `AdamOptimizer` that `applyGradients` uses. */
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: Variable;
  accBeta2: Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: Variable } | undefined>;
  incrementIterations(): void;
}

type ApplyGradients = (this: AdamOptimizer, variableGradients: NamedTensorMap | NamedTensor[]) => void;
let stockApplyGradients: ApplyGradients | null = null;

/** Whether the fused update can run now: the wasm backend is active and the kernel registered. */
function fusedAvailable(): boolean {
  return getBackend() === BACKEND && getKernel(ADAM_UPDATE, BACKEND) != null;
}

/**
 * `AdamOptimizer.prototype.applyGradients` with the per-variable update as one
 * {@link ADAM_UPDATE} kernel call on wasm (the stock method everywhere else). Everything else is
 * the stock method's: moment variables created on first use with the same names, skipped `null`
 * gradients, `accBeta` updates, the iteration count.
 */
function fusedApplyGradients(this: AdamOptimizer, variableGradients: NamedTensorMap | NamedTensor[]): void {
  const gradients = Array.isArray(variableGradients) ? variableGradients.map((v) => v.tensor) : Object.values(variableGradients);
  if (!fusedAvailable() || gradients.some((g) => g != null && g.dtype !== 'float32')) {
    stockApplyGradients!.call(this, variableGradients);
    return;
  }
  const self = this as unknown as AdamInternals;
  const list = Array.isArray(variableGradients);
  const varNames = list ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
  tidy(() => {
    const d1 = sub(1, self.accBeta1);
    const d2 = sub(1, self.accBeta2);
    varNames.forEach((name, i) => {
      const value = engine().registeredVariables[name];
      if (self.accumulatedFirstMoment[i] == null) {
        self.accumulatedFirstMoment[i] = { originalName: `${name}/m`, variable: tidy(() => zerosLike(value).variable(false)) };
      }
      if (self.accumulatedSecondMoment[i] == null) {
        self.accumulatedSecondMoment[i] = { originalName: `${name}/v`, variable: tidy(() => zerosLike(value).variable(false)) };
      }
      const gradient = list ? (variableGradients as NamedTensor[])[i].tensor : (variableGradients as NamedTensorMap)[name];
      if (gradient == null) return;
      const first = self.accumulatedFirstMoment[i]!.variable;
      const second = self.accumulatedSecondMoment[i]!.variable;
      const attrs: AdamUpdateAttrs = { beta1: self.beta1, beta2: self.beta2, epsilon: self.epsilon, learningRate: self.learningRate };
      const [x1, m1, v1] = engine().runKernel(ADAM_UPDATE, { x: value, g: gradient, m: first, v: second, d1, d2 }, attrs as never) as Tensor[];
      first.assign(m1);
      second.assign(v1);
      value.assign(x1);
    });
    self.accBeta1.assign(mul(self.accBeta1, self.beta1));
    self.accBeta2.assign(mul(self.accBeta2, self.beta2));
  });
  self.incrementIterations();
}

/**
 * Routes `AdamOptimizer#applyGradients` through {@link ADAM_UPDATE} while the wasm backend is
 * active (idempotent). The stock method stays in use on every other backend and for non-float32
 * gradients.
 */
export function installFusedAdam(): void {
  if (stockApplyGradients != null) return;
  const proto = AdamOptimizer.prototype as unknown as { applyGradients: ApplyGradients };
  stockApplyGradients = proto.applyGradients;
  proto.applyGradients = fusedApplyGradients;
}

/** The stock `applyGradients` (tests compare against it); null before {@link installFusedAdam}. */
export function stockAdamApplyGradients(): ApplyGradients | null {
  return stockApplyGradients;
}
