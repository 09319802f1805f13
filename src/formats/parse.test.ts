import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ToolSpec } from '../core/index.ts';
import { createStreamParser, parseCompletion, promptOpensThinking } from './registry.ts';
import type { ParsedCompletion } from './types.ts';

const weather: ToolSpec = {
  name: 'get_weather',
  description: 'Weather.',
  parameters: {
    type: 'object',
    properties: {
      city: { type: 'string' },
      days: { type: 'integer' },
      ratio: { type: 'number' },
      metric: { type: 'boolean' },
      filter: { type: 'object' },
      hours: { type: 'array' },
      note: { type: ['string', 'null'] },
      unit: { enum: ['c', 'f'] },
      limit: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
    },
  },
};
const tools = [weather];
const kinds = (parsed: ParsedCompletion): string[] => parsed.errors.map((e) => e.kind);

describe('minimax-xml parsing', () => {
  const block = (params: string, name = 'get_weather'): string => `<minimax:tool_call>\n<invoke name="${name}">\n${params}</invoke>\n</minimax:tool_call>`;

  it('reads reasoning before a lone </think>, content, and several invokes in one block', () => {
    const text = 'I need two cities.\n</think>\n\nChecking both.\n<minimax:tool_call>\n<invoke name="get_weather">\n<parameter name="city">Paris</parameter>\n</invoke>\n<invoke name="get_weather">\n<parameter name="city">Oslo</parameter>\n</invoke>\n</minimax:tool_call>';
    const parsed = parseCompletion('minimax-xml', text, { tools });
    assert.deepEqual(parsed, {
      reasoning: 'I need two cities.',
      content: 'Checking both.',
      toolCalls: [
        { name: 'get_weather', arguments: { city: 'Paris' }, argumentsText: '{"city":"Paris"}' },
        { name: 'get_weather', arguments: { city: 'Oslo' }, argumentsText: '{"city":"Oslo"}' },
      ],
      errors: [],
    });
  });

  it("coerces parameter text to the schema's types and keeps undeclared parameters", () => {
    const params = [
      ['city', ' 42 '], ['days', '3'], ['ratio', '2.5'], ['metric', 'True'], ['filter', '{"a": [1, 2]}'],
      ['hours', '[9, 12]'], ['note', 'null'], ['unit', 'c'], ['limit', 'None'], ['extra', '7'],
    ].map(([k, v]) => `<parameter name="${k}">${v}</parameter>\n`).join('');
    const parsed = parseCompletion('minimax-xml', block(params), { tools });
    assert.deepEqual(parsed.toolCalls[0]?.arguments, {
      city: '42', days: 3, ratio: 2.5, metric: true, filter: { a: [1, 2] }, hours: [9, 12], note: null, unit: 'c', limit: null, extra: '7',
    });
    assert.deepEqual(parsed.errors, []);
  });

  it('keeps values that cannot be coerced as strings and reports each one', () => {
    const parsed = parseCompletion('minimax-xml', block('<parameter name="days">three</parameter>\n<parameter name="filter">[1]</parameter>\n'), { tools });
    assert.deepEqual(parsed.toolCalls[0]?.arguments, { days: 'three', filter: '[1]' });
    assert.deepEqual(kinds(parsed), ['coercion', 'coercion']);
    assert.match(parsed.errors[0]?.message ?? '', /parameter "days" = "three" is not integer/);
    assert.equal(parsed.errors[0]?.callIndex, 0);
  });

  it('keeps every value a string when no schemas are given', () => {
    const parsed = parseCompletion('minimax-xml', block('<parameter name="days">3</parameter>\n<parameter name="metric">true</parameter>\n'));
    assert.deepEqual(parsed.toolCalls[0]?.arguments, { days: '3', metric: 'true' });
    assert.deepEqual(parsed.errors, []);
  });

  it('reports undeclared tools (dropping their calls), unclosed blocks and stray text, and still returns the other calls', () => {
    const parsed = parseCompletion('minimax-xml', 'ok\n</think>\n<minimax:tool_call>\nhmm\n<invoke name="launch">\n<parameter name="x">1</parameter>\n</invoke>\n<invoke name="get_weather">\n<parameter name="city">Rome', { tools });
    assert.deepEqual(parsed.toolCalls.map((c) => [c.name, c.arguments]), [['get_weather', { city: 'Rome' }]]);
    assert.deepEqual(kinds(parsed), ['stray_text', 'unknown_tool', 'unclosed_block', 'unclosed_block', 'unclosed_block']);
  });

  it('reads a completion as reasoning until </think>, as the prompt opened the block, unless told it did not', () => {
    const open = parseCompletion('minimax-xml', 'still thinking');
    assert.equal(open.reasoning, 'still thinking');
    assert.equal(open.content, '');
    assert.deepEqual(kinds(open), ['unclosed_block']);
    assert.deepEqual(parseCompletion('minimax-xml', 'Just an answer.', { promptOpensThink: false }), { reasoning: null, content: 'Just an answer.', toolCalls: [], errors: [] });
    // The former option name still works.
    assert.equal(parseCompletion('minimax-xml', 'r\n</think>\nc', { thinkingOpen: true }).reasoning, 'r');
    assert.ok(promptOpensThinking(']~b]ai\n<think>\n'));
    assert.ok(!promptOpensThinking('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
  });
});

describe('hermes parsing', () => {
  it('reads <think> reasoning, content and <tool_call> JSON blocks', () => {
    const text = '<think>\nweather needed\n</think>\n\nOne moment.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}\n</tool_call>\n<tool_call>\n{"name": "get_weather", "parameters": {"city": "Oslo"}}\n</tool_call>';
    assert.deepEqual(parseCompletion('hermes', text, { tools }), {
      reasoning: 'weather needed',
      content: 'One moment.',
      toolCalls: [
        { name: 'get_weather', arguments: { city: 'Paris', days: 2 }, argumentsText: '{"city":"Paris","days":2}' },
        { name: 'get_weather', arguments: { city: 'Oslo' }, argumentsText: '{"city":"Oslo"}' },
      ],
      errors: [],
    });
  });

  it('yields a final unclosed <tool_call> when its JSON is complete, and says it was unclosed', () => {
    const parsed = parseCompletion('hermes', 'Sure.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n', { tools });
    assert.deepEqual(parsed.toolCalls, [{ name: 'get_weather', arguments: { city: 'Rome' }, argumentsText: '{"city":"Rome"}' }]);
    assert.deepEqual(kinds(parsed), ['unclosed_block']);
  });

  it('leaves a block with bad JSON in the content, names the tool when it can, and still reads the next block', () => {
    const parsed = parseCompletion('hermes', '<tool_call>\n{"name": "get_weather", "arguments": {"city": }\n</tool_call><tool_call>{"name": "nope", "arguments": {}}</tool_call>', { tools });
    assert.deepEqual(parsed.toolCalls, [{ name: 'nope', arguments: {}, argumentsText: '{}' }]);
    assert.equal(parsed.content, '<tool_call>\n{"name": "get_weather", "arguments": {"city": }\n</tool_call>');
    assert.deepEqual(kinds(parsed), ['bad_json', 'unknown_tool']);
    assert.match(parsed.errors[0]?.message ?? '', /the call to "get_weather" is not valid JSON/);
    assert.equal(parsed.errors[1]?.callIndex, 0);
  });

  it('reads a lone </think> as the end of reasoning only when the prompt opened the block', () => {
    assert.deepEqual(parseCompletion('hermes', 'thinking\n</think>\n\nanswer', { promptOpensThink: true }), { reasoning: 'thinking', content: 'answer', toolCalls: [], errors: [] });
    assert.deepEqual(parseCompletion('hermes', 'thinking\n</think>\n\nanswer'), { reasoning: null, content: 'thinking\n</think>\n\nanswer', toolCalls: [], errors: [] });
    assert.deepEqual(parseCompletion('hermes', 'just an answer'), { reasoning: null, content: 'just an answer', toolCalls: [], errors: [] });
  });

  it('parses a stream split inside tags the same as the whole text', () => {
    const text = '<think>\nhmm\n</think>\n\nOK\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
    const parser = createStreamParser('hermes', { tools });
    const events = [...text].flatMap((ch) => parser.push(ch));
    assert.deepEqual(parser.finish(), parseCompletion('hermes', text, { tools }));
    assert.equal(events.filter((e) => e.type === 'reasoning').map((e) => (e.type === 'reasoning' ? e.text : '')).join(''), '\nhmm\n');
    assert.equal(events.filter((e) => e.type === 'tool_call').length, 1);
  });
});

describe('openai-json parsing', () => {
  it('reads an assistant message with JSON-string arguments', () => {
    const message = { role: 'assistant', content: null, reasoning_content: 'plan', tool_calls: [{ id: 'x', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] };
    assert.deepEqual(parseCompletion('openai-json', JSON.stringify(message), { tools }), {
      reasoning: 'plan',
      content: '',
      toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' }, argumentsText: '{"city":"Paris"}' }],
      errors: [],
    });
  });

  it('reads the first choice of a whole chat.completion response', () => {
    const response = { choices: [{ message: { role: 'assistant', content: 'hi', reasoning: 'r' } }] };
    assert.deepEqual(parseCompletion('openai-json', JSON.stringify(response)), { reasoning: 'r', content: 'hi', toolCalls: [], errors: [] });
  });

  it('reports bad argument JSON and text that is not a message at all', () => {
    const message = { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: '{"city":' } }] };
    const parsed = parseCompletion('openai-json', JSON.stringify(message));
    assert.deepEqual(parsed.toolCalls, [{ name: 'get_weather', arguments: null, argumentsText: '{"city":' }]);
    assert.deepEqual(kinds(parsed), ['bad_json']);
    const plain = parseCompletion('openai-json', 'Hello there');
    assert.equal(plain.content, 'Hello there');
    assert.deepEqual(kinds(plain), ['bad_json']);
  });
});
