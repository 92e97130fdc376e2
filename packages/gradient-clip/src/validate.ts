/**
 * Argument checks with luz's messages.
 * @internal
 * @module
 */
import { LuzError } from '@luzts/core';

export { checkOptionKeys as checkKeys } from '@luzts/core';

/** Short description of a value: its type and, for arrays, its length (luz: "Got <cls> with length n"). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array with length ${value.length}`;
  if (typeof value === 'string') return `a string (${JSON.stringify(value)})`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (typeof value === 'function') return 'a function';
  return typeof value === 'object' ? (value as object).constructor?.name ?? 'an object' : typeof value;
}

/**
 * luz's check: `'name' should be a numeric scalar value.` plus what was received; `valid` adds a
 * range condition described by `expected`.
 */
export function checkScalar(where: string, name: string, value: unknown, valid: (x: number) => boolean, expected: string): number {
  if (typeof value !== 'number' || Number.isNaN(value) || !valid(value)) {
    throw new LuzError(`${where}: '${name}' should be a numeric scalar value (${expected}). Got ${describeValue(value)}.`);
  }
  return value;
}
