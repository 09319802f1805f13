import type { TokenCodec } from './tokens.ts';

// Deterministic, plausible logprobs: a function of (seed, position, token id) only, so the same
// completion always gets the same numbers, whichever request or stream it arrives in. Most
// sampled tokens are near-certain with a tail of uncertain ones, as in real traces; top-k
// alternatives share what probability is left, each less likely than the one before.

/** 32-bit integer hash (a murmur3 finaliser over the combined inputs). */
function mix(a: number, b: number, c: number, d = 0): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35) ^ Math.imul(c + 0x2545f491, 0x27d4eb2f) ^ Math.imul(d + 0x165667b1, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function sampledLogprob(seed: number, position: number, id: number): number {
  const u = mix(seed, position, id) / 4294967296;
  // p in (0.05, 0.99995]: logprob between about -3.0 and -0.00005; about two thirds above -0.1.
  return Math.log(0.99995 - 0.95 * u ** 6);
}

export interface TokenLogprob {
  id: number;
  logprob: number;
}

/** The sampled token first, then `k` distinct alternatives from the ordinary vocabulary (fewer only if it is smaller), most likely first. */
export function topLogprobs(codec: TokenCodec, seed: number, position: number, id: number, k: number): TokenLogprob[] {
  const sampled = sampledLogprob(seed, position, id);
  const out: TokenLogprob[] = [{ id, logprob: sampled }];
  const rest = 1 - Math.exp(sampled);
  const { start, end } = codec.ordinaryIds;
  const range = end - start;
  const seen = new Set([id]);
  // The search for an unseen id ends only while one is left: a tiny ordinary range gives fewer alternatives.
  const room = range - (id >= start && id < end ? 1 : 0);
  for (let j = 1; j <= Math.min(k, room); j++) {
    let alt = start + (mix(seed, position, id, j) % range);
    while (seen.has(alt)) alt = start + ((alt - start + 1) % range);
    seen.add(alt);
    out.push({ id: alt, logprob: Math.log(Math.max(rest * 0.9 * 0.5 ** j, 1e-12)) });
  }
  return out;
}

export interface ChatLogprobEntry {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

function tokenString(codec: TokenCodec, id: number, asIds: boolean): string {
  return asIds ? `token_id:${id}` : codec.tokenText(id);
}

function bytesOf(text: string): number[] {
  return [...Buffer.from(text, 'utf8')];
}

export interface LogprobOptions {
  seed: number;
  /** Position of the first id in the completion (streams send slices). */
  offset?: number;
  topK: number;
  /** vLLM's `return_tokens_as_token_ids`: tokens as `token_id:<id>`. */
  asTokenIds: boolean;
}

/** `choices[i].logprobs.content` entries of a chat completion, one per id. */
export function chatLogprobs(codec: TokenCodec, ids: readonly number[], options: LogprobOptions): ChatLogprobEntry[] {
  return ids.map((id, i) => {
    const top = topLogprobs(codec, options.seed, (options.offset ?? 0) + i, id, options.topK);
    const token = tokenString(codec, id, options.asTokenIds);
    const entries = options.topK > 0 ? top.slice(0, options.topK) : [];
    return {
      token,
      logprob: (top[0] as TokenLogprob).logprob,
      bytes: bytesOf(token),
      top_logprobs: entries.map((entry) => {
        const text = tokenString(codec, entry.id, options.asTokenIds);
        return { token: text, logprob: entry.logprob, bytes: bytesOf(text) };
      }),
    };
  });
}

/** `choices[i].logprobs` of a legacy completion (`/v1/completions`). */
export function completionLogprobs(codec: TokenCodec, ids: readonly number[], pieces: readonly string[], options: LogprobOptions) {
  const tokens: string[] = [];
  const tokenLogprobs: number[] = [];
  const top: Record<string, number>[] = [];
  const textOffset: number[] = [];
  let offset = 0;
  ids.forEach((id, i) => {
    const entries = topLogprobs(codec, options.seed, i, id, options.topK);
    tokens.push(tokenString(codec, id, options.asTokenIds));
    tokenLogprobs.push((entries[0] as TokenLogprob).logprob);
    top.push(Object.fromEntries(entries.map((entry) => [tokenString(codec, entry.id, options.asTokenIds), entry.logprob])));
    textOffset.push(offset);
    offset += (pieces[i] ?? '').length;
  });
  return { text_offset: textOffset, token_logprobs: tokenLogprobs, tokens, top_logprobs: top };
}
