import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ModelResponse, type JsonObject, type Message, type ModelClient, type ModelResult } from '../core/index.ts';
import { createAnthropicMessages } from './anthropic.ts';
import { startMockModelServer, type MockModelServer } from './mock-server.ts';
import { createOpenAIChat } from './openai-chat.ts';
import type { ScriptInput } from './script.ts';
import { noSleep, request, signal } from './testing.ts';

const script: ScriptInput = {
  model: 'mock-m2',
  turns: [
    { reasoning: 'Search first.', content: 'Searching.', toolCalls: [{ name: 'search', arguments: { query: 'invoice' } }] },
    { reasoning: 'Details style.', reasoningStyle: 'reasoning_details', toolCalls: [{ id: 'fixed_id', name: 'label', argumentsText: '{"id": "m1"' }] },
    { raw: { role: 'assistant', content: 'raw answer', reasoning: 'raw reasoning', custom_field: [1, 2] } },
    { reasoning: 'Last.', reasoningStyle: 'reasoning_content', content: 'All done.', signature: 'sig-fixed' },
  ],
};

function ok(result: ModelResult): ModelResponse {
  if (!result.ok) assert.fail(`expected success, got ${result.kind}: ${result.message}`);
  return ModelResponse.parse(result.response);
}

async function playAll(client: ModelClient, turns: number): Promise<{ messages: Message[]; replies: ModelResponse[] }> {
  const messages: Message[] = [{ role: 'user', content: 'Label the invoice.' }];
  const replies: ModelResponse[] = [];
  for (let i = 0; i < turns; i++) {
    const reply = ok(await client.complete(request({ messages }), { signal }));
    replies.push(reply);
    messages.push(reply.message);
    for (const call of reply.message.toolCalls) messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: 'ok', isError: false });
  }
  return { messages, replies };
}

describe('mock model server over HTTP', () => {
  let server: MockModelServer;
  before(async () => {
    server = await startMockModelServer({ script });
  });
  after(() => server.close());

  it('plays the script to the OpenAI adapter, in every reasoning style, and receives exact resends', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const chat = createOpenAIChat({ baseURL: server.url, model: 'mock-m2', sleep: noSleep });
    const before = server.requests.length;
    const { replies } = await playAll(chat, 4);
    const [first, second, third, fourth] = replies;
    assert.deepEqual(first?.message.reasoning, { text: 'Search first.', source: 'inline_think' });
    assert.equal(first?.message.content, 'Searching.');
    assert.deepEqual(first?.message.toolCalls, [{ id: 'call_0_0', name: 'search', arguments: { query: 'invoice' }, argumentsText: '{"query":"invoice"}' }]);
    assert.equal(second?.message.reasoning?.source, 'reasoning_details');
    assert.deepEqual(second?.message.reasoning?.details, [{ type: 'reasoning.text', id: 'reasoning-text-1', format: 'MiniMax-response-v1', index: 0, text: 'Details style.' }]);
    assert.equal(second?.message.toolCalls[0]?.id, 'fixed_id');
    assert.equal(second?.message.toolCalls[0]?.argumentsText, '{"id": "m1"');
    assert.equal(second?.message.toolCalls[0]?.arguments, null);
    assert.deepEqual(third?.message.provider?.message, { role: 'assistant', content: 'raw answer', reasoning: 'raw reasoning', custom_field: [1, 2] });
    assert.equal(fourth?.message.reasoning?.source, 'reasoning_content_field');
    assert.equal(fourth?.finishReason, 'stop');
    assert.equal(fourth?.model, 'mock-m2');

    const last = server.requests.at(-1) as JsonObject;
    assert.equal(server.requests.length - before, 4);
    const sentAssistants = (last.messages as JsonObject[]).filter((m) => m.role === 'assistant');
    assert.deepEqual(
      sentAssistants.map((m) => JSON.stringify(m)),
      replies.slice(0, 3).map((r) => JSON.stringify(r.message.provider?.message)),
    );
  });

  it('plays the script to the Anthropic adapter with signed thinking blocks', async () => {
    const anthropic = createAnthropicMessages({ baseURL: server.url.replace(/\/v1$/, ''), model: 'mock-m2', sleep: noSleep });
    const { replies } = await playAll(anthropic, 4);
    const [first, , , fourth] = replies;
    assert.equal(first?.message.reasoning?.source, 'thinking_blocks');
    assert.equal(first?.message.reasoning?.text, 'Search first.');
    assert.match(first?.message.reasoning?.signatures?.[0] ?? '', /^sig_/);
    assert.equal(first?.message.toolCalls[0]?.id, 'call_0_0');
    assert.equal(first?.finishReason, 'tool_calls');
    assert.deepEqual(fourth?.message.reasoning?.signatures, ['sig-fixed']);
    assert.equal(fourth?.message.content, 'All done.');
    const last = server.requests.at(-1) as JsonObject;
    const resent = (last.messages as JsonObject[]).find((m) => m.role === 'assistant');
    assert.equal(JSON.stringify(resent?.content), JSON.stringify(first?.message.provider?.message));
  });

  it('answers a call past the end of the script with a 400 that says so', async () => {
    const chat = createOpenAIChat({ baseURL: server.url, model: 'mock-m2', sleep: noSleep });
    const messages: Message[] = [{ role: 'user', content: 'x' }, ...Array.from({ length: 4 }, (): Message => ({ role: 'assistant', content: 'a', toolCalls: [] }))];
    const result = await chat.complete(request({ messages }), { signal });
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.retryable, false);
      assert.match(result.message, /the script has 4 turns and call 5 arrived/);
    }
  });

  it('lists the model, 404s unknown routes and rejects bodies that are not JSON', async () => {
    const models = (await (await fetch(`${server.url}/models`)).json()) as JsonObject;
    assert.deepEqual((models.data as JsonObject[]).map((m) => m.id), ['mock-m2']);
    const missing = await fetch(`${server.url}/completions`, { method: 'POST', body: '{}' });
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: { message: string } }).error.message, /no route POST \/v1\/completions/);
    const bad = await fetch(`${server.url}/chat/completions`, { method: 'POST', body: '{"messages": [', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /not valid JSON/);
  });
});

