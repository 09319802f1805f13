import { createHash, randomUUID } from 'node:crypto';
import type { ChatTemplate } from '../../formats/index.ts';
import type { FakePolicy } from './policy.ts';
import type { TokenCodec } from './tokens.ts';
import { EngineError } from './wire.ts';

/** Everything a route needs, built once when the engine starts (no per-request loading). */
export interface EngineContext {
  model: string;
  template: ChatTemplate;
  codec: TokenCodec;
  policy: FakePolicy;
  seed: number;
  eos: { text: string; id: number };
  maxModelLen: number;
  reasoningField: 'reasoning' | 'reasoning_content';
  /** Unix seconds, for `created`. */
  now: () => number;
  /** The generation prompt the template appends (`<|im_start|>assistant\n`), to read raw prompts; null when it cannot be told. */
  assistantHeader: string | null;
}

/** vLLM answers 404 for a model it does not serve; no model at all is fine. */
export function checkModel(context: EngineContext, model: string | null | undefined): void {
  if (model !== null && model !== undefined && model !== context.model) {
    throw new EngineError(404, `The model \`${model}\` does not exist.`, 'model');
  }
}

/** Response ids are unique per response (as vLLM's random ones), never part of what is seeded. */
export function responseId(prefix: string): string {
  return `${prefix}-${randomUUID().replaceAll('-', '')}`;
}

export function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** A tool call id derived from the seed and the conversation, so a replayed conversation sends back the same ids. */
export function toolCallId(seed: number, conversation: string, index: number): string {
  return `chatcmpl-tool-${digest([seed, conversation, index]).slice(0, 32)}`;
}

/**
 * vLLM's context-length checks: the prompt must leave room, and an explicit budget must fit; with
 * none, the rest of the context is the budget.
 */
export function tokenBudget(context: EngineContext, promptTokens: number, requested: number | null | undefined, param: string): number {
  const limit = context.maxModelLen;
  if (promptTokens >= limit) {
    throw new EngineError(400, `This model's maximum context length is ${limit} tokens. However, your request has ${promptTokens} input tokens. Please reduce the length of the input messages.`, 'messages');
  }
  if (requested === null || requested === undefined) return limit - promptTokens;
  if (promptTokens + requested > limit) {
    throw new EngineError(
      400,
      `'${param}' is too large: ${requested}. This model's maximum context length is ${limit} tokens and your request has ${promptTokens} input tokens (${requested} > ${limit} - ${promptTokens}).`,
      param,
    );
  }
  return requested;
}

export function stopStrings(stop: string | string[] | null | undefined): string[] {
  if (stop === null || stop === undefined) return [];
  return typeof stop === 'string' ? [stop] : stop;
}

export function usage(promptTokens: number, completionTokens: number) {
  return { prompt_tokens: promptTokens, total_tokens: promptTokens + completionTokens, completion_tokens: completionTokens, prompt_tokens_details: null };
}

/** What a route answers: a JSON body, or an event stream whose per-token events are paced by the latency settings. */
export type Reply =
  | { kind: 'json'; body: unknown; tokens: number }
  | { kind: 'sse'; head: string[]; perToken: (string | null)[]; tail: string[] };
