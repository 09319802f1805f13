import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelResponse, withoutReasoning, type AssistantMessage, type JsonObject, type Message, type ModelResult } from '../core/index.ts';
import { createAnthropicMessages } from './anthropic.ts';
import { fakeFetch, readFixture, request, signal, type FakeReply } from './testing.ts';

const KEY = 'sk-ant-test-SECRET-abcdef';
const conversation: Message[] = [
  { role: 'system', content: 'You are helpful.' },
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Weather in Paris?' },
];

function client(replies: FakeReply[], maxRetries = 2) {
  const fake = fakeFetch(replies);
  const anthropic = createAnthropicMessages({ baseURL: 'https://api.anthropic.com', model: 'claude-sonnet-4-5', apiKey: KEY, fetch: fake.fetch, sleep: async () => {}, maxRetries });
  return { anthropic, calls: fake.calls };
}

function ok(result: ModelResult): ModelResponse {
  if (!result.ok) assert.fail(`expected success, got ${result.kind}: ${result.message}`);
  ModelResponse.parse(result.response);
  return result.response;
}

function withResults(reply: AssistantMessage, isError = false): Message[] {
  const results: Message[] = reply.toolCalls.map((call) => ({ role: 'tool', toolCallId: call.id, name: call.name, content: 'result', isError }));
  return [...conversation, reply, ...results];
}

