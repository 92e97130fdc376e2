/**
 * Fast, exact training kernels for the TensorFlow.js wasm backend.
 *
 * The stock `@tensorflow/tfjs-backend-wasm` 4.22 runs transposed `BatchMatMul` (every
 * backward pass of a dense layer) an order of magnitude slower than the untransposed
 * case, runs `Conv2DBackpropInput` and `MaxPoolGrad` with naive loops, and does not
 * register `Conv2DBackpropFilter`, the depthwise gradients or `UnsortedSegmentSum` at all,
 * so CNNs and embeddings cannot train on wasm. {@link registerWasmTrainingKernels}
 * replaces or adds those kernels with compositions of the fast (XNNPACK-backed) wasm
 * kernels that are already there: `Transpose`, `Conv2D`, `DepthwiseConv2dNative`,
 * `PadV2`, `Slice`, `Reverse`, `Sum`, `ScatterNd` and the original
 * untransposed `BatchMatMul`, or with single passes over the wasm heap where there are no
 * FLOPs to hand to XNNPACK. Every kernel computes exactly the same sums as the CPU backend
 * (up to float32 summation order) and frees every intermediate buffer.
 *
 * @packageDocumentation
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs';
import { ADAM_UPDATE, adamUpdate, installFusedAdam } from './adam.js';
import { makeChannelOp } from './channel-ops.js';
import { conv2D, fusedConv2D } from './conv-forward.js';
import { conv2DBackpropFilter, conv2DBackpropInput, depthwiseBackpropFilter, depthwiseBackpropInput } from './conv.js';
import { cast, gatherV2, identity, oneHot, tile } from './data.js';
import { makeMatMul } from './matmul.js';
import { fusedBatchNorm } from './norm.js';
import { avgPoolGrad, maxPool, maxPoolGrad } from './pool.js';
import { mean, sum, unsortedSegmentSum } from './reduce.js';
import { RELU_GRAD, installFusedReluGrad, reluGrad } from './relu.js';
import { installFusedConvInputGradSkip } from './fused-conv-grad.js';
import { BACKEND, originals } from './wasm.js';

/**
 * Names of the kernels that {@link registerWasmTrainingKernels} registers for the
 * `'wasm'` backend, in registration order.
 *
 * - `BatchMatMul`, `_FusedMatMul`: transposed operands are transposed explicitly with the
 *   wasm `Transpose` kernel, then the original (fast) untransposed wasm kernel runs. Narrow
 *   `aᵀ · b` products (a side under 16, e.g. the weight gradient of a dense layer with 10
 *   units) run as WebAssembly SIMD register blocks that read both operands in place (the CNN's
 *   1568 x 10 weight gradient: 0.8 → 0.25 ms).
 * - `Conv2D`, `FusedConv2D`, `Conv2DBackpropInput`, `Conv2DBackpropFilter` of 3x3 stride-1
 *   undilated layers with >= 8 input and output channels (multiples of 4): Winograd's minimal
 *   filtering, F(2x2, 3x3) forward (16 products per 2x2 output tile instead of 36) and F(3x3, 2x2)
 *   for the filter gradient, as SIMD transforms around SIMD register-block products over chunks of
 *   256 tiles (the benchmark CNN's second layer, batch 128: forward 6.3 → ~4.2, input gradient
 *   6.6 → ~4.2, filter gradient 7.4 → ~4.4 ms). Results differ from direct sums by float32
 *   rounding; a NaN or infinite input spreads to its whole 2x2 output tile. Otherwise:
 * - `Conv2D`: float32 NHWC with `co` a multiple of 4, an even output width and horizontal
 *   dilation 1, as WebAssembly SIMD register blocks (2 output pixels x 16 output channels) over
 *   the zero-padded input: ~35 GFLOP/s whatever `fh * fw * ci` is, where XNNPACK wastes its
 *   tiles on the tiny inner products of a first layer (1 -> 16 channels on 28 x 28, batch 128:
 *   0.85 vs 2.6 ms). `FusedConv2D` with a bias and a linear or relu activation (tfjs-layers'
 *   layers without an activation, and every conv layer at inference) the same, the bias as the
 *   sums' start and relu on the way out. Everything else runs the stock kernels.
 * - `Conv2DBackpropFilter`: with SIMD and `co` a multiple of 4, no im2col: the input is
 *   zero-padded once (SIMD row copies) and WebAssembly SIMD register blocks (2 input channels, or
 *   3 filter taps for a one-channel first layer, x 16 output channels) read it and `dy` in place,
 *   in passes of <= 1024 output pixels that stay in cache (~33 GFLOP/s, XNNPACK's GEMM peak here,
 *   without re-packing `dy`); float32 sums per pass of <= 1024 pixels, then float64. Otherwise
 *   im2col + `dW = cols^T · dy` (already in the filter layout) as one untransposed wasm (XNNPACK)
 *   `BatchMatMul`, in batch chunks when the im2col exceeds 64 MiB.
 * - `Conv2DBackpropInput`: a forward convolution (as `Conv2D` above) of the (stride-dilated,
 *   padded) `dy` with the spatially flipped, in/out-transposed filter.
 * - `DepthwiseConv2dNativeBackpropFilter`: with channel multiplier 1, channels a multiple of 4
 *   and filters up to 5 wide, SIMD blocks (a filter row x 4 channels) reading the padded input
 *   and `dy` in place (a 64 x 16 x 16 x 32 layer: 10.4 → ~1 ms); otherwise a forward wasm
 *   `DepthwiseConv2dNative` of the input with `dy` as the filter (plus a `Sum` over the batch).
 * - `DepthwiseConv2dNativeBackpropInput`: strided, with channel multiplier 1, channels a multiple
 *   of 4 and filters up to 5 wide, one SIMD pass per stride phase of `dx` (the taps that reach it, read
 *   from the zero-padded `dy`, written in place into its pixels): a strided layer's gradient
 *   multiplies no zeros (128 x 16 x 16 x 64 at stride 2: 4.8 → ~1.4 ms). Otherwise a wasm
 *   `DepthwiseConv2dNative` of the (stride-dilated, padded) `dy` with the flipped filter (plus a
 *   `Sum` over the channel multiplier).
 * - `UnsortedSegmentSum`: the wasm `ScatterNd` kernel (which sums duplicate indices);
 *   out-of-range segment ids are dropped like on the CPU backend.
 * - `MaxPool`: float32 2x2 windows at stride 2 that tile the input (channels a multiple of 4) as
 *   one SIMD pass (the stock kernel runs at about half the memory speed); NaN never wins, like the
 *   CPU backend. Other poolings run the stock kernel.
 * - `MaxPoolGrad`: one pass over the wasm heap (first maximum of each window, like the
 *   CPU backend); 2x2 windows at stride 2 that tile the input (channels a multiple of 4) as
 *   branch-free WebAssembly SIMD code, others in JavaScript. It is memory-bound, and compositions of wasm kernels
 *   cost several full passes each. The stock wasm `MaxPoolGrad` is slow and also wrong for
 *   windows whose values are all <= 0 (it sends their gradient to the window's first element).
 * - `Sum`, `Mean`: over leading axes (bias gradients, batch-norm statistics: batch + spatial
 *   axes) one pass over the heap (SIMD where the kept size is even) with float64 accumulators,
 *   like the CPU backend; the stock kernels first transpose the reduced axes innermost (a full
 *   copy: 8.6 ms for a batch-norm mean of 64 x 32 x 32 x 16). Other axes and int32 run the stock kernels.
 * - `Add`, `Sub`, `Multiply`, `RealDiv`: float32 with one operand a vector along the other's
 *   last axis (a bias, batch-norm statistics; a multiple of 4 channels, at least 1024 elements;
 *   either operand order) as one SIMD pass of IEEE float32 operations, bit-identical to the CPU
 *   backend: the stock broadcasting path is 2.5-5x slower. Everything else runs the stock kernels.
 * - `Tile`: the input written once, then doubling copies of contiguous slabs (the stock kernel
 *   took 42 ms for the 64 x 32 x 32 x 16 broadcast in a batch-norm gradient; this ~1 ms).
 * - `FusedBatchNorm`: float32 with parameters along the last axis (a multiple of 4 channels) as
 *   one SIMD pass `(x - mean) * factor + offset`, the per-channel `scale / sqrt(variance + eps)`
 *   in float64 like the CPU backend (the stock kernel took 8.9 ms for 128 x 32 x 32 x 16).
 * - `AvgPoolGrad`: 2x2 windows at stride 2 tiling the input (channels % 4 = 0) as one SIMD pass,
 *   others one JavaScript pass (float64 sums like the CPU backend); the stock kernel took 8-9 ms
 *   for a 64 x 32 x 32 x 16 input.
 * - `Identity`: shares the data (a reference count, like the CPU backend and the wasm
 *   `Reshape`) instead of copying it; tfjs clones every tensor it saves for a gradient.
 * - `Cast`: to the dtype the data is already stored as shares it (the relu gradient casts
 *   float32 to float32); casts to bool write `x != 0` (the stock kernel truncates: 0.5 became
 *   false, 256 became false). float32 ↔ int32 runs the stock kernel.
 *
 * - `GatherV2`: row copies with `TypedArray#set` over the wasm heap (about 10x faster than
 *   the stock kernel for a shuffled batch of 128 MNIST rows, 3.2 ms before), with the same
 *   out-of-range error as the stock kernel.
 * - `OneHot`: the stock wasm kernel always writes int32 values, even for `dtype: 'float32'`
 *   (so `tf.oneHot(labels, n, 1, 0, 'float32')` holds denormal garbage); this one writes the
 *   requested dtype in one pass over the wasm heap.
 * - `LuzAdamUpdate` (new): one pass of Adam's update (`x`, `m`, `v` from the gradient), the same
 *   float32 operations in the same order as tfjs's `AdamOptimizer`, so bit-identical to it.
 *   `AdamOptimizer#applyGradients` uses it while the wasm backend is active (about fifteen
 *   element-wise passes per variable before: a fifth of an MLP step).
 * - `LuzReluGrad` (new): the relu gradient `dy * step(x)` in one pass (NaN inputs give NaN like
 *   `step`); the registered `Relu` gradient uses it while the wasm backend is active, instead of
 *   `Step` + `Multiply` (two passes over every activation of a conv layer).
 *
 * @example
 * ```ts
 * import { wasmTrainingKernelNames } from '@luzts/wasm-kernels';
 * console.log(wasmTrainingKernelNames.includes('Conv2DBackpropFilter')); // true
 * ```
 */
