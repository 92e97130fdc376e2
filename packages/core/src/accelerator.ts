/**
 * Backend choice (luz's `accelerator()`): tfjs-node when installed, else wasm (with fast training
 * kernels), else the CPU backend.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError, describe, checkOptionKeys } from './errors.js';

/** Backends `accelerator()` can choose. */
export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu' | 'webgl' | 'webgpu';

/** Options of {@link accelerator}. */
export interface AcceleratorOptions {
  /** The tfjs backend. `'auto'` (default) picks `tensorflow` > `wasm` > `cpu`. */
  backend?: BackendName;
  /** With wasm, register `@luzts/wasm-kernels`'s fast training kernels. Default true. */
  wasmKernels?: boolean;
}

/** The backend choice of a run; `fit` calls `prepare()`. */
export interface Accelerator {
  /** What was asked for. */
  readonly requested: BackendName;
  /** The backend in use after `prepare()` (`ctx.device`). */
  readonly backend: string;
  /** Selects and initialises the backend; returns its name. */
  prepare(): Promise<string>;
}

const BACKENDS: readonly BackendName[] = ['auto', 'tensorflow', 'wasm', 'cpu', 'webgl', 'webgpu'];

// Module specifiers kept in variables so bundlers do not try to resolve optional packages.
const TFJS_NODE = '@tensorflow/tfjs-node';
const TFJS_WASM = '@tensorflow/tfjs-backend-wasm';
const WASM_KERNELS = '@luzts/wasm-kernels';

async function tryImport(specifier: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function activate(name: string): Promise<boolean> {
  if (tf.getBackend() === name) return true;
  try {
    if (!tf.findBackend(name) && !tf.engine().registryFactory[name]) return false;
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok;
  } catch {
    return false;
  }
}

async function useTensorflow(): Promise<boolean> {
  if (!tf.engine().registryFactory.tensorflow) {
    const mod = await tryImport(TFJS_NODE);
    if (!mod) return false;
  }
  return activate('tensorflow');
}

async function useWasm(kernels: boolean): Promise<boolean> {
  if (!tf.engine().registryFactory.wasm && !(await tryImport(TFJS_WASM))) return false;
  if (!(await activate('wasm'))) return false;
  if (kernels) {
    const mod = await tryImport(WASM_KERNELS);
    const register = mod?.registerWasmTrainingKernels;
    if (typeof register === 'function') register();
  }
  return true;
}

/**
 * Chooses the tfjs backend for `fit`, `evaluate` and `predict`.
 *
 * @param options - `backend` (default `'auto'`: `tensorflow` when `@tensorflow/tfjs-node` is
 *   installed, else `wasm`, else `cpu`); `wasmKernels` (default true).
 * @example
 * ```ts
 * await fit(module, data, { accelerator: accelerator({ backend: 'cpu' }) });
 * ```
 */
export function accelerator(options: AcceleratorOptions = {}): Accelerator {
  checkOptionKeys('accelerator()', options, ['backend', 'wasmKernels']);
  const requested = options.backend ?? 'auto';
  if (!BACKENDS.includes(requested)) {
    throw new LuzError(`accelerator(): 'backend' must be one of ${BACKENDS.join(', ')}; got ${describe(requested)}.`);
  }
  const kernels = options.wasmKernels ?? true;
  let backend = '';
  return {
    requested,
    get backend() {
      return backend || tf.getBackend();
    },
    async prepare() {
      let ok: boolean;
      if (requested === 'auto') {
        ok = (await useTensorflow()) || (await useWasm(kernels)) || (await activate('cpu'));
      } else if (requested === 'tensorflow') ok = await useTensorflow();
      else if (requested === 'wasm') ok = await useWasm(kernels);
      else ok = await activate(requested);
      if (!ok) {
        const hint = requested === 'tensorflow' ? ` Install ${TFJS_NODE}.` : requested === 'wasm' ? ` Install ${TFJS_WASM}.` : '';
        throw new LuzError(`accelerator(): the '${requested}' backend is not available here.${hint}`);
      }
      backend = tf.getBackend();
      if (backend === 'cpu') {
        // The CPU backend prints a banner recommending tfjs-node on first use; the choice was made
        // deliberately here (tfjs-node is used automatically when installed), so skip it.
        const cpuBackend = tf.backend() as { firstUse?: boolean };
        if (cpuBackend.firstUse) cpuBackend.firstUse = false;
      }
      return backend;
    },
  };
}