describe('mock model server faults', () => {
  const faulty: ScriptInput = {
    turns: [
      { fault: 'http_500', content: 'after 500' },
      { fault: 'hang', content: 'after hang' },
      { fault: 'malformed_json', content: 'after bad json' },
      { fault: 'cut_stream', content: 'after a cut' },
    ],
  };
  const history = (n: number): Message[] => [{ role: 'user', content: 'go' }, ...Array.from({ length: n }, (): Message => ({ role: 'assistant', content: 'a', toolCalls: [] }))];

  for (const api of ['openai', 'anthropic'] as const) {
    for (const stream of [true, false]) {
      it(`${api}${stream ? ' (streamed)' : ''}: each fault fails the first request for its turn with the right kind`, async () => {
        const server = await startMockModelServer({ script: faulty });
        try {
          const options = { model: 'm', sleep: noSleep, maxRetries: 0, timeoutMs: 200, stream };
          const client = api === 'openai' ? createOpenAIChat({ baseURL: server.url, ...options }) : createAnthropicMessages({ baseURL: server.url.replace(/\/v1$/, ''), ...options });
          const kinds: string[] = [];
          for (let turn = 0; turn < 4; turn++) {
            const result = await client.complete(request({ messages: history(turn) }), { signal });
            kinds.push(result.ok ? 'ok' : `${result.kind}${result.kind === 'http' ? ` ${result.wire?.status}` : ''}`);
          }
          assert.deepEqual(kinds, ['http 500', 'timeout', 'malformed_response', 'connection']);
          // A fault fires once: the retry of each turn gets the real answer.
          for (let turn = 0; turn < 4; turn++) ok(await client.complete(request({ messages: history(turn) }), { signal }));
        } finally {
          await server.close();
        }
      });
    }
  }

  it('serves stream: true as SSE events, ending in [DONE] or message_stop', async () => {
    const server = await startMockModelServer({ script: { turns: [{ reasoning: 'Think.', content: 'A streamed answer.' }] } });
    try {
      const post = (path: string, body: object) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const chat = await post('/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
      assert.match(chat.headers.get('content-type') ?? '', /text\/event-stream/);
      const chatEvents = (await chat.text()).split('\n\n').filter(Boolean);
      assert.equal(chatEvents.at(-1), 'data: [DONE]');
      assert.match(chatEvents.at(-2) ?? '', /"choices":\[\],"usage":\{"prompt_tokens"/);
      assert.ok(chatEvents.length > 4);
      const messages = await post('/messages', { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], stream: true });
      const events = (await messages.text()).split('\n\n').filter(Boolean);
      assert.equal(events[0]?.split('\n')[0], 'event: message_start');
      assert.equal(events.at(-1)?.split('\n')[0], 'event: message_stop');
      assert.ok(events.some((event) => event.includes('"type":"thinking_delta"')));
      assert.ok(events.some((event) => event.includes('"type":"signature_delta"')));
    } finally {
      await server.close();
    }
  });

  it('the adapter retries through a 500 and a hang on its own', async () => {
    const server = await startMockModelServer({ script: faulty });
    try {
      const chat = createOpenAIChat({ baseURL: server.url, model: 'm', sleep: noSleep, timeoutMs: 200 });
      assert.equal(ok(await chat.complete(request({ messages: history(0) }), { signal })).message.content, 'after 500');
      assert.equal(ok(await chat.complete(request({ messages: history(1) }), { signal })).message.content, 'after hang');
      assert.equal(server.requests.length, 4);
    } finally {
      await server.close();
    }
  });

  it('closes promptly while a request hangs', async () => {
    const server = await startMockModelServer({ script: { turns: [{ fault: 'hang' }] } });
    const chat = createOpenAIChat({ baseURL: server.url, model: 'm', sleep: noSleep, maxRetries: 0, timeoutMs: 10_000 });
    const pending = chat.complete(request({ messages: history(0) }), { signal });
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    await server.close();
    const result = await pending;
    assert.ok(Date.now() - started < 2000);
    assert.equal(result.ok, false);
  });
});
