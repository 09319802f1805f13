import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ModelResponse, type JsonObject, type Message, type ModelClient, type ModelResult } from '../core/index.ts';
import { createAnthropicMessages } from './anthropic.ts';
import { startMockModelServer, type MockModelServer } from './mock-server.ts';
import { createOpenAIChat } from './openai-chat.ts';
import type { ScriptInput } from './script.ts';
import { fakeFetch, noSleep, readFixture, readFixtureText, request, signal, type FakeReply } from './testing.ts';

const userTurn: Message[] = [{ role: 'user', content: 'Weather in Paris?' }];

function ok(result: ModelResult): ModelResponse {
  if (!result.ok) assert.fail(`expected success, got ${result.kind}: ${result.message}`);
  return ModelResponse.parse(result.response);
}

/** Everything but the provider's own message, which carries what only its wire format says. */
function neutral(response: ModelResponse): ModelResponse {
  const { provider: _provider, ...message } = response.message;
  return { ...response, message };
}

function streamRecord(result: ModelResult): JsonObject | undefined {
  const response = result.wire?.response as JsonObject | undefined;
  return response?.gauntlet_stream as JsonObject | undefined;
}

async function once(kind: 'openai' | 'minimax' | 'anthropic', reply: FakeReply): Promise<ModelResult> {
  const { fetch } = fakeFetch([reply]);
  const client =
    kind === 'anthropic'
      ? createAnthropicMessages({ baseURL: 'https://api.anthropic.com', model: 'm', fetch, sleep: noSleep })
      : createOpenAIChat({ baseURL: 'http://127.0.0.1:8000/v1', model: 'm', flavor: kind === 'minimax' ? 'minimax' : 'generic', fetch, sleep: noSleep });
  return client.complete(request({ messages: userTurn }), { signal });
}

describe('streamed responses assemble into the non-streamed response', () => {
  it('vLLM: reasoning, a tool call with its exact argument text, engine token ids and logprobs, usage', async () => {
    const plain = await once('openai', { json: readFixture('vllm-chat-reasoning-tools.json') });
    const streamed = await once('openai', { sse: readFixtureText('vllm-chat-reasoning-tools.sse') });
    assert.deepEqual(neutral(ok(streamed)), neutral(ok(plain)));
    assert.equal(ok(streamed).tokens?.promptIds?.length, 26);
    assert.deepEqual(ok(streamed).tokens?.completionLogprobs, [-0.0012, 0, -0.0003, -0.00001, -0.25, -0.0101]);
    // vLLM streams `content: ""` where its JSON says null and leaves out the null-only fields; the
    // tool call keeps the `index` its deltas carried. Everything received is kept, nothing invented.
    const fixture = readFixture('vllm-chat-reasoning-tools.json');
    const call = ((((fixture.choices as JsonObject[])[0] as JsonObject).message as JsonObject).tool_calls as JsonObject[])[0] as JsonObject;
    assert.equal(
      JSON.stringify(ok(streamed).message.provider?.message),
      JSON.stringify({
        role: 'assistant',
        content: '',
        reasoning: 'The user wants the weather in Paris. I should call get_weather with location Paris.',
        tool_calls: [{ id: call.id, type: 'function', index: 0, function: call.function }],
      }),
    );
    assert.deepEqual(streamRecord(streamed), { events: 18, bytes: Buffer.byteLength(readFixtureText('vllm-chat-reasoning-tools.sse')) });
    assert.equal(streamRecord(plain), undefined);
  });

  it('MiniMax reasoning_split: incremental reasoning_details text, repeated role/name, CRLF line ends', async () => {
    const fixture = readFixture('minimax-chat-reasoning-details.json');
    const plain = ok(await once('minimax', { json: fixture }));
    const streamed = ok(await once('minimax', { sse: readFixtureText('minimax-chat-reasoning-details.sse') }));
    assert.deepEqual(neutral(streamed), neutral(plain));
    assert.deepEqual(streamed.message.reasoning?.details, [{ type: 'reasoning.text', id: 'reasoning-text-1', format: 'MiniMax-response-v1', index: 0, text: 'I need the weather tool for San Francisco.' }]);
    // The same fields with the same values as the non-streamed message (key order aside: fields appear as first streamed).
    assert.deepEqual(streamed.message.provider?.message, ((fixture.choices as JsonObject[])[0] as JsonObject).message);
  });

  for (const name of ['anthropic-thinking-tool-use', 'anthropic-redacted-thinking']) {
    it(`Anthropic (${name}): the same content blocks byte for byte, signatures and all`, async () => {
      const fixture = readFixture(`${name}.json`);
      const plain = await once('anthropic', { json: fixture });
      const streamed = await once('anthropic', { sse: readFixtureText(`${name}.sse`) });
      assert.deepEqual(ok(streamed), ok(plain));
      assert.equal(JSON.stringify(ok(streamed).message.provider?.message), JSON.stringify(fixture.content));
      const { gauntlet_stream: record, ...body } = streamed.wire?.response as JsonObject;
      assert.equal(JSON.stringify(body), JSON.stringify(fixture));
      assert.equal(typeof (record as JsonObject).events, 'number');
    });
  }
});

