// The fields the gateway adds to an upstream request so the engine reports token ids and
// logprobs, and their removal from what the client receives: a client gets the bytes it would
// have got without the gateway, unless it asked for those fields itself (or records them itself).
import type { JsonObject, JsonValue } from '../../core/index.ts';

export type EngineKind = 'vllm' | 'sglang';

/** What the client's own body asked for; the gateway leaves those fields in the answer. */
export interface Asked {
  logprobs: boolean;
  tokenIds: boolean;
}

export const ASKED_NOTHING: Asked = { logprobs: false, tokenIds: false };
export const ASKED_ALL: Asked = { logprobs: true, tokenIds: true };

/** The chat fields each engine reads: vLLM ≥ 0.10.2 `return_token_ids`; SGLang also wants the prompt ids asked for. */
export function chatCaptureFields(engine: EngineKind): JsonObject {
  return engine === 'sglang' ? { logprobs: true, return_token_ids: true, return_prompt_token_ids: true } : { logprobs: true, return_token_ids: true };
}

/** `/v1/completions` takes a count of top logprobs; 0 still reports each sampled token's own. */
export function completionCaptureFields(engine: EngineKind, clientLogprobs: JsonValue | undefined): JsonObject {
  const logprobs = typeof clientLogprobs === 'number' && clientLogprobs > 0 ? clientLogprobs : 0;
  return engine === 'sglang' ? { logprobs, return_token_ids: true, return_prompt_token_ids: true } : { logprobs, return_token_ids: true };
}

export function askedOfChat(body: JsonObject): Asked {
  return { logprobs: body.logprobs === true, tokenIds: body.return_token_ids === true || body.return_prompt_token_ids === true };
}

export function askedOfCompletion(body: JsonObject): Asked {
  return { logprobs: typeof body.logprobs === 'number', tokenIds: body.return_token_ids === true || body.return_prompt_token_ids === true };
}

function isRecord(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Puts a field the gateway caused back the way the engine writes it when nobody asked: vLLM
 * serialises every field, unset ones as null; SGLang is taken to leave them out.
 */
function unset(target: { [key: string]: JsonValue }, key: string, engine: EngineKind): void {
  if (!(key in target)) return;
  if (engine === 'vllm') target[key] = null;
  else delete target[key];
}

/** A shallow copy with its `choices` and each choice copied, so the upstream's parsed body (which is recorded) stays intact. */
function copyChoices(body: { [key: string]: JsonValue }): { [key: string]: JsonValue } {
  const copy = { ...body };
  if (Array.isArray(body.choices)) copy.choices = body.choices.map((choice) => (isRecord(choice) ? { ...choice } : choice));
  return copy;
}

/**
 * A chat body or chunk without what the gateway added and the client did not ask for, or null for
 * a stream chunk left with nothing in it, which the engine would not have sent (vLLM skips empty
 * deltas unless token ids are asked for).
 */
export function stripChat(body: { [key: string]: JsonValue }, asked: Asked, engine: EngineKind): { [key: string]: JsonValue } | null {
  if (asked.logprobs && asked.tokenIds) return body;
  // Decided before anything is copied: most chunks of a stream carry only what the gateway added.
  if (!carriesOnceStripped(body, asked)) return null;
  const copy = copyChoices(body);
  if (!asked.tokenIds) unset(copy, 'prompt_token_ids', engine);
  for (const choice of Array.isArray(copy.choices) ? copy.choices : []) {
    if (!isRecord(choice)) continue;
    if (!asked.tokenIds) {
      unset(choice, 'token_ids', engine);
      if (engine === 'sglang') unset(choice, 'prompt_token_ids', engine);
    }
    if (!asked.logprobs && 'logprobs' in choice) choice.logprobs = null;
  }
  return copy;
}

/** Object.keys(record).length > 0, without the array. */
function hasKeys(record: { [key: string]: JsonValue }): boolean {
  for (const _key in record) return true;
  return false;
}

/** Whether a body, or a chunk, still carries anything once the token fields the client did not ask for are gone. */
function carriesOnceStripped(body: { [key: string]: JsonValue }, asked: Asked): boolean {
  const choices = Array.isArray(body.choices) ? body.choices : [];
  const first = choices[0];
  // A whole body (no `delta`) always does.
  if (!isRecord(first) || !('delta' in first)) return true;
  for (const choice of choices) if (isRecord(choice) && chunkChoiceCarries(choice, asked)) return true;
  return isRecord(body.usage) || (asked.tokenIds && Array.isArray(body.prompt_token_ids));
}

function chunkChoiceCarries(choice: { [key: string]: JsonValue }, asked: Asked): boolean {
  if (isRecord(choice.delta) && hasKeys(choice.delta)) return true;
  if (choice.finish_reason !== null && choice.finish_reason !== undefined) return true;
  return (asked.logprobs && choice.logprobs !== null && choice.logprobs !== undefined) || (asked.tokenIds && Array.isArray(choice.token_ids));
}

/** The same for a `/v1/completions` body or chunk: token ids and logprobs per choice. */
export function stripCompletion(body: { [key: string]: JsonValue }, asked: Asked, engine: EngineKind): { [key: string]: JsonValue } {
  if (asked.logprobs && asked.tokenIds) return body;
  const copy = copyChoices(body);
  if (!asked.tokenIds) unset(copy, 'prompt_token_ids', engine);
  for (const choice of Array.isArray(copy.choices) ? copy.choices : []) {
    if (!isRecord(choice)) continue;
    if (!asked.tokenIds) {
      unset(choice, 'token_ids', engine);
      unset(choice, 'prompt_token_ids', engine);
    }
    if (!asked.logprobs && 'logprobs' in choice) choice.logprobs = null;
  }
  return copy;
}

/**
 * vLLM's shape for a client that records tokens itself: prompt ids top-level (SGLang puts them on
 * each choice), so Gauntlet's own adapter reads every engine alike.
 */
export function toVllmShape(body: { [key: string]: JsonValue }): { [key: string]: JsonValue } {
  if (Array.isArray(body.prompt_token_ids)) return body;
  const first = Array.isArray(body.choices) ? body.choices[0] : undefined;
  return isRecord(first) && Array.isArray(first.prompt_token_ids) ? { ...body, prompt_token_ids: first.prompt_token_ids } : body;
}
