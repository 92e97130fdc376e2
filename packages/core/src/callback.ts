/**
 * The callback protocol: `luzCallback()`, the `LuzCallback` type, event names, ordering and dispatch.
 * @module
 */
import { LuzError, LuzCallbackError, LuzSignal, describe } from './errors.js';
import type { LuzContext } from './context.js';

/** luz's events in the order they fire during `fit` (see the event diagram in the docs). */
export const fitEvents = [
  'onFitBegin',
  'onEpochBegin',
  'onTrainBegin',
  'onTrainBatchBegin',
  'onTrainBatchAfterPred',
  'onTrainBatchAfterLoss',
  'onTrainBatchBeforeBackward',
  'onTrainBatchBeforeStep',
  'onTrainBatchAfterStep',
  'onTrainBatchEnd',
  'onTrainEnd',
  'onValidBegin',
  'onValidBatchBegin',
  'onValidBatchAfterPred',
  'onValidBatchAfterLoss',
  'onValidBatchEnd',
  'onValidEnd',
  'onEpochEnd',
  'onFitEnd',
] as const;

/** Events of `predict`, and the events fired on a stop path. */
export const otherEvents = ['onPredictBegin', 'onPredictBatchBegin', 'onPredictBatchEnd', 'onPredictEnd', 'onEarlyStopping', 'onInterrupt'] as const;

/** A built-in event name. Callbacks may also define and fire their own (`on` + a capital letter). */
export type LuzEvent = (typeof fitEvents)[number] | (typeof otherEvents)[number];

/**
 * Events that fire inside tfjs's gradient function, which is synchronous: their handlers must not
 * return a promise.
 */
export const synchronousEvents: ReadonlySet<string> = new Set(['onTrainBatchAfterPred', 'onTrainBatchAfterLoss', 'onTrainBatchBeforeBackward']);

/** An event handler: receives the context; may be async except for {@link synchronousEvents}. */
export type EventHandler = (ctx: LuzContext) => void | Promise<void>;

const BRAND = Symbol.for('luzts.callback');

/** A callback instance, as passed to `fit({ callbacks })`. */
export interface LuzCallback {
  /** Name used in error messages and checkpoints, e.g. `'early_stopping_callback'`. */
  readonly name: string;
  /** Ordering: stable ascending sort, defaults first; `Infinity` runs last. Default 0. */
  weight: number;
  /** State to save in checkpoints (plain data). */
  stateDict?(): unknown;
  /** Restores what {@link LuzCallback.stateDict} returned. */
  loadStateDict?(state: unknown): void;
  /** Event handlers (`onEpochEnd(ctx)`, ...), helper methods and fields. */
  [member: string]: unknown;
}

/**
 * Definition of a callback for {@link luzCallback}. Every `on...` member is an event handler that
 * receives `ctx` (and sees the instance as `this`); other members are helper methods or fields
 * copied onto each instance.
 */
export interface LuzCallbackDefinition<O> {
  /** Name of the callback, e.g. `'print_callback'`. Required. */
  name: string;
  /** Ordering weight. Default 0. */
  weight?: number;
  /** Runs when the factory is called, with its options; set per-instance state here. */
  initialize?: (options: O) => void;
  stateDict?: () => unknown;
  loadStateDict?: (state: any) => void;
  /** Event handlers: any `on...` member receives the context. */
  [event: `on${string}`]: ((ctx: LuzContext) => void | Promise<void>) | undefined;
  [member: string]: unknown;
}

