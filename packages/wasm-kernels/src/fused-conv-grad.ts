/**
 * tfjs's fused convolution (`tf.fused.conv2d`, what tfjs-layers runs for a conv layer without an
 * activation, e.g. before batch normalization) records a custom gradient that always computes all
 * of its gradients, the input's included, even when the input is the training batch, whose
 * gradient nobody asks for: a full convolution thrown away every step (9.6 ms of a 111 ms step of
 * the batch-norm benchmark CNN). This module notices such calls and lets the input gradient run as
 * zeros that are never read.
 *
 * @internal
 * @packageDocumentation
 */
import { engine, Variable, type DataId, type Tensor } from '@tensorflow/tfjs';

/** The parts of tfjs's engine this module wraps or reads. */
interface EngineLike {
  gradients: (f: () => Tensor, xs: Tensor[], dy?: Tensor, allowNoGradients?: boolean) => unknown;
  customGrad: (f: (...args: unknown[]) => { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor | Tensor[] }) => unknown;
  state: { gradientDepth: number; activeTape: Array<{ outputs: Tensor[] }> | null };
}

/** Ids of the tensors each active `gradients()` call differentiates with respect to (innermost last). */
const xsStack: Array<Set<number>> = [];
/** The output of the last `FusedConv2D` kernel call and a count of the calls. */
let lastFusedConv: { dataId: DataId | null; calls: number } = { dataId: null, calls: 0 };
/** > 0 while the gradient of a fused convolution whose input needs none runs. */
let suppressed = 0;
let installed = false;

/** How many fused-convolution input gradients were skipped (for tests and profiling). */
export let skippedInputGradients = 0;

/** Called by the wasm `FusedConv2D` kernel with its output. */
export function noteFusedConv2D(out: { dataId: DataId }): void {
  lastFusedConv = { dataId: out.dataId, calls: lastFusedConv.calls + 1 };
}

/**
 * Whether the `Conv2DBackpropInput` being computed is the input gradient of a fused convolution
 * whose input needs no gradient (the kernel then returns zeros, which are never read).
 */
export function inputGradientSkipped(): boolean {
  if (suppressed === 0) return false;
  skippedInputGradients += 1;
  return true;
}

/**
 * Whether `x` may need a gradient in the current `gradients()` call: always inside nested
 * gradients; otherwise when it is one of the tensors differentiated against, a variable, or the
 * output of an operation recorded on the tape (which may lead from them).
 */
function mayNeedGradient(e: EngineLike, x: Tensor): boolean {
  if (e.state.gradientDepth !== 1 || xsStack.length !== 1 || e.state.activeTape == null) return true;
  if (xsStack[0].has(x.id) || x instanceof Variable) return true;
  return e.state.activeTape.some((node) => node.outputs.some((o) => o != null && o.id === x.id));
}

/**
 * Wraps the engine's `gradients` (to know what is differentiated) and `customGrad` (to recognise a
 * fused convolution by the wasm `FusedConv2D` output it returns, and to mark its gradient's input
 * convolution as skippable when its input needs no gradient). Idempotent. Everything else passes
 * through unchanged, on every backend.
 */
export function installFusedConvInputGradSkip(): void {
  if (installed) return;
  installed = true;
  const e = engine() as unknown as EngineLike;
  const gradients = e.gradients;
  e.gradients = function (this: EngineLike, f, xs, dy, allowNoGradients) {
    xsStack.push(new Set(xs.map((x) => x.id)));
    try {
      return gradients.call(this, f, xs, dy, allowNoGradients);
    } finally {
      xsStack.pop();
    }
  };
  const customGrad = e.customGrad;
  e.customGrad = function (this: EngineLike, f) {
    const watched = (...args: unknown[]) => {
      const calls = lastFusedConv.calls;
      const res = f(...args);
      const x = args[0] as Tensor;
      const fusedConv = lastFusedConv.calls === calls + 1 && res?.value?.dataId === lastFusedConv.dataId;
      if (fusedConv && !mayNeedGradient(this, x)) {
        const gradFunc = res.gradFunc;
        res.gradFunc = (dy, saved) => {
          suppressed += 1;
          try {
            return gradFunc(dy, saved);
          } finally {
            suppressed -= 1;
          }
        };
      }
      return res;
    };
    return customGrad.call(this, watched);
  };
}
