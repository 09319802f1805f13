// The JSON text a parsed value came from, for the one thing JavaScript's numbers lose: whether a
// whole number was written as a float. Python's json keeps `2.0` a float, and a chat template
// rendered by transformers prints it `2.0` (`tojson`, `{{ }}`), where a JavaScript 2 prints `2`.
// Tool-call arguments are where models write such numbers, so the objects parsed from them
// remember their text (weakly), and only the template renderer reads it back.
import { parse } from 'lossless-json';
import type { JsonObject } from '../core/index.ts';

const sources = new WeakMap<object, string>();

/** Remembers that `value` was parsed from `text` (read back by `floatsKept`). */
export function rememberJsonSource(value: JsonObject, text: string): void {
  sources.set(value, text);
}

/** A whole number written as a float (`2.0`, `1e3`): a float to Python. */
export class WrittenFloat {
  constructor(readonly value: number) {}
}

/**
 * `value` as its remembered text wrote it, whole floats as WrittenFloat; `value` itself when it
 * has no text or the text has no such number (most arguments: parsing again would change nothing).
 */
export function floatsKept(value: object): unknown {
  const text = sources.get(value);
  if (text === undefined || !/\d[.eE]/.test(text)) return value;
  try {
    return parse(text, null, (number) => {
      const n = Number(number);
      return Number.isInteger(n) && /[.eE]/.test(number) ? new WrittenFloat(n) : n;
    });
  } catch {
    return value;
  }
}
