import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ToolSpec } from '../core/index.ts';
import { createStreamParser, parseCompletion } from './registry.ts';
import type { ParsedCompletion } from './types.ts';

const weather: ToolSpec = {
  name: 'get_weather',
  description: 'Weather.',
  parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' }, metric: { type: 'boolean' }, hours: { type: 'array' }, code: { type: 'string' } } },
};
const tools = [weather];
const kinds = (parsed: ParsedCompletion): string[] => parsed.errors.map((e) => e.kind);
const calls = (parsed: ParsedCompletion): unknown[] => parsed.toolCalls.map((c) => [c.name, c.arguments]);

describe('qwen3-coder parsing', () => {
  it('reads content and several calls, typing values by the schema and keeping inner whitespace', () => {
    const text = 'Checking.\n\n<tool_call>\n<function=get_weather>\n<parameter=city>\n  Paris \n</parameter>\n<parameter=days>\n3\n</parameter>\n<parameter=metric>\nTrue\n</parameter>\n<parameter=hours>\n[9, 12]\n</parameter>\n<parameter=code>\nline 1\n\nline 3\n\n</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=get_weather>\n<parameter=city>\nOslo\n</parameter>\n</function>\n</tool_call>';
    const parsed = parseCompletion('qwen3-coder', text, { tools });
    assert.equal(parsed.content, 'Checking.');
    assert.deepEqual(calls(parsed), [
      ['get_weather', { city: '  Paris ', days: 3, metric: true, hours: [9, 12], code: 'line 1\n\nline 3\n' }],
      ['get_weather', { city: 'Oslo' }],
    ]);
    assert.deepEqual(parsed.errors, []);
  });

  it('keeps values as text without schemas, and reads a value whose </parameter> is missing up to the next <parameter=', () => {
    const parsed = parseCompletion('qwen3-coder', '<tool_call>\n<function=get_weather>\n<parameter=days>\n3\n<parameter=city>\nRome\n</parameter>\n</function>\n</tool_call>');
    assert.deepEqual(calls(parsed), [['get_weather', { days: '3', city: 'Rome' }]]);
    assert.deepEqual(kinds(parsed), ['unclosed_block']);
    assert.match(parsed.errors[0]?.message ?? '', /<parameter=days> is not closed by <\/parameter>/);
  });

  it('reports stray text, values that fit no declared type, and a call cut off before </function>', () => {
    const parsed = parseCompletion('qwen3-coder', '<tool_call>\nhmm\n<function=get_weather>\n<parameter=days>\nthree\n</parameter>\n', { tools });
    assert.deepEqual(calls(parsed), [['get_weather', { days: 'three' }]]);
    assert.deepEqual(kinds(parsed), ['stray_text', 'coercion', 'unclosed_block', 'unclosed_block']);
  });
});

describe('glm-4.5 parsing', () => {
  it('reads reasoning, content and calls, typing declared values and reading undeclared ones as JSON', () => {
    const text = '\n<think>Need the weather.</think>\nLooking.\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>42</arg_value>\n<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n<arg_key>extra</arg_key>\n<arg_value>{"a": [1]}</arg_value>\n<arg_key>note</arg_key>\n<arg_value>not json</arg_value>\n</tool_call>';
    const parsed = parseCompletion('glm-4.5', text, { tools });
    assert.equal(parsed.reasoning, 'Need the weather.');
    assert.equal(parsed.content, 'Looking.');
    assert.deepEqual(calls(parsed), [['get_weather', { city: '42', days: 2, extra: { a: [1] }, note: 'not json' }]]);
    assert.deepEqual(parsed.errors, []);
  });

  it('reads a name followed directly by <arg_key>, and drops a key without a value', () => {
    const parsed = parseCompletion('glm-4.5', '<tool_call>get_weather<arg_key>city</arg_key><arg_value>Rome</arg_value><arg_key>days</arg_key>\n</tool_call>');
    assert.deepEqual(calls(parsed), [['get_weather', { city: 'Rome' }]]);
    assert.deepEqual(kinds(parsed), ['malformed_call']);
  });
});

describe('kimi-k2 parsing', () => {
  it('reads the name from the call id, keeps the id, and reads the arguments as JSON', () => {
    const text = '<think>plan</think>On it.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:3<|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|><|tool_call_begin|>get_weather:4<|tool_call_argument_begin|>{"city": "Oslo", "days": 2}<|tool_call_end|><|tool_calls_section_end|>';
    const parsed = parseCompletion('kimi-k2', text, { tools });
    assert.equal(parsed.reasoning, 'plan');
    assert.equal(parsed.content, 'On it.');
    assert.deepEqual(parsed.toolCalls, [
      { name: 'get_weather', arguments: { city: 'Paris' }, argumentsText: '{"city":"Paris"}', id: 'functions.get_weather:3' },
      { name: 'get_weather', arguments: { city: 'Oslo', days: 2 }, argumentsText: '{"city":"Oslo","days":2}', id: 'get_weather:4' },
    ]);
    assert.deepEqual(parsed.errors, []);
  });

  it('keeps unparseable arguments as text, and reports odd ids and a section cut off', () => {
    const parsed = parseCompletion('kimi-k2', '<|tool_calls_section_begin|><|tool_call_begin|>weather<|tool_call_argument_begin|>{"city": <|tool_call_end|>', { tools });
    assert.deepEqual(parsed.toolCalls, [{ name: 'weather', arguments: null, argumentsText: '{"city":', id: 'weather' }]);
    assert.deepEqual(kinds(parsed), ['malformed_call', 'bad_json', 'unknown_tool', 'unclosed_block']);
  });
});

