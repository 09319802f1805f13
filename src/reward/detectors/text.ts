// Reading text the agent wrote without letting its size or shape choose what the reading costs:
// Map and Set keys that stay cheap for very long strings, and one pass that finds which of many
// needles occur in a text (instead of one `includes` per needle, per text).
import { createHash } from 'node:crypto';

/** V8 hashes a string longer than this by its length alone: long keys of one length all collide. */
const HASHED_WHOLE = 16_383;

/**
 * A key for `text` in a Map or Set: the text itself when short, else a digest of it. The two
 * kinds cannot meet: a digest key starts with NUL, and so does an escaped short text that did.
 */
export function textKey(text: string): string {
  // utf16le keeps lone surrogates apart (UTF-8 would turn them all into U+FFFD).
  if (text.length > HASHED_WHOLE) return `\u0000#${text.length}:${createHash('sha256').update(text, 'utf16le').digest('base64')}`;
  return text.charCodeAt(0) === 0 ? `\u0000=${text}` : text;
}

/**
 * Many needles searched for at once (Aho–Corasick): `find` walks a text once and reports each
 * needle that occurs in it, whatever the number of needles. The empty needle occurs everywhere.
 */
export class Needles {
  /** Transitions, keyed by node × 65536 + UTF-16 code unit. */
  private readonly next = new Map<number, number>();
  private readonly fail: number[] = [0];
  /** The needles ending at each node. */
  private readonly ends: (number[] | null)[] = [null];
  /** The nearest node on the fail chain that ends a needle (or -1). */
  private readonly output: number[] = [-1];
  /** The text each node was last reported for: a needle is reported once per text. */
  private readonly seenIn: number[] = [-1];
  private texts = 0;
  private readonly empty: number[] = [];

  constructor(needles: readonly string[]) {
    const children: number[][] = [[]];
    needles.forEach((needle, index) => {
      if (needle === '') return void this.empty.push(index);
      let node = 0;
      for (let i = 0; i < needle.length; i++) {
        const key = node * 0x10000 + needle.charCodeAt(i);
        let child = this.next.get(key);
        if (child === undefined) {
          child = this.fail.length;
          this.next.set(key, child);
          this.fail.push(0);
          this.ends.push(null);
          this.output.push(-1);
          this.seenIn.push(-1);
          children.push([]);
          children[node]!.push(child, needle.charCodeAt(i));
        }
        node = child;
      }
      (this.ends[node] ??= []).push(index);
    });
    // Breadth first, so every node's fail link is settled before its children's.
    const queue: number[] = [];
    for (let i = 0; i < children[0]!.length; i += 2) queue.push(children[0]![i]!);
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head]!;
      const list = children[node]!;
      for (let i = 0; i < list.length; i += 2) {
        const child = list[i]!;
        const code = list[i + 1]!;
        let f = this.fail[node]!;
        let target = this.step(f, code);
        while (target === undefined && f !== 0) {
          f = this.fail[f]!;
          target = this.step(f, code);
        }
        const link = target !== undefined && target !== child ? target : 0;
        this.fail[child] = link;
        this.output[child] = this.ends[link] ? link : this.output[link]!;
        queue.push(child);
      }
    }
  }

  private step(node: number, code: number): number | undefined {
    return this.next.get(node * 0x10000 + code);
  }

  /** Calls `found` once for each needle (by its index) that occurs in `text`. */
  find(text: string, found: (needle: number) => void): void {
    const stamp = this.texts++;
    for (const index of this.empty) found(index);
    let node = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      let next = this.step(node, code);
      while (next === undefined && node !== 0) {
        node = this.fail[node]!;
        next = this.step(node, code);
      }
      node = next ?? 0;
      // Every node on an output chain was reported with the first one: stop at one already seen.
      for (let at = this.ends[node] ? node : this.output[node]!; at !== -1 && this.seenIn[at] !== stamp; at = this.output[at]!) {
        this.seenIn[at] = stamp;
        for (const index of this.ends[at]!) found(index);
      }
    }
  }
}

/** Which of many suffixes a word ends with: a walk from the word's end through a trie of the reversed suffixes. */
export class Suffixes {
  private readonly next = new Map<number, number>();
  private readonly ends: (number[] | null)[] = [null];

  constructor(suffixes: readonly string[]) {
    suffixes.forEach((suffix, index) => {
      let node = 0;
      for (let i = suffix.length - 1; i >= 0; i--) {
        const key = node * 0x10000 + suffix.charCodeAt(i);
        let child = this.next.get(key);
        if (child === undefined) {
          child = this.ends.length;
          this.next.set(key, child);
          this.ends.push(null);
        }
        node = child;
      }
      (this.ends[node] ??= []).push(index);
    });
  }

  /** Calls `found` with the index of each suffix `word` ends with. */
  find(word: string, found: (suffix: number) => void): void {
    let node: number | undefined = 0;
    for (let i = word.length; node !== undefined; i--) {
      for (const index of this.ends[node] ?? []) found(index);
      if (i === 0) return;
      node = this.next.get(node * 0x10000 + word.charCodeAt(i - 1));
    }
  }
}

/**
 * White space within a line, for a pattern's line start (`^${INDENT}`): `^\s*` would let every line
 * start of a long blank run rescan the rest of it.
 */
export const INDENT = String.raw`[^\S\n\r\u2028\u2029]*`;

/** The texts without repeats, in their first order (keyed by `textKey`, so long texts cost their length once). */
export function uniqueTexts(texts: Iterable<string>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const text of texts) {
    const key = textKey(text);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(text);
  }
  return out;
}