export const wasmTrainingKernelNames: readonly string[] = Object.freeze([
  'BatchMatMul',
  '_FusedMatMul',
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
  'MaxPool',
  'MaxPoolGrad',
  'AvgPoolGrad',
  'OneHot',
  'GatherV2',
  'Sum',
  'Mean',
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
  'Tile',
  'FusedBatchNorm',
  'Identity',
  'Cast',
  ADAM_UPDATE,
  RELU_GRAD,
]);

/** The stock wasm kernels the compositions call. */
const COMPOSED_FROM = [
  'Transpose',
  'BatchMatMul',
  'Conv2D',
  'DepthwiseConv2dNative',
  'PadV2',
  'Slice',
  'Reverse',
  'Sum',
  'ScatterNd',
];
/** Kernels that hand some cases to the stock kernel: registered only where it exists. */
const WRAPS_ORIGINAL = new Set(['BatchMatMul', '_FusedMatMul', 'Conv2D', 'FusedConv2D', 'MaxPool', 'OneHot', 'GatherV2', 'Sum', 'Mean', 'Add', 'Sub', 'Multiply', 'RealDiv', 'Tile', 'FusedBatchNorm', 'Identity', 'Cast']);

/** Our kernel functions, to recognise them on a second call. */
const ours = new Set<KernelFunc>();
let registered: string[] | null = null;

