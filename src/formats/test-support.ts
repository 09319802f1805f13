// Helpers for tests that load model files: a tokenizer small enough to write out in a test, and
// throwaway model directories.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** GPT-2's byte-to-character table: byte-level BPE vocabularies spell each byte as one of these. */
function byteCharacters(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const out: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + shifted++);
  return out;
}

export interface TinyTokenizerOptions {
  /** Added tokens, `{id, content}`; ids may sit before the bytes (Llama-style) or after them. */
  added?: { id: number; content: string }[];
  /** The id of byte 0; the 256 bytes take the ids from here on. */
  firstByteId?: number;
}

/** A byte-level BPE tokenizer.json with all 256 bytes and no merges: it encodes any text, one id per byte. */
export function tinyTokenizerJson(options: TinyTokenizerOptions = {}): Record<string, unknown> & { model: { type: string; vocab: Record<string, number>; merges: unknown[] } } {
  const first = options.firstByteId ?? 0;
  const vocab: Record<string, number> = {};
  byteCharacters().forEach((char, byte) => (vocab[char] = first + byte));
  const added = (options.added ?? []).map((token) => ({ ...token, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  return {
    version: '1.0',
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', vocab, merges: [] },
  };
}

/** A temporary directory holding `files` (paths relative to it); `remove` deletes it. */
export function modelDir(files: Record<string, string | Uint8Array | object>): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-model-'));
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof content === 'string' || content instanceof Uint8Array ? content : JSON.stringify(content));
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
