import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../core/index.ts';
import { anthropicMessagesStream } from './anthropic-stream.ts';
import { parseChatCompletion } from './openai-parse.ts';
import { openAIChatStream } from './openai-stream.ts';
import type { StreamAssembler, StreamStep } from './stream.ts';

function feed(assembler: StreamAssembler, events: Array<[string, object | string]>): StreamStep[] {
  return events.map(([event, data]) => assembler.push({ event, data: typeof data === 'string' ? data : JSON.stringify(data) }));
}

const delta = (value: object, extra: object = {}) => ['', { id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: value, ...extra }] }] as [string, object];

describe('chat-completion chunks', () => {
  it('continues interleaved tool calls by index, keeps the last usage and finish reason, and ignores other choices', () => {
    const stream = openAIChatStream();
    const steps = feed(stream, [
      delta({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{"x"' } }] }),
      delta({ tool_calls: [{ index: 1, id: 'b', type: 'function', function: { name: 'g', arguments: '' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: ': 1}' } }, { index: 1, function: { arguments: '{}' } }] }),
      ['', { id: 'c', choices: [{ index: 1, delta: { content: 'another choice' } }] }],
      delta({}, { finish_reason: 'tool_calls' }),
      ['', { id: 'c', choices: [], usage: null }],
      ['', { id: 'c', choices: [], usage: { prompt_tokens: 5, completion_tokens: 9 } }],
      ['', '[DONE]'],
    ]);
    assert.deepEqual(steps, ['more', 'more', 'more', 'more', 'more', 'more', 'more', 'done']);
    const body = stream.body();
    assert.equal(body.object, 'chat.completion');
    assert.deepEqual(body.usage, { prompt_tokens: 5, completion_tokens: 9 });
    const choice = (body.choices as JsonObject[])[0] as JsonObject;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.deepEqual(choice.message, {
      role: 'assistant',
      content: null,
      tool_calls: [
        { index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{"x": 1}' } },
        { index: 1, id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } },
      ],
    });
  });

  it('fails on a MiniMax base_resp error inside the stream (1002 is retryable)', () => {
    const [step] = feed(openAIChatStream(), [['', { id: 'c', choices: [], base_resp: { status_code: 1002, status_msg: 'rate limit' } }]]);
    assert.deepEqual(step, { kind: 'http', message: 'MiniMax base_resp.status_code 1002: rate limit', retryable: true });
  });

  it('a stream without any choice assembles to a body its parser rejects', () => {
    const stream = openAIChatStream();
    feed(stream, [['', { id: 'c', choices: [] }], ['', '[DONE]']]);
    assert.deepEqual(stream.body().choices, []);
    const parsed = parseChatCompletion(stream.body());
    assert.equal(parsed.ok, false);
  });
});

const start = ['message_start', { type: 'message_start', message: { id: 'm', type: 'message', role: 'assistant', content: [], usage: { input_tokens: 1 } } }] as [string, object];
const blockStart = (index: number, block: object) => ['content_block_start', { type: 'content_block_start', index, content_block: block }] as [string, object];
const blockDelta = (index: number, value: object) => ['content_block_delta', { type: 'content_block_delta', index, delta: value }] as [string, object];
const blockStop = (index: number) => ['content_block_stop', { type: 'content_block_stop', index }] as [string, object];

describe('Messages API events', () => {
  it('appends citations, skips pings and unknown event types', () => {
    const stream = anthropicMessagesStream();
    const steps = feed(stream, [
      start,
      ['ping', { type: 'ping' }],
      blockStart(0, { type: 'text', text: '' }),
      blockDelta(0, { type: 'text_delta', text: 'Paris' }),
      blockDelta(0, { type: 'citations_delta', citation: { cited_text: 'Paris is…' } }),
      blockStop(0),
      ['future_event', { type: 'future_event' }],
      ['message_stop', { type: 'message_stop' }],
    ]);
    assert.equal(steps.at(-1), 'done');
    assert.deepEqual(stream.body().content, [{ type: 'text', text: 'Paris', citations: [{ cited_text: 'Paris is…' }] }]);
  });

  it('fails loudly on tool input that is not a JSON object (the model\'s doing), an unknown delta type, or a delta before its block starts', () => {
    const broken = feed(anthropicMessagesStream(), [start, blockStart(0, { type: 'tool_use', id: 't', name: 'f', input: {} }), blockDelta(0, { type: 'input_json_delta', partial_json: '{"a": ' }), blockStop(0)]);
    assert.deepEqual(broken.at(-1), { kind: 'unusable_output', message: 'content block 0 (tool_use): the model\'s streamed tool input is not JSON: "{\\"a\\": "', retryable: false });
    const list = feed(anthropicMessagesStream(), [start, blockStart(0, { type: 'tool_use', id: 't', name: 'f', input: {} }), blockDelta(0, { type: 'input_json_delta', partial_json: '[1, 2]' }), blockStop(0)]);
    assert.equal((list.at(-1) as { kind: string }).kind, 'unusable_output');
    assert.match((list.at(-1) as { message: string }).message, /tool input is an array, not a JSON object/);
    const unknown = feed(anthropicMessagesStream(), [start, blockStart(0, { type: 'text', text: '' }), blockDelta(0, { type: 'sparkle_delta', sparkle: '*' })]);
    assert.match((unknown.at(-1) as { message: string }).message, /unknown delta type 'sparkle_delta'/);
    const early = feed(anthropicMessagesStream(), [start, blockDelta(3, { type: 'text_delta', text: 'x' })]);
    assert.deepEqual(early.at(-1), { kind: 'malformed_response', message: 'content_block_delta for block 3, which has not started', retryable: false });
  });

  it('keeps a tool_use input of {} when no input JSON streams', () => {
    const stream = anthropicMessagesStream();
    feed(stream, [start, blockStart(0, { type: 'tool_use', id: 't', name: 'f', input: {} }), blockStop(0), ['message_stop', { type: 'message_stop' }]]);
    assert.deepEqual(stream.body().content, [{ type: 'tool_use', id: 't', name: 'f', input: {} }]);
  });
});
