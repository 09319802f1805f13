import type { TokenCodec } from './tokens.ts';

/** What the engine "sampled": ids after stop strings and the token budget were applied. */
export interface Generation {
  ids: number[];
  /** The output text vLLM reports: stop strings and the end-of-turn token left out. */
  text: string;
  /** Each id's share of `text` (empty for ids that add no text, such as the end-of-turn token). */
  pieces: string[];
  finishReason: 'stop' | 'length';
  /** vLLM's `stop_reason`: the matched stop string, or null for the end-of-turn token and length. */
  stopReason: string | null;
}

export interface GenerateOptions {
  maxTokens: number;
  stop: readonly string[];
  eosId: number;
}

/**
 * Plays out `ids` (a full turn ending in the end-of-turn token) as a decoder would: it stops at
 * the first stop string (whose text is then left out, with the ids up to the token completing
 * it kept), at the end-of-turn token, or after `maxTokens` ids.
 */
export function generate(codec: TokenCodec, ids: readonly number[], options: GenerateOptions): Generation {
  const raw = codec.pieces(ids);
  const longestStop = Math.max(0, ...options.stop.map((s) => s.length));
  let text = '';
  for (let k = 0; k < ids.length; k++) {
    if (k >= options.maxTokens) return finish(ids.slice(0, k), raw.slice(0, k), text, { finishReason: 'length', stopReason: null });
    const id = ids[k] as number;
    if (id === options.eosId) return finish(ids.slice(0, k + 1), [...raw.slice(0, k), ''], text, { finishReason: 'stop', stopReason: null });
    const before = text.length;
    text += raw[k] as string;
    for (const stop of options.stop) {
      if (stop === '') continue;
      const at = text.indexOf(stop, Math.max(0, before - longestStop + 1));
      if (at >= 0) return finish(ids.slice(0, k + 1), raw.slice(0, k + 1), text.slice(0, at), { finishReason: 'stop', stopReason: stop });
    }
  }
  // A turn without its end-of-turn token only arrives here when the budget covered it exactly.
  return finish([...ids], raw, text, { finishReason: 'length', stopReason: null });
}

function finish(ids: number[], raw: string[], text: string, end: Pick<Generation, 'finishReason' | 'stopReason'>): Generation {
  // Clip each id's piece to the reported text, so the pieces always add up to it.
  const pieces: string[] = [];
  let at = 0;
  for (const piece of raw) {
    const start = Math.min(at, text.length);
    pieces.push(text.slice(start, Math.min(at + piece.length, text.length)));
    at += piece.length;
  }
  return { ids, text, pieces, ...end };
}