const kernelFuncs: Record<string, KernelFunc> = {
  BatchMatMul: makeMatMul('BatchMatMul'),
  _FusedMatMul: makeMatMul('_FusedMatMul'),
  Conv2D: conv2D,
  FusedConv2D: fusedConv2D,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
  UnsortedSegmentSum: unsortedSegmentSum,
  MaxPool: maxPool,
  MaxPoolGrad: maxPoolGrad,
  AvgPoolGrad: avgPoolGrad,
  OneHot: oneHot,
  GatherV2: gatherV2,
  Sum: sum,
  Mean: mean,
  Add: makeChannelOp('Add'),
  Sub: makeChannelOp('Sub'),
  Multiply: makeChannelOp('Multiply'),
  RealDiv: makeChannelOp('RealDiv'),
  Tile: tile,
  FusedBatchNorm: fusedBatchNorm,
  Identity: identity,
  Cast: cast,
  [ADAM_UPDATE]: adamUpdate,
  [RELU_GRAD]: reluGrad,
};

/**
 * Registers the fast training kernels of this package for the tfjs `'wasm'` backend and
 * returns their names (see {@link wasmTrainingKernelNames}).
 *
 * Idempotent: later calls register nothing and return the same list. The original wasm
 * kernels that are overridden (`BatchMatMul`, `_FusedMatMul`, `Conv2D`, `FusedConv2D`, `Conv2DBackpropInput`,
 * `MaxPool`, `MaxPoolGrad`, `AvgPoolGrad`, `OneHot`, `GatherV2`, `Sum`, `Mean`, `Add`, `Sub`,
 * `Multiply`, `RealDiv`, `Tile`, `FusedBatchNorm`, `Identity`, `Cast`) are captured first and still serve the
 * cases they are fast at. Call it
 * once, before or after `tf.setBackend('wasm')`; the `@tensorflow/tfjs-backend-wasm`
 * module must have been imported (it registers the kernels this package composes).
 *
 * The memory-bound passes run as WebAssembly SIMD code assembled at run time (a few hundred
 * bytes, no asset) on the backend's own heap, where the engine supports SIMD and the backend's
 * memory is exported and not shared (the single-threaded wasm builds); elsewhere the same
 * kernels run their JavaScript / XNNPACK paths.
 *
 * It also routes tfjs's `AdamOptimizer#applyGradients` and the `Relu` gradient through the fused
 * `LuzAdamUpdate` / `LuzReluGrad` kernels while the wasm backend is active (bit-identical results;
 * other backends keep the stock code), and wraps the engine's `gradients` and `customGrad` so that
 * the custom gradient of a fused convolution (tfjs-layers' conv layer without an activation) skips
 * its input's gradient when that input cannot need one (the training batch under
 * `variableGrads`/`model.fit`; never for a differentiated or tape-made input, nor in nested
 * gradients): a full convolution every step (9.6 ms of a 111 ms batch-norm CNN step).
 *
 * Unsupported cases throw an error naming the kernel and the attribute (for example
 * `dataFormat: 'NCHW'`): there is never a silent fallback to a slow path.
 *
 * @returns the names of the kernels registered for `'wasm'`.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-wasm';
 * import { registerWasmTrainingKernels } from '@luzts/wasm-kernels';
 *
 * registerWasmTrainingKernels();
 * await tf.setBackend('wasm');
 * // conv2d now trains on wasm, and dense backward passes run ~3x faster:
 * const w = tf.variable(tf.randomNormal([3, 3, 1, 8]));
 * const x = tf.randomNormal([4, 28, 28, 1]);
 * const { grads } = tf.variableGrads(() => tf.conv2d(x, w, 1, 'same').square().mean());
 * ```
 */