const openAIScript: ScriptInput = {
  model: 'mock',
  turns: [
    {
      reasoning: 'Two lookups are needed — Paris and Zürich 🌦️; call both tools at once.',
      reasoningStyle: 'reasoning_content',
      content: 'Checking both cities.',
      toolCalls: [
        { id: 'call_a', name: 'get_weather', arguments: { location: 'Paris', unit: 'celsius', days: [1, 2, 3] } },
        { id: 'call_b', name: 'get_weather', argumentsText: '{"location": "Zürich",  "unit":"celsius"}' },
      ],
    },
    { reasoning: 'MiniMax-style reasoning, sent back as reasoning_details verbatim.', reasoningStyle: 'reasoning_details', toolCalls: [{ id: 'call_c', name: 'get_weather', arguments: { location: 'Rome' } }] },
    { reasoning: 'Inline thinking stays inside content.', content: 'Rome is sunny.' },
    {
      raw: {
        tool_calls: [{ type: 'function', id: 'call_RAW', function: { arguments: '{"location": "Oslo"}', name: 'get_weather' } }],
        role: 'assistant',
        content: '<think>a vendor message in an unusual key order</think>',
        refusal: null,
        annotations: [],
      },
    },
    { reasoning: 'Done.', reasoningStyle: 'reasoning_field', content: 'All four cities checked.' },
  ],
};

const anthropicScript: ScriptInput = {
  model: 'mock',
  turns: [
    { reasoning: 'Think first — then call the tool for Zürich 🌦️.', signature: 'EqQBCgIYAhIM-signature-blob==', content: 'Let me check.', toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: { location: 'Zürich', unit: 'celsius' } }] },
    { reasoning: 'Second thought.', toolCalls: [{ id: 'toolu_2', name: 'get_weather', arguments: {} }] },
    { reasoning: 'Wrap up.', content: 'Zürich: 18°C.' },
  ],
};

interface Played {
  messages: string[];
  bodies: string[];
  streamedEvents: number[];
}

/** Plays a conversation to the end, recording each stored provider message and each request body (without its streaming switches). */
async function play(client: ModelClient, server: MockModelServer, turns: number): Promise<Played> {
  const start = server.requests.length;
  const history: Message[] = [{ role: 'system', content: 'Be brief.' }, ...userTurn];
  const played: Played = { messages: [], bodies: [], streamedEvents: [] };
  for (let turn = 0; turn < turns; turn++) {
    const result = await client.complete(request({ messages: history }), { signal });
    const response = ok(result);
    played.messages.push(JSON.stringify(response.message.provider?.message));
    played.streamedEvents.push(Number(streamRecord(result)?.events ?? 0));
    history.push(response.message);
    for (const call of response.message.toolCalls) history.push({ role: 'tool', toolCallId: call.id, name: call.name, content: '18°C', isError: false });
  }
  for (const body of server.requests.slice(start) as JsonObject[]) {
    const { stream: _stream, stream_options: _options, ...rest } = body;
    played.bodies.push(JSON.stringify(rest));
  }
  return played;
}

describe('streamed and non-streamed conversations are byte-identical', () => {
  let openAIServer: MockModelServer;
  let anthropicServer: MockModelServer;
  before(async () => {
    [openAIServer, anthropicServer] = await Promise.all([startMockModelServer({ script: openAIScript }), startMockModelServer({ script: anthropicScript })]);
  });
  after(() => Promise.all([openAIServer.close(), anthropicServer.close()]));

  for (const flavor of ['generic', 'minimax'] as const) {
    it(`OpenAI-style (${flavor}): stored provider messages and every next-turn request body`, async () => {
      const make = (stream: boolean) => createOpenAIChat({ baseURL: openAIServer.url, model: 'mock', flavor, stream, sleep: noSleep });
      const streamed = await play(make(true), openAIServer, openAIScript.turns.length);
      const plain = await play(make(false), openAIServer, openAIScript.turns.length);
      assert.ok(streamed.streamedEvents.every((events) => events > 3), `every turn arrived as a stream: ${streamed.streamedEvents.join(', ')}`);
      assert.ok(plain.streamedEvents.every((events) => events === 0));
      assert.deepEqual(streamed.messages, plain.messages);
      assert.deepEqual(streamed.bodies, plain.bodies);
      const last = JSON.parse(streamed.bodies.at(-1) ?? '{}') as { messages: JsonObject[] };
      assert.ok(last.messages.some((m) => Array.isArray(m.reasoning_details)), 'reasoning_details resent');
      assert.ok(last.messages.some((m) => JSON.stringify(m).startsWith('{"tool_calls":[{"type":"function","id":"call_RAW"')), 'raw key order resent');
    });
  }

  it('Anthropic: thinking with its signature, text and tool_use blocks, and every next-turn request body', async () => {
    const make = (stream: boolean) => createAnthropicMessages({ baseURL: anthropicServer.url.replace(/\/v1$/, ''), model: 'mock', stream, sleep: noSleep });
    const streamed = await play(make(true), anthropicServer, anthropicScript.turns.length);
    const plain = await play(make(false), anthropicServer, anthropicScript.turns.length);
    assert.ok(streamed.streamedEvents.every((events) => events > 5));
    assert.deepEqual(streamed.messages, plain.messages);
    assert.deepEqual(streamed.bodies, plain.bodies);
    assert.match(streamed.bodies.at(-1) ?? '', /"signature":"EqQBCgIYAhIM-signature-blob=="/);
  });
});
