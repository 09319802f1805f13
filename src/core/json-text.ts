// JSON of values that never change once built (a rollout's wire messages, an environment's tool
// list), serialised once and reused by everything that writes them: every request body of a
// rollout repeats its whole history and the ~8 KB tool list, and the store writes them again.
import type { JsonValue } from './json.ts';

/** What is kept for a marked value: its text (for the store) and its UTF-8 bytes (for the wire), each made on first use. */
interface Kept {
  text?: string;
  bytes?: Buffer;
}

const kept = new WeakMap<object, Kept>();

/**
 * Promises that `value` will not be mutated from now on, so its JSON may be kept. Only the code
 * that built the object can promise that; the JSON is made on first use.
 */
export function markImmutable<T extends JsonValue>(value: T): T {
  if (value !== null && typeof value === 'object' && !kept.has(value)) kept.set(value, {});
  return value;
}

function textOf(value: object, entry: Kept): string {
  entry.text ??= JSON.stringify(value);
  return entry.text;
}

/**
 * Exactly `JSON.stringify(value)`, reusing the kept text of values marked immutable found down to
 * `depth` levels below `value` (a request body's `messages` elements are two levels down).
 */
export function jsonText(value: JsonValue, depth = 0): string {
  const sink = new TextSink();
  walk(value, depth, sink);
  return sink.out;
}

/**
 * The UTF-8 bytes of `JSON.stringify(value)` as a list of pieces, marked values' pieces kept and
 * shared between calls. A request body written this way is never built as one string: a long
 * conversation's body was flattened and encoded afresh on every call, the largest single source of
 * garbage at a thousand concurrent rollouts.
 */
export function jsonBytes(value: JsonValue, depth = 0): Buffer[] {
  const sink = new BytesSink();
  walk(value, depth, sink);
  return sink.done();
}

/**
 * Bytes of their own rather than a slice of Node's shared 8 KB pool: a small kept piece would
 * otherwise hold a whole pool slab (and every short-lived piece cut from it) for a rollout's life.
 */
function keptBytes(text: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'));
  bytes.write(text, 'utf8');
  return bytes;
}

/** Pieces are only ever read (written to a socket, or concatenated), so one comma serves every body. */
const COMMA = keptBytes(',');

// Sinks are classes rather than object literals of closures: the TypeScript loader names every
// closure it sees created, which costs a property definition per closure, per call.
interface Sink {
  text(piece: string): void;
  marked(value: object, entry: Kept): void;
}

class TextSink implements Sink {
  out = '';
  text(piece: string): void {
    this.out += piece;
  }
  marked(value: object, entry: Kept): void {
    this.out += textOf(value, entry);
  }
}

class BytesSink implements Sink {
  private readonly pieces: Buffer[] = [];
  private pending = '';
  text(piece: string): void {
    this.pending += piece;
  }
  marked(value: object, entry: Kept): void {
    this.flush();
    entry.bytes ??= keptBytes(textOf(value, entry));
    this.pieces.push(entry.bytes);
  }
  done(): Buffer[] {
    this.flush();
    return this.pieces;
  }
  private flush(): void {
    // The comma between two marked values (a body's messages) is one shared piece, not a Buffer each.
    if (this.pending) this.pieces.push(this.pending === ',' ? COMMA : Buffer.from(this.pending, 'utf8'));
    this.pending = '';
  }
}

function walk(value: JsonValue, depth: number, sink: Sink): void {
  if (value === null || typeof value !== 'object') return sink.text(JSON.stringify(value));
  const entry = kept.get(value);
  if (entry) return sink.marked(value, entry);
  // A toJSON method (a Date from a config) decides its own text.
  if (depth === 0 || typeof (value as { toJSON?: unknown }).toJSON === 'function') return sink.text(JSON.stringify(value));
  if (Array.isArray(value)) {
    sink.text('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) sink.text(',');
      // As JSON.stringify: a hole or undefined in an array is written as null.
      if (value[i] === undefined) sink.text('null');
      else walk(value[i]!, depth - 1, sink);
    }
    return sink.text(']');
  }
  sink.text('{');
  let first = true;
  for (const key of Object.keys(value)) {
    const member = value[key];
    if (member === undefined) continue; // omitted, as JSON.stringify does
    sink.text(`${first ? '' : ','}${JSON.stringify(key)}:`);
    first = false;
    walk(member, depth - 1, sink);
  }
  sink.text('}');
}