/** True for a callback instance created by a {@link luzCallback} factory. */
export function isLuzCallback(x: unknown): x is LuzCallback {
  return !!x && typeof x === 'object' && (x as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Defines a callback (luz's `luz_callback`). Returns a factory: call it with the options to get an
 * instance for `fit({ callbacks: [...] })`.
 *
 * @example
 * ```ts
 * const luzCallbackPrintLoss = luzCallback<{ every?: number }>({
 *   name: 'print_loss_callback',
 *   initialize({ every = 1 } = {}) { this.every = every; },
 *   onEpochEnd(ctx) { if (ctx.epoch % this.every === 0) console.log(ctx.getMetric('loss', 'train')); },
 * });
 * await fit(module, data, { callbacks: [luzCallbackPrintLoss({ every: 2 })] });
 * ```
 */
export function luzCallback<O = Record<string, never>>(
  definition: LuzCallbackDefinition<O> & ThisType<any>,
): (options?: O) => LuzCallback {
  if (!definition || typeof definition !== 'object') {
    throw new LuzError(`luzCallback(): expected a definition object, got ${describe(definition)}.`);
  }
  if (typeof definition.name !== 'string' || definition.name.length === 0) {
    throw new LuzError(`luzCallback(): 'name' must be a non-empty string, got ${describe(definition.name)}.`);
  }
  const weight = definition.weight ?? 0;
  if (typeof weight !== 'number' || Number.isNaN(weight)) {
    throw new LuzError(`luzCallback(): 'weight' must be a number (Infinity allowed), got ${describe(weight)}.`);
  }
  for (const [key, value] of Object.entries(definition)) {
    if (/^on[A-Z]/.test(key) && typeof value !== 'function') {
      throw new LuzError(`luzCallback(): event handler '${key}' of '${definition.name}' must be a function, got ${describe(value)}.`);
    }
  }
  const { initialize, ...members } = definition;
  const factory = (options?: O): LuzCallback => {
    const instance = { ...members, weight } as LuzCallback;
    Object.defineProperty(instance, BRAND, { value: true });
    initialize?.call(instance, (options ?? {}) as O);
    return instance;
  };
  Object.defineProperty(factory, 'name', { value: definition.name });
  return factory;
}

/** Validates user callbacks and returns defaults + user callbacks, stably sorted by weight. */
export function orderCallbacks(defaults: LuzCallback[], user: unknown): LuzCallback[] {
  const list = user === undefined || user === null ? [] : Array.isArray(user) ? user : [user];
  list.forEach((cb, i) => {
    if (!isLuzCallback(cb)) {
      const hint = typeof cb === 'function' ? ' Perhaps you forgot to call the callback factory, e.g. luzCallbackEarlyStopping()?' : '';
      throw new LuzError(`Callbacks must be LuzCallback instances, but 'callbacks[${i}]' is ${describe(cb)}.${hint}`);
    }
  });
  const all = [...defaults, ...(list as LuzCallback[])];
  return all.map((cb, i) => [cb, i] as const).sort((a, b) => a[0].weight - b[0].weight || a[1] - b[1] || 0).map(([cb]) => cb);
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return !!x && typeof (x as PromiseLike<unknown>).then === 'function';
}

/**
 * Dispatches events to callbacks in order. Handler lists are computed once per event name.
 * Errors are wrapped in {@link LuzCallbackError}; control signals propagate unchanged.
 */
export class CallbackDispatcher {
  private readonly cache = new Map<string, Array<[LuzCallback, EventHandler]>>();
  constructor(readonly callbacks: readonly LuzCallback[]) {}

  private handlers(event: string): Array<[LuzCallback, EventHandler]> {
    let list = this.cache.get(event);
    if (!list) {
      list = [];
      for (const cb of this.callbacks) {
        const fn = cb[event];
        if (typeof fn === 'function') list.push([cb, fn as EventHandler]);
      }
      this.cache.set(event, list);
    }
    return list;
  }

  /** Calls `event` on every callback, awaiting async handlers one after the other. */
  async call(event: string, ctx: LuzContext): Promise<void> {
    for (const [cb, fn] of this.handlers(event)) {
      try {
        const r = fn.call(cb, ctx);
        if (isThenable(r)) await r;
      } catch (e) {
        throw wrap(cb, event, e);
      }
    }
  }

  /** Calls a synchronous event; a handler returning a promise is an error naming it. */
  callSync(event: string, ctx: LuzContext): void {
    for (const [cb, fn] of this.handlers(event)) {
      let r: unknown;
      try {
        r = fn.call(cb, ctx);
      } catch (e) {
        throw wrap(cb, event, e);
      }
      if (isThenable(r)) {
        throw new LuzCallbackError(cb.name, event, new LuzError(`${event} fires inside the synchronous gradient computation; the handler of '${cb.name}' returned a promise. Make it synchronous, or move the work to another event.`));
      }
    }
  }
}

function wrap(cb: LuzCallback, event: string, e: unknown): unknown {
  if (e instanceof LuzSignal || e instanceof LuzCallbackError) return e;
  return new LuzCallbackError(cb.name, event, e);
}
