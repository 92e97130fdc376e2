/**
 * Errors and control-flow signals of the training loop.
 * @module
 */

/**
 * An error raised by luzts for bad input or an impossible state. Its message names the argument,
 * the value received and what was expected.
 *
 * @example
 * ```ts
 * try { await fit(module, data, { epochs: -1 }); } catch (e) { if (e instanceof LuzError) console.log(e.message); }
 * ```
 */
export class LuzError extends Error {
  override name = 'LuzError';
}

/**
 * An error thrown by a callback (or a metric) while handling an event. The message names the
 * callback and the event; the original error is kept as `cause`.
 *
 * @example
 * ```ts
 * try { await fit(module, data, { callbacks: [broken()] }); }
 * catch (e) { if (e instanceof LuzCallbackError) console.log(e.callbackName, e.event, e.cause); }
 * ```
 */
export class LuzCallbackError extends Error {
  override name = 'LuzCallbackError';
  constructor(
    /** The `name` of the callback that failed. */
    readonly callbackName: string,
    /** The event being handled, e.g. `onTrainBatchEnd`. */
    readonly event: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`Error while calling callback '${callbackName}' at ${event}: ${reason}`, { cause });
  }
}

/** Base class of the loop's control-flow signals; never an error for the user. */
export abstract class LuzSignal extends Error {}

/**
 * Thrown by {@link stopTraining}: ends the epoch loop. The loop then fires `event` (when given),
 * then `onFitEnd`, and `fit` returns normally.
 */
export class LuzStopTrainingSignal extends LuzSignal {
  override name = 'LuzStopTrainingSignal';
  constructor(readonly event: string | undefined, message: string) {
    super(message);
  }
}

/** Thrown by {@link interruptTraining}: ends the loop, fires `onInterrupt`, then `onFitEnd`. */
export class LuzInterruptSignal extends LuzSignal {
  override name = 'LuzInterruptSignal';
}

/** Thrown by {@link skipEpoch}: abandons the current epoch body; the loop goes on with the next epoch. */
export class LuzSkipEpochSignal extends LuzSignal {
  override name = 'LuzSkipEpochSignal';
}

/**
 * Stops training from inside a callback (luz's `early_stopping` condition). Callbacks later in the
 * list do not see the current event; the loop fires `event` (e.g. `'onEarlyStopping'`), then
 * `onFitEnd`, and `fit` returns the model trained so far.
 *
 * @param event - an event to fire on every callback before `onFitEnd` (default: none).
 * @param reason - a message for logs (default: `'Training stopped'`).
 * @example
 * ```ts
 * const stopAt3 = luzCallback({ name: 'stop_at_3', onEpochEnd(ctx) { if (ctx.epoch === 3) stopTraining('onEarlyStopping'); } });
 * ```
 */
export function stopTraining(event?: string, reason = 'Training stopped'): never {
  throw new LuzStopTrainingSignal(event, reason);
}

/**
 * Interrupts training (luz's `rlang::interrupt()`, what Ctrl-C does): the loop fires `onInterrupt`,
 * then `onFitEnd`, and `fit` returns the model trained so far.
 *
 * @example
 * ```ts
 * const stop = luzCallback({ name: 'stop', onEpochBegin(ctx) { if (ctx.epoch === 3) interruptTraining(); } });
 * ```
 */
export function interruptTraining(reason = 'Training interrupted'): never {
  throw new LuzInterruptSignal(reason);
}

/**
 * Skips the rest of the current epoch (luz's `break_epoch` condition, used by auto-resume): no
 * training, validation or `onEpochEnd` for it; the loop continues with the next epoch.
 *
 * @example
 * ```ts
 * const skipOdd = luzCallback({ name: 'skip_odd', onEpochBegin(ctx) { if (ctx.epoch % 2) skipEpoch(); } });
 * ```
 */
export function skipEpoch(): never {
  throw new LuzSkipEpochSignal('Epoch skipped');
}

/**
 * Formats a value for an error message: short and unambiguous (exported as `describeValue`).
 *
 * @example
 * ```ts
 * throw new LuzError(`'alpha' must be a positive number, got ${describeValue(opts.alpha)}.`);
 * ```
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (isTensorLike(value)) return `a ${value.dtype} tensor of shape [${value.shape.join(', ')}]`;
  const ctor = (value as object).constructor?.name;
  return ctor && ctor !== 'Object' ? `an instance of ${ctor}` : 'an object';
}

function isTensorLike(value: unknown): value is { dtype: string; shape: number[] } {
  const v = value as { dtype?: unknown; shape?: unknown; dataSync?: unknown };
  return typeof v.dtype === 'string' && Array.isArray(v.shape) && typeof v.dataSync === 'function';
}

/**
 * Throws a {@link LuzError} naming the option when `options` has keys outside `allowed`
 * (luz's `...` must be empty), or when `options` is not an object.
 *
 * @example
 * ```ts
 * checkOptionKeys('luzCallbackMixup()', options, ['alpha', 'runValid', 'autoLoss']);
 * ```
 */
export function checkOptionKeys(what: string, options: unknown, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new LuzError(`${what}: expected an options object, got ${describe(options)}.`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const expected = allowed.length ? `Expected one of: ${allowed.join(', ')}.` : 'It takes no options.';
      throw new LuzError(`${what}: unknown option '${key}'. ${expected}`);
    }
  }
}
