// Engines write a token of probability 0 as a logprob of −∞; JSON has no word for it, so an engine
// that serialises it as a number past the double range (-1e999) is read by JSON.parse as −∞, and
// +1e999 as +∞, which no logprob can be. What each client keeps and what it refuses, naming where.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message, ModelResult } from '../core/index.ts';
import { loadChatTemplate } from '../formats/index.ts';
import { createOpenAIChat } from './openai-chat.ts';
import { createTextCompletionModel } from './text-completion.ts';
import { fakeFetch, noSleep, request, signal, type FakeReply } from './testing.ts';

const messages: Message[] = [{ role: 'user', content: 'Say hi.' }];

/** A chat completion body as an engine writes it, its two logprobs spelled as given. */
function chatBody(first: string, second: string): string {
  return `{"id":"c1","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi!"},"finish_reason":"stop","token_ids":[5,6],"logprobs":{"content":[{"token":"hi","logprob":${first}},{"token":"!","logprob":${second}}]}}],"prompt_token_ids":[1,2]}`;
}

/** The same answer streamed: one chunk per token, then the finish. */
function chatStream(first: string, second: string): string {
  const chunk = (delta: string, logprob: string) => `data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"${delta}"},"logprobs":{"content":[{"token":"${delta}","logprob":${logprob}}]},"finish_reason":null}]}\n\n`;
  return `${chunk('hi', first)}${chunk('!', second)}data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`;
}

async function chat(reply: FakeReply, stream = false): Promise<ModelResult> {
  const client = createOpenAIChat({ baseURL: 'http://127.0.0.1:8000/v1', model: 'm', fetch: fakeFetch([reply]).fetch, sleep: noSleep, maxRetries: 0, stream });
  return client.complete(request({ messages }), { signal });
}

describe('engine logprobs JSON cannot spell', () => {
  it('keeps a −∞ logprob (-1e999) of a chat completion, streamed or not', async () => {
    for (const result of [await chat({ text: chatBody('-0.5', '-1e999') }), await chat({ sse: chatStream('-0.5', '-1e999') }, true)]) {
      assert.ok(result.ok, result.ok ? '' : result.message);
      assert.deepEqual(result.response.tokens?.completionLogprobs, [-0.5, Number.NEGATIVE_INFINITY]);
    }
  });

  it('refuses a +∞ logprob (1e999) of a chat completion as a malformed response naming the token, streamed or not', async () => {
    for (const result of [await chat({ text: chatBody('1e999', '-0.1') }), await chat({ sse: chatStream('1e999', '-0.1') }, true)]) {
      assert.ok(!result.ok);
      assert.equal(result.kind, 'malformed_response');
      assert.equal(result.retryable, false);
      assert.match(result.message, /choices\[0\]\.logprobs\.content\[0\]\.logprob is Infinity \(expected a logprob: a number ≤ 0, or -Infinity/);
    }
  });

  it('keeps a −∞ and refuses a +∞ logprob of a text completion the same way', async () => {
    const template = await loadChatTemplate(new URL('../../test/fixtures/formats/qwen3-style.jinja', import.meta.url).pathname);
    const complete = async (logprobs: string) => {
      const body = `{"id":"x","model":"m","choices":[{"index":0,"text":"hi!","finish_reason":"stop","token_ids":[5,6],"logprobs":{"tokens":["hi","!"],"token_logprobs":${logprobs}}}]}`;
      const client = createTextCompletionModel({ baseURL: 'http://127.0.0.1:8000/v1', model: 'm', template, format: 'hermes', fetch: fakeFetch([{ text: body }]).fetch, sleep: noSleep, maxRetries: 0 });
      return client.complete(request({ messages }), { signal });
    };
    const kept = await complete('[-0.5,-1e999]');
    assert.ok(kept.ok, kept.ok ? '' : kept.message);
    assert.deepEqual(kept.response.tokens?.completionLogprobs, [-0.5, Number.NEGATIVE_INFINITY]);
    const refused = await complete('[-0.5,1e999]');
    assert.ok(!refused.ok);
    assert.equal(refused.kind, 'malformed_response');
    assert.match(refused.message, /choices\[0\]\.logprobs\.token_logprobs\[1\] is Infinity/);
  });
});
