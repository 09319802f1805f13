import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { ModelResponse, withoutReasoning, type AssistantMessage, type JsonObject, type Message, type ModelResult, type ToolSpec } from '../core/index.ts';
import { createOpenAIChat } from './openai-chat.ts';
import { fakeFetch, noSleep, readFixture, request, signal, type FakeReply } from './testing.ts';

const KEY = 'sk-test-SECRET-0123456789';
const BASE = 'http://127.0.0.1:8000/v1';
const weatherTool: ToolSpec = {
  name: 'get_weather',
  description: 'Current weather for a place.',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
};
const userTurn: Message[] = [
  { role: 'system', content: 'You are helpful.' },
  { role: 'user', content: 'Weather in Paris?' },
];

function client(replies: FakeReply[], options: { flavor?: 'generic' | 'minimax'; timeoutMs?: number; maxRetries?: number } = {}) {
  const fake = fakeFetch(replies);
  const sleeps: number[] = [];
  const chat = createOpenAIChat({
    baseURL: BASE,
    model: 'Qwen/Qwen3-8B',
    apiKey: KEY,
    fetch: fake.fetch,
    sleep: async (ms) => void sleeps.push(ms),
    ...options,
  });
  return { chat, calls: fake.calls, sleeps };
}

function ok(result: ModelResult): ModelResponse {
  if (!result.ok) assert.fail(`expected success, got ${result.kind}: ${result.message}`);
  // Everything an adapter returns must be a valid core record.
  ModelResponse.parse(result.response);
  return result.response;
}

function failed(result: ModelResult): Extract<ModelResult, { ok: false }> {
  if (result.ok) assert.fail('expected a failure');
  return result;
}

/** A conversation after `reply`, with its tool result, ready for the next request. */
function continued(reply: AssistantMessage): Message[] {
  const results: Message[] = reply.toolCalls.map((call) => ({ role: 'tool', toolCallId: call.id, name: call.name, content: '18°C, cloudy', isError: false }));
  return [...userTurn, reply, ...results];
}

