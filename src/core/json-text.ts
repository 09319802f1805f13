// JSON text of values that never change once built (a rollout's wire messages, an environment's
// tool list), computed once and reused by everything that serialises them: every request body of
// a rollout repeats its whole history and the ~8 KB tool list, and the store writes them again.
import type { JsonValue } from './json.ts';

const texts = new WeakMap<object, string | null>();

/**
 * Promises that `value` will not be mutated from now on, so its JSON text may be kept. Only the
 * code that built the object can promise that; text is computed on first use.
 */
export function markImmutable<T extends JsonValue>(value: T): T {
  if (value !== null && typeof value === 'object' && !texts.has(value)) texts.set(value, null);
  return value;
}

/**
 * Exactly `JSON.stringify(value)`, reusing the kept text of values marked immutable found down to
 * `depth` levels below `value` (a request body's `messages` elements are two levels down).
 */
export function jsonText(value: JsonValue, depth = 0): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const kept = texts.get(value);
  if (kept !== undefined) {
    if (kept !== null) return kept;
    const text = JSON.stringify(value);
    texts.set(value, text);
    return text;
  }
  // A toJSON method (a Date from a config) decides its own text.
  if (depth === 0 || typeof (value as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(value);
  if (Array.isArray(value)) {
    // As JSON.stringify: a hole or undefined in an array is written as null.
    let text = '[';
    for (let i = 0; i < value.length; i++) text += `${i > 0 ? ',' : ''}${value[i] === undefined ? 'null' : jsonText(value[i]!, depth - 1)}`;
    return `${text}]`;
  }
  let text = '{';
  let first = true;
  for (const key of Object.keys(value)) {
    const member = value[key];
    if (member === undefined) continue; // omitted, as JSON.stringify does
    text += `${first ? '' : ','}${JSON.stringify(key)}:${jsonText(member, depth - 1)}`;
    first = false;
  }
  return `${text}}`;
}