export function registerWasmTrainingKernels(): string[] {
  if (registered != null) return registered.slice();
  const names: string[] = [];
  for (const name of wasmTrainingKernelNames) {
    const existing = getKernel(name, BACKEND);
    if (existing != null && !ours.has(existing.kernelFunc)) originals.set(name, existing);
  }
  for (const name of COMPOSED_FROM) {
    if (getKernel(name, BACKEND) == null) {
      throw new Error(
        `@luzts/wasm-kernels: the '${name}' kernel is not registered for 'wasm'; ` +
          `import '@tensorflow/tfjs-backend-wasm' before calling registerWasmTrainingKernels().`,
      );
    }
  }
  for (const name of wasmTrainingKernelNames) {
    const original = originals.get(name);
    if (WRAPS_ORIGINAL.has(name) && original == null) continue;
    const kernelFunc = kernelFuncs[name];
    ours.add(kernelFunc);
    const config: KernelConfig = {
      kernelName: name,
      backendName: BACKEND,
      kernelFunc,
      // The original's setup (its cwrap) must still run if the backend initialises later.
      ...(original?.setupFunc ? { setupFunc: original.setupFunc } : {}),
    };
    if (getKernel(name, BACKEND) != null) unregisterKernel(name, BACKEND);
    registerKernel(config);
    names.push(name);
  }
  installFusedAdam();
  installFusedReluGrad();
  installFusedConvInputGradSkip();
  registered = names;
  return names.slice();
}