describe('OpenAI-compatible chat: parsing recorded responses', () => {
  it('reads a vLLM response: reasoning field, tool call id as received, exact arguments, engine tokens', async () => {
    const fixture = readFixture('vllm-chat-reasoning-tools.json');
    const { chat } = client([{ json: fixture }]);
    const response = ok(await chat.complete(request({ messages: userTurn, tools: [weatherTool] }), { signal }));
    assert.deepEqual(response.message.reasoning, { text: 'The user wants the weather in Paris. I should call get_weather with location Paris.', source: 'reasoning_field' });
    assert.equal(response.message.content, '');
    assert.deepEqual(response.message.toolCalls, [
      {
        id: 'chatcmpl-tool-5b1e0c9d2f8a4e6b9c3d7a1e0f2b4c6d',
        name: 'get_weather',
        arguments: { location: 'Paris', unit: 'celsius' },
        argumentsText: '{"location": "Paris", "unit": "celsius"}',
      },
    ]);
    assert.equal(response.finishReason, 'tool_calls');
    assert.deepEqual(response.usage, { promptTokens: 26, completionTokens: 32, reasoningTokens: 20 });
    assert.equal(response.tokens?.source, 'engine');
    assert.equal(response.tokens?.promptIds?.length, 26);
    assert.deepEqual(response.tokens?.completionIds, [151657, 198, 4913, 606, 788, 151658]);
    assert.deepEqual(response.tokens?.completionLogprobs, [-0.0012, 0, -0.0003, -0.00001, -0.25, -0.0101]);
    assert.equal(response.model, 'Qwen/Qwen3-8B');
    assert.equal(response.responseId, 'chatcmpl-9f2c1e7a4b5d4c3e8a1f0b2d6e7c8a90');
    const choice = (fixture.choices as JsonObject[])[0] as JsonObject;
    assert.equal(response.message.provider?.api, 'openai-chat');
    assert.equal(JSON.stringify(response.message.provider?.message), JSON.stringify(choice.message));
  });

  it('reads an SGLang response: reasoning_content and per-choice prompt ids', async () => {
    const { chat } = client([{ json: readFixture('sglang-chat-reasoning-content.json') }]);
    const response = ok(await chat.complete(request({ messages: userTurn }), { signal }));
    assert.equal(response.message.reasoning?.source, 'reasoning_content_field');
    assert.equal(response.message.reasoning?.text, 'Need the inbox first. Search for messages from Dana about the invoice.');
    assert.equal(response.message.content, "I'll look that up.");
    assert.equal(response.message.toolCalls[0]?.id, 'call_a3f1c2e4b5d6478f9a0b1c2d');
    assert.deepEqual(response.message.toolCalls[0]?.arguments, { query: 'from:dana invoice', limit: 5 });
    assert.deepEqual(response.tokens, {
      source: 'engine',
      promptIds: [151644, 872, 198, 9885, 279, 24588, 151645, 198, 151644, 77091, 198],
      completionIds: [40, 3278, 1401, 429, 705, 13, 151657, 151658],
    });
    assert.equal(response.usage.cachedPromptTokens, 0);
  });

  it('reads MiniMax reasoning_split output, keeping reasoning_details verbatim', async () => {
    const fixture = readFixture('minimax-chat-reasoning-details.json');
    const { chat } = client([{ json: fixture }], { flavor: 'minimax' });
    const response = ok(await chat.complete(request({ messages: userTurn }), { signal }));
    const message = (fixture.choices as JsonObject[])[0]?.message as JsonObject;
    assert.equal(response.message.reasoning?.text, 'I need the weather tool for San Francisco.');
    assert.equal(response.message.reasoning?.source, 'reasoning_content_field');
    assert.deepEqual(response.message.reasoning?.details, message.reasoning_details);
    assert.equal(response.message.toolCalls[0]?.id, 'call_function_6p3v2k8x1m4n_1');
    assert.equal(response.usage.reasoningTokens, 31);
  });

  it('reads reasoning_details alone (OpenRouter-style) as the reasoning source', async () => {
    const details = [{ type: 'reasoning.text', id: 'reasoning-text-1', format: 'MiniMax-response-v1', index: 0, text: 'Think about it.' }];
    const { chat } = client([{ json: { choices: [{ message: { role: 'assistant', content: 'Hi', reasoning_details: details }, finish_reason: 'stop' }] } }]);
    const response = ok(await chat.complete(request({ messages: userTurn }), { signal }));
    assert.deepEqual(response.message.reasoning, { text: 'Think about it.', source: 'reasoning_details', details });
  });

  it('splits MiniMax inline <think> reasoning out of the visible content', async () => {
    const { chat } = client([{ json: readFixture('minimax-chat-inline-think.json') }], { flavor: 'minimax' });
    const response = ok(await chat.complete(request({ messages: userTurn }), { signal }));
    assert.deepEqual(response.message.reasoning, { text: 'The user asked for the weather in SF. Call get_weather.', source: 'inline_think' });
    assert.equal(response.message.content, 'Let me check.');
  });

  it('treats text before a lone </think> as reasoning', async () => {
    const { chat } = client([{ json: { choices: [{ message: { role: 'assistant', content: 'plan quietly\n</think>\n\nAnswer.' }, finish_reason: 'stop' }] } }]);
    const response = ok(await chat.complete(request({ messages: userTurn }), { signal }));
    assert.deepEqual(response.message.reasoning, { text: 'plan quietly', source: 'inline_think' });
    assert.equal(response.message.content, 'Answer.');
  });

  it('keeps malformed tool arguments as text with a parse error', async () => {
    const calls = [
      { id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"location": "Par' } },
      { id: 'c2', type: 'function', function: { name: 'get_weather', arguments: '["Paris"]' } },
    ];
    const { chat } = client([{ json: { choices: [{ message: { role: 'assistant', content: null, tool_calls: calls }, finish_reason: 'tool_calls' }] } }]);
    const response = ok(await chat.complete(request({ messages: userTurn }), { signal }));
    const [first, second] = response.message.toolCalls;
    assert.equal(first?.arguments, null);
    assert.equal(first?.argumentsText, '{"location": "Par');
    assert.match(first?.parseError ?? '', /not valid JSON/);
    assert.equal(second?.arguments, null);
    assert.match(second?.parseError ?? '', /must be a JSON object, got an array/);
  });
});

describe('OpenAI-compatible chat: requests', () => {
  it('resends the received assistant message byte-identical on the next turn', async () => {
    for (const name of ['vllm-chat-reasoning-tools.json', 'sglang-chat-reasoning-content.json', 'minimax-chat-reasoning-details.json', 'minimax-chat-inline-think.json']) {
      const fixture = readFixture(name);
      const { chat, calls } = client([{ json: fixture }, { json: fixture }]);
      const first = ok(await chat.complete(request({ messages: userTurn }), { signal }));
      await chat.complete(request({ messages: continued(first.message) }), { signal });
      const sent = ((calls[1]?.body as JsonObject).messages as JsonObject[])[2];
      const received = ((fixture.choices as JsonObject[])[0] as JsonObject).message;
      assert.equal(JSON.stringify(sent), JSON.stringify(received), name);
    }
  });

  it('omits every kind of reasoning when the scaffold dropped it', async () => {
    for (const name of ['vllm-chat-reasoning-tools.json', 'sglang-chat-reasoning-content.json', 'minimax-chat-reasoning-details.json', 'minimax-chat-inline-think.json']) {
      const fixture = readFixture(name);
      const { chat, calls } = client([{ json: fixture }, { json: fixture }]);
      const first = ok(await chat.complete(request({ messages: userTurn }), { signal }));
      await chat.complete(request({ messages: continued(withoutReasoning(first.message)) }), { signal });
      const sent = ((calls[1]?.body as JsonObject).messages as JsonObject[])[2] as JsonObject;
      for (const key of ['reasoning', 'reasoning_content', 'reasoning_details']) assert.equal(key in sent, false, `${name}: ${key}`);
      assert.doesNotMatch(String(sent.content), /think>/, name);
      assert.deepEqual(sent.tool_calls, (((fixture.choices as JsonObject[])[0] as JsonObject).message as JsonObject).tool_calls, name);
    }
  });

  it('builds assistant turns from parts when they came from another policy', async () => {
    const { chat, calls } = client([{ json: readFixture('sglang-chat-reasoning-content.json') }]);
    const foreign: AssistantMessage = {
      role: 'assistant',
      content: 'Checking.',
      reasoning: { text: 'Look first.', source: 'text_format' },
      toolCalls: [{ id: 'oracle_0', name: 'get_weather', arguments: { location: 'Paris' }, argumentsText: '{"location":"Paris"}' }],
    };
    await chat.complete(request({ messages: continued(foreign) }), { signal });
    const body = calls[0]?.body as JsonObject;
    assert.deepEqual(body.messages, [
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [{ id: 'oracle_0', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }],
        reasoning_content: 'Look first.',
      },
      { role: 'tool', tool_call_id: 'oracle_0', content: '18°C, cloudy' },
    ]);
  });

  it('sends tools, sampling parameters and extra body fields verbatim', async () => {
    const { chat, calls } = client([{ json: readFixture('vllm-chat-reasoning-tools.json') }]);
    const sampling = { temperature: 0.6, topP: 0.95, topK: 20, seed: 7, stop: ['</answer>'], maxTokens: 512, extra: { return_token_ids: true, logprobs: true, chat_template_kwargs: { enable_thinking: true } } };
    await chat.complete(request({ messages: userTurn, tools: [weatherTool], toolChoice: 'auto', sampling }), { signal });
    const call = calls[0];
    assert.equal(call?.url, `${BASE}/chat/completions`);
    assert.equal(call?.headers.authorization, `Bearer ${KEY}`);
    assert.deepEqual(call?.body, {
      model: 'Qwen/Qwen3-8B',
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: 'Weather in Paris?' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather for a place.', parameters: weatherTool.parameters } }],
      tool_choice: 'auto',
      temperature: 0.6,
      top_p: 0.95,
      top_k: 20,
      seed: 7,
      stop: ['</answer>'],
      max_tokens: 512,
      stream: true,
      stream_options: { include_usage: true },
      return_token_ids: true,
      logprobs: true,
      chat_template_kwargs: { enable_thinking: true },
    });
  });

  it('asks MiniMax for split reasoning and max_completion_tokens', async () => {
    const fake = fakeFetch([{ json: readFixture('minimax-chat-reasoning-details.json') }]);
    const chat = createOpenAIChat({ model: 'MiniMax-M2', flavor: 'minimax', apiKey: KEY, fetch: fake.fetch });
    assert.equal(chat.spec, 'minimax:MiniMax-M2');
    ok(await chat.complete(request({ messages: userTurn, sampling: { maxTokens: 1000 } }), { signal }));
    assert.equal(fake.calls[0]?.url, 'https://api.minimax.io/v1/chat/completions');
    const body = fake.calls[0]?.body as JsonObject;
    assert.equal(body.max_completion_tokens, 1000);
    assert.equal('max_tokens' in body, false);
    assert.equal(body.reasoning_split, true);
  });
});

