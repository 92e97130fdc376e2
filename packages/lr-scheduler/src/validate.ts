/**
 * Argument validation shared by the schedules, the callback and the lr finder.
 * @internal
 * @module
 */
import { LuzError, describeValue } from '@luzts/core';

export { checkOptionKeys as checkKeys } from '@luzts/core';

/** Constraints of {@link checkNumber}. */
export interface NumberRule {
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Inclusive upper bound. */
  max?: number;
  /** Exclusive upper bound. */
  below?: number;
  integer?: boolean;
  /** Allow `Infinity`. Default false. */
  infinite?: boolean;
}

/** Checks a numeric argument and returns it; the error names the argument, the value and the rule. */
export function checkNumber(where: string, name: string, value: unknown, rule: NumberRule = {}): number {
  const parts: string[] = [];
  if (rule.integer) parts.push('an integer');
  else parts.push('a number');
  if (rule.min !== undefined) parts.push(`>= ${rule.min}`);
  if (rule.above !== undefined) parts.push(`> ${rule.above}`);
  if (rule.max !== undefined) parts.push(`<= ${rule.max}`);
  if (rule.below !== undefined) parts.push(`< ${rule.below}`);
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (rule.infinite || Number.isFinite(value)) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.above === undefined || value > rule.above) &&
    (rule.max === undefined || value <= rule.max) &&
    (rule.below === undefined || value < rule.below);
  if (!ok) throw new LuzError(`${where}: '${name}' must be ${parts.join(' ')}, got ${describeValue(value)}.`);
  return value as number;
}

/** Checks that `value` is a function. */
export function checkFunction(where: string, name: string, value: unknown): void {
  if (typeof value !== 'function') throw new LuzError(`${where}: '${name}' must be a function, got ${describeValue(value)}.`);
}

/** Checks that `value` is one of `choices`. */
export function checkChoice<T extends string>(where: string, name: string, value: unknown, choices: readonly T[]): T {
  if (!choices.includes(value as T)) {
    throw new LuzError(`${where}: '${name}' must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describeValue(value)}.`);
  }
  return value as T;
}
