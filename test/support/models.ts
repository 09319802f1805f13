// In-process models for tests of the loop and runner (no HTTP, no script files).
import type { AssistantMessage, ModelClient, ModelRequest, ModelResult } from '../../src/core/index.ts';

export function assistant(partial: Partial<AssistantMessage>): AssistantMessage {
  return { role: 'assistant', content: '', toolCalls: [], ...partial };
}

/** A model whose turn `i` is decided by `turn(i, request)`; the turn index is the number of earlier assistant messages. */
export function functionModel(spec: string, turn: (index: number, request: ModelRequest, signal: AbortSignal) => ModelResult | Promise<ModelResult>): ModelClient {
  return {
    specificationVersion: 'v1',
    spec,
    complete: async (request, { signal }) => turn(request.messages.filter((m) => m.role === 'assistant').length, request, signal),
  };
}

export function reply(message: AssistantMessage, finishReason: 'stop' | 'tool_calls' | 'length' = message.toolCalls.length ? 'tool_calls' : 'stop'): ModelResult {
  return { ok: true, response: { message, finishReason, usage: { promptTokens: 10, completionTokens: 5 } } };
}

/** Plays each task's golden steps one call per turn, then answers. */
export const goldenModel = functionModel('test:golden', (i, request) => {
  const user = request.messages.find((m) => m.role === 'user')?.content ?? '';
  const id = /counter (\w)/.exec(user)?.[1] ?? 'a';
  if (i < 2) return reply(assistant({ reasoning: { text: `step ${i}`, source: 'reasoning_field' }, toolCalls: [{ id: `c${i}`, name: 'increment', arguments: { id }, argumentsText: JSON.stringify({ id }) }] }));
  return reply(assistant({ content: 'done' }));
});