describe('OpenAI-compatible chat: failures', () => {
  const success = { json: readFixture('sglang-chat-reasoning-content.json') };

  it('retries a 500 with backoff and then succeeds, recording the final exchange', async () => {
    const { chat, calls, sleeps } = client([{ status: 500, json: { error: { message: 'overloaded' } } }, { status: 429, text: 'slow down' }, success]);
    const result = await chat.complete(request({ messages: userTurn }), { signal });
    ok(result);
    assert.equal(calls.length, 3);
    assert.deepEqual(sleeps, [500, 1000]);
    assert.equal(result.wire?.status, 200);
    assert.equal(result.wire?.url, `${BASE}/chat/completions`);
    assert.deepEqual(result.wire?.request, calls[2]?.body);
  });

  it('gives up after maxRetries and reports the last HTTP error', async () => {
    const { chat, calls } = client([{ status: 503, text: 'busy' }, { status: 503, text: 'busy' }, { status: 502, text: 'bad gateway' }]);
    const failure = failed(await chat.complete(request({ messages: userTurn }), { signal }));
    assert.equal(calls.length, 3);
    assert.equal(failure.kind, 'http');
    assert.equal(failure.retryable, true);
    assert.match(failure.message, /HTTP 502: bad gateway/);
    assert.equal(failure.wire?.response, 'bad gateway');
  });

  it('does not retry a 400 and says what the server said', async () => {
    const { chat, calls } = client([{ status: 400, json: { error: { message: 'max_tokens is too large' } } }, success]);
    const failure = failed(await chat.complete(request({ messages: userTurn }), { signal }));
    assert.equal(calls.length, 1);
    assert.equal(failure.kind, 'http');
    assert.equal(failure.retryable, false);
    assert.match(failure.message, /HTTP 400: max_tokens is too large/);
    assert.equal(failure.wire?.status, 400);
  });

  it('times out a request that hangs past timeoutMs, then retries it', async () => {
    const { chat, calls } = client(['hang', 'hang-deaf', success], { timeoutMs: 30 });
    const result = await chat.complete(request({ messages: userTurn }), { signal });
    ok(result);
    assert.equal(calls.length, 3);
    const { chat: once } = client(['hang'], { timeoutMs: 30, maxRetries: 0 });
    const failure = failed(await once.complete(request({ messages: userTurn }), { signal }));
    assert.equal(failure.kind, 'timeout');
    assert.equal(failure.retryable, true);
    assert.match(failure.message, /within 30 ms/);
  });

  it('reports a caller abort as aborted and does not retry it', async () => {
    const controller = new AbortController();
    const { chat, calls } = client(['hang', success]);
    const pending = chat.complete(request({ messages: userTurn }), { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    const failure = failed(await pending);
    assert.equal(failure.kind, 'aborted');
    assert.equal(failure.retryable, false);
    assert.equal(calls.length, 1);
  });

  it('reports a body that is not JSON, or has no choices[0].message, as malformed', async () => {
    const { chat } = client([{ text: '{"id":"x","choices":[{"mess' }, { json: { id: 'x', choices: [] } }], { maxRetries: 0 });
    const truncated = failed(await chat.complete(request({ messages: userTurn }), { signal }));
    assert.equal(truncated.kind, 'malformed_response');
    assert.equal(truncated.wire?.response, '{"id":"x","choices":[{"mess');
    const empty = failed(await chat.complete(request({ messages: userTurn }), { signal }));
    assert.equal(empty.kind, 'malformed_response');
    assert.match(empty.message, /choices\[0\]\.message/);
  });

  it('reports a refused connection as a retryable connection failure', async () => {
    const port = await closedPort();
    const chat = createOpenAIChat({ baseURL: `http://127.0.0.1:${port}/v1`, model: 'm', apiKey: KEY, sleep: noSleep, maxRetries: 1 });
    const failure = failed(await chat.complete(request({ messages: userTurn }), { signal }));
    assert.equal(failure.kind, 'connection');
    assert.equal(failure.retryable, true);
    assert.match(failure.message, /ECONNREFUSED/);
  });

  it('never lets the API key into results, even when the server echoes it', async () => {
    const echo = { status: 401, json: { error: { message: `Incorrect API key provided: ${KEY}` } } };
    const { chat } = client([echo, success]);
    const results = [await chat.complete(request({ messages: userTurn }), { signal }), await chat.complete(request({ messages: userTurn }), { signal })];
    for (const result of results) assert.equal(JSON.stringify(result).includes(KEY), false);
    assert.match(failed(results[0] as ModelResult).message, /Incorrect API key provided: \*\*\*/);
    assert.equal(chat.spec.includes(KEY), false);
  });
});

describe('MiniMax errors inside HTTP 200', () => {
  it('retries base_resp 1002 (rate limit) and then succeeds', async () => {
    const { chat, calls } = client([{ json: readFixture('minimax-chat-rate-limited.json') }, { json: readFixture('minimax-chat-reasoning-details.json') }], { flavor: 'minimax' });
    ok(await chat.complete(request({ messages: userTurn }), { signal }));
    assert.equal(calls.length, 2);
  });

  it('fails at once on other base_resp codes, naming the code', async () => {
    const { chat, calls } = client([{ json: readFixture('minimax-chat-insufficient-balance.json') }], { flavor: 'minimax' });
    const failure = failed(await chat.complete(request({ messages: userTurn }), { signal }));
    assert.equal(calls.length, 1);
    assert.equal(failure.kind, 'http');
    assert.equal(failure.retryable, false);
    assert.match(failure.message, /base_resp.status_code 1008: insufficient balance/);
  });
});

/** A port with nothing listening: bind, note the port, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
