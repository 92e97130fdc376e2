import { luzCallback } from '../callback.js';
import type { LuzContext } from '../context.js';
import { writeLine } from './output.js';

interface SignalProcess {
  on(event: 'SIGINT', listener: () => void): unknown;
  off(event: 'SIGINT', listener: () => void): unknown;
  kill(pid: number, signal: string): unknown;
  pid: number;
}

function nodeProcess(): SignalProcess | undefined {
  const p = (globalThis as { process?: Partial<SignalProcess> }).process;
  return p && typeof p.on === 'function' && typeof p.off === 'function' ? (p as SignalProcess) : undefined;
}

/**
 * Ends a run gracefully on Ctrl-C (SIGINT in Node) or when `fit({ signal })` aborts (default in
 * `fit`, `evaluate` and `predict`): the current batch finishes, `onInterrupt` fires, then
 * `onFitEnd`, and `fit` returns the model trained so far. A second Ctrl-C kills the process.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * setTimeout(() => controller.abort(), 10_000);
 * const fitted = await fit(module, data, { epochs: 100, signal: controller.signal });
 * ```
 */
export const luzCallbackInterrupt = luzCallback({
  name: 'interrupt_callback',
  initialize() {
    this.detach = undefined as (() => void) | undefined;
  },
  attach(ctx: LuzContext) {
    if (this.detach) return;
    const request = () => {
      ctx.interruptRequested = true;
    };
    const proc = nodeProcess();
    const onSigint = () => {
      if (ctx.interruptRequested && proc) {
        proc.off('SIGINT', onSigint);
        proc.kill(proc.pid, 'SIGINT');
        return;
      }
      writeLine('Interrupt received: finishing the current batch, then stopping (Ctrl-C again to kill).');
      request();
    };
    proc?.on('SIGINT', onSigint);
    const signal = ctx.signal;
    if (signal?.aborted) request();
    signal?.addEventListener('abort', request);
    this.detach = () => {
      proc?.off('SIGINT', onSigint);
      signal?.removeEventListener('abort', request);
    };
    ctx.addCleanup(() => this.release());
  },
  release() {
    this.detach?.();
    this.detach = undefined;
  },
  onFitBegin(ctx: LuzContext) { this.attach(ctx); },
  onPredictBegin(ctx: LuzContext) { this.attach(ctx); },
  onValidBegin(ctx: LuzContext) { if (ctx.mode === 'evaluate') this.attach(ctx); },
  onInterrupt(ctx: LuzContext) {
    if (ctx.verbose) writeLine(`Training interrupted at epoch ${ctx.epoch} (iteration ${ctx.iter}); returning the model trained so far.`);
  },
});