describe('Anthropic messages: parsing recorded responses', () => {
  it('reads thinking with its signature, text and tool_use', async () => {
    const { anthropic } = client([{ json: readFixture('anthropic-thinking-tool-use.json') }]);
    const response = ok(await anthropic.complete(request({ messages: conversation }), { signal }));
    assert.equal(response.message.reasoning?.source, 'thinking_blocks');
    assert.equal(response.message.reasoning?.text, "The user wants the weather in Paris. I'll call get_weather.");
    assert.equal(response.message.reasoning?.signatures?.length, 1);
    assert.match(response.message.reasoning?.signatures?.[0] ?? '', /^EqQBCgIYAhIM/);
    assert.equal(response.message.content, 'Let me check the weather.');
    assert.deepEqual(response.message.toolCalls, [
      { id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', arguments: { location: 'Paris', unit: 'celsius' }, argumentsText: '{"location":"Paris","unit":"celsius"}' },
    ]);
    assert.equal(response.finishReason, 'tool_calls');
    assert.deepEqual(response.usage, { promptTokens: 412, completionTokens: 96, cachedPromptTokens: 128 });
    assert.equal(response.responseId, 'msg_01XFDUDYJgAACzvnptvVoYEL');
  });

  it('keeps redacted_thinking blocks as opaque details', async () => {
    const fixture = readFixture('anthropic-redacted-thinking.json');
    const { anthropic } = client([{ json: fixture }]);
    const response = ok(await anthropic.complete(request({ messages: conversation }), { signal }));
    const content = fixture.content as JsonObject[];
    assert.deepEqual(response.message.reasoning?.details, [content[1]]);
    assert.equal(response.message.reasoning?.text, 'I should list the files before editing.');
    assert.equal(response.message.toolCalls[0]?.id, 'toolu_01CswdEQBMshySk6Y9DFKrfq');
  });
});

describe('Anthropic messages: requests', () => {
  for (const name of ['anthropic-thinking-tool-use.json', 'anthropic-redacted-thinking.json']) {
    it(`resends the received content array byte-identical (${name})`, async () => {
      const fixture = readFixture(name);
      const { anthropic, calls } = client([{ json: fixture }, { json: fixture }]);
      const first = ok(await anthropic.complete(request({ messages: conversation }), { signal }));
      await anthropic.complete(request({ messages: withResults(first.message) }), { signal });
      const messages = (calls[1]?.body as JsonObject).messages as JsonObject[];
      assert.deepEqual(messages[1]?.role, 'assistant');
      assert.equal(JSON.stringify(messages[1]?.content), JSON.stringify(fixture.content));
    });

    it(`drops thinking and redacted_thinking blocks when reasoning is dropped (${name})`, async () => {
      const fixture = readFixture(name);
      const { anthropic, calls } = client([{ json: fixture }, { json: fixture }]);
      const first = ok(await anthropic.complete(request({ messages: conversation }), { signal }));
      await anthropic.complete(request({ messages: withResults(withoutReasoning(first.message)) }), { signal });
      const sent = ((calls[1]?.body as JsonObject).messages as JsonObject[])[1]?.content as JsonObject[];
      assert.deepEqual(
        sent,
        (fixture.content as JsonObject[]).filter((block) => block.type !== 'thinking' && block.type !== 'redacted_thinking'),
      );
    });
  }

  it('puts system text top-level, groups tool results into one user turn and passes extra fields', async () => {
    const { anthropic, calls } = client([{ json: readFixture('anthropic-thinking-tool-use.json') }]);
    const foreign: AssistantMessage = {
      role: 'assistant',
      content: 'Two lookups.',
      reasoning: { text: 'unsigned', source: 'inline_think' },
      toolCalls: [
        { id: 'oracle_0', name: 'get_weather', arguments: { location: 'Paris' }, argumentsText: '{"location":"Paris"}' },
        { id: 'oracle_1', name: 'get_weather', arguments: { location: 'Rome' }, argumentsText: '{"location":"Rome"}' },
      ],
    };
    const tools = [{ name: 'get_weather', description: 'Weather.', parameters: { type: 'object', properties: {} } }];
    const sampling = { temperature: 1, stop: ['END'], extra: { thinking: { type: 'enabled', budget_tokens: 2048 } } };
    await anthropic.complete(request({ messages: withResults(foreign, true), tools, toolChoice: 'required', sampling }), { signal });
    const call = calls[0];
    assert.equal(call?.url, 'https://api.anthropic.com/v1/messages');
    assert.equal(call?.headers['x-api-key'], KEY);
    assert.equal(call?.headers['anthropic-version'], '2023-06-01');
    assert.deepEqual(call?.body, {
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      system: 'You are helpful.\n\nBe brief.',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Two lookups.' },
            { type: 'tool_use', id: 'oracle_0', name: 'get_weather', input: { location: 'Paris' } },
            { type: 'tool_use', id: 'oracle_1', name: 'get_weather', input: { location: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'oracle_0', content: 'result', is_error: true },
            { type: 'tool_result', tool_use_id: 'oracle_1', content: 'result', is_error: true },
          ],
        },
      ],
      tools: [{ name: 'get_weather', description: 'Weather.', input_schema: { type: 'object', properties: {} } }],
      tool_choice: { type: 'any' },
      temperature: 1,
      stop_sequences: ['END'],
      stream: true,
      thinking: { type: 'enabled', budget_tokens: 2048 },
    });
  });

  it('merges a user message that follows tool results into the same user turn', async () => {
    const { anthropic, calls } = client([{ json: readFixture('anthropic-thinking-tool-use.json') }]);
    const reply: AssistantMessage = { role: 'assistant', content: '', toolCalls: [{ id: 't1', name: 'x', arguments: {}, argumentsText: '{}' }] };
    await anthropic.complete(request({ messages: [...withResults(reply), { role: 'user', content: 'Hurry.' }] }), { signal });
    const messages = (calls[0]?.body as JsonObject).messages as JsonObject[];
    assert.equal(messages.length, 3);
    assert.deepEqual(messages[2]?.content, [
      { type: 'tool_result', tool_use_id: 't1', content: 'result', is_error: false },
      { type: 'text', text: 'Hurry.' },
    ]);
  });
});

describe('Anthropic messages: failures', () => {
  it('retries an overloaded 529, does not retry a 400, and keeps the key out of results', async () => {
    const overloaded = { status: 529, json: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } };
    const { anthropic, calls } = client([overloaded, { json: readFixture('anthropic-thinking-tool-use.json') }]);
    ok(await anthropic.complete(request({ messages: conversation }), { signal }));
    assert.equal(calls.length, 2);

    const invalid = { status: 400, json: { type: 'error', error: { type: 'invalid_request_error', message: `messages.1.content.0: expected thinking or redacted_thinking (key ${KEY})` } } };
    const second = client([invalid]);
    const result = await second.anthropic.complete(request({ messages: conversation }), { signal });
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.kind, 'http');
    assert.equal(result.retryable, false);
    assert.match(result.message, /expected thinking or redacted_thinking/);
    assert.equal(JSON.stringify(result).includes(KEY), false);
    assert.equal(second.calls.length, 1);
  });

  it('reports a response without a content array as malformed', async () => {
    const { anthropic } = client([{ json: { type: 'message', role: 'assistant' } }]);
    const result = await anthropic.complete(request({ messages: conversation }), { signal });
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.kind, 'malformed_response');
  });
});