describe('deepseek-v3.1 parsing', () => {
  it('reads content and calls; reasoning only when the prompt opened the block', () => {
    const text = 'Sure.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Paris"}<｜tool▁call▁end｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Rome"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>';
    const parsed = parseCompletion('deepseek-v3.1', text, { tools });
    assert.deepEqual([parsed.reasoning, parsed.content, parsed.errors], [null, 'Sure.', []]);
    assert.deepEqual(calls(parsed), [['get_weather', { city: 'Paris' }], ['get_weather', { city: 'Rome' }]]);
    const thinking = parseCompletion('deepseek-v3.1', `weigh it</think>${text}`, { tools, promptOpensThink: true });
    assert.equal(thinking.reasoning, 'weigh it');
  });

  it('reports a call without a separator and arguments that are not an object', () => {
    const parsed = parseCompletion('deepseek-v3.1', '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁call▁end｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>[1]<｜tool▁call▁end｜><｜tool▁calls▁end｜>');
    assert.deepEqual(parsed.toolCalls, [
      { name: 'get_weather', arguments: null, argumentsText: '' },
      { name: 'get_weather', arguments: null, argumentsText: '[1]' },
    ]);
    assert.deepEqual(kinds(parsed), ['malformed_call', 'bad_json']);
  });
});

describe('harmony parsing', () => {
  it('reads analysis as reasoning, final as content, and commentary to functions.* as calls', () => {
    const text = '<|channel|>analysis<|message|>Need weather.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city":"Paris"}<|call|>';
    assert.deepEqual(parseCompletion('harmony', text, { tools }), {
      reasoning: 'Need weather.',
      content: '',
      toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' }, argumentsText: '{"city":"Paris"}' }],
      errors: [],
    });
    const answer = parseCompletion('harmony', '<|channel|>analysis<|message|>Easy.<|end|><|start|>assistant<|channel|>final<|message|>It is sunny.<|return|>');
    assert.deepEqual([answer.reasoning, answer.content, answer.toolCalls, answer.errors], ['Easy.', 'It is sunny.', [], []]);
  });

  it('reads the recipient before the channel, as the chat template writes calls, and a preamble as content', () => {
    const text = '<|channel|>commentary<|message|>Checking two cities.<|end|><|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>{"city": "Oslo"}<|call|>';
    const parsed = parseCompletion('harmony', text, { tools });
    assert.equal(parsed.content, 'Checking two cities.');
    assert.deepEqual(calls(parsed), [['get_weather', { city: 'Oslo' }]]);
    assert.deepEqual(parsed.errors, []);
  });

  it('reports built-in tools, bad arguments, unknown functions and a message cut off, keeping what it can', () => {
    const text = '<|channel|>analysis<|message|>x<|end|><|start|>assistant<|channel|>commentary to=browser.search <|constrain|>json<|message|>{"query":"a"}<|call|><|start|>assistant<|channel|>commentary to=functions.launch <|constrain|>json<|message|>{"x": <|call|><|start|>assistant<|channel|>final<|message|>Partial ans';
    const parsed = parseCompletion('harmony', text, { tools });
    assert.deepEqual(parsed.toolCalls, [{ name: 'launch', arguments: null, argumentsText: '{"x":' }]);
    assert.equal(parsed.content, 'Partial ans');
    assert.deepEqual(kinds(parsed), ['malformed_call', 'bad_json', 'unknown_tool', 'unclosed_block']);
  });

  it('keeps text with no harmony framing as content, saying so', () => {
    const parsed = parseCompletion('harmony', 'Just text.');
    assert.deepEqual([parsed.reasoning, parsed.content, kinds(parsed)], [null, 'Just text.', ['stray_text']]);
  });

  it('streams reasoning and content as they arrive and a call once it ends, splitting inside tokens', () => {
    const text = '<|channel|>analysis<|message|>think<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city":"Paris"}<|call|>';
    const parser = createStreamParser('harmony', { tools });
    const events = [...text].flatMap((ch) => parser.push(ch));
    assert.deepEqual(parser.finish(), parseCompletion('harmony', text, { tools }));
    assert.equal(events.filter((e) => e.type === 'reasoning').map((e) => (e.type === 'reasoning' ? e.text : '')).join(''), 'think');
    assert.deepEqual(events.filter((e) => e.type === 'tool_call').map((e) => (e.type === 'tool_call' ? e.call.name : '')), ['get_weather']);
  });
});
