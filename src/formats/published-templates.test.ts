// The five newer formats against their models' published chat templates (test/fixtures/formats/
// templates/*, provenance in each README): what the template prints for an assistant turn after
// its generation prompt is exactly what the renderer writes, and the parser reads it back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonObject } from '../core/index.ts';
import { parseChatMessages, type ChatMessage, type ChatTool } from './chat.ts';
import { pythonJson } from './json-style.ts';
import { parseCompletion, renderCompletion } from './registry.ts';
import { loadChatTemplate, type ChatTemplate, type RenderInput } from './template.ts';
import { thinkOptionsForPrompt } from './think.ts';
import type { AssistantTurn, FormatName, ParseOptions } from './types.ts';

const TEMPLATES = new URL('../../test/fixtures/formats/templates/', import.meta.url).pathname;
const load = (model: string): Promise<ChatTemplate> => loadChatTemplate(`${TEMPLATES}${model}/chat_template.jinja`, { now: () => new Date(2026, 0, 5) });

const tools: ChatTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city.',
      parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' }, hours: { type: 'array' } }, required: ['city'] },
    },
  },
];
const user: ChatMessage[] = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Weather in Paris?' }];

function text(template: ChatTemplate, input: RenderInput): string {
  const result = template.render(input);
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.text;
}

interface Case {
  format: FormatName;
  template: ChatTemplate;
  turn: AssistantTurn;
  /** The assistant message as a client sends it back, in the fields this template reads. */
  message: ChatMessage;
  /** What the template prints after the turn (end of turn). */
  suffix: string;
  vars?: Record<string, unknown>;
}

/** prompt + render(turn) + suffix = the template's rendering, and parsing what follows the prompt gives the turn back. */
function expectTemplateAgrees({ format, template, turn, message, suffix, vars = {} }: Case): void {
  const prompt = text(template, { messages: user, tools, addGenerationPrompt: true, vars });
  const full = text(template, { messages: [...user, message], tools, vars });
  assert.ok(full.startsWith(prompt), `the rendering does not continue the generation prompt:\n${JSON.stringify(full.slice(prompt.length - 60))}`);
  const completion = full.slice(prompt.length, full.length - suffix.length);
  assert.equal(full.slice(full.length - suffix.length), suffix);
  assert.equal(renderCompletion(format, turn), completion);
  const options: ParseOptions = { tools, ...thinkOptionsForPrompt(prompt) };
  const parsed = parseCompletion(format, completion, options);
  assert.deepEqual(parsed.errors, []);
  assert.deepEqual(
    { reasoning: parsed.reasoning, content: parsed.content, toolCalls: parsed.toolCalls.map((c) => ({ name: c.name, arguments: c.arguments })) },
    { reasoning: turn.reasoning ?? null, content: turn.content, toolCalls: turn.toolCalls },
  );
}

const call = (args: JsonObject, id = 'call_0'): NonNullable<ChatMessage['tool_calls']>[number] => ({ id, type: 'function', function: { name: 'get_weather', arguments: args } });

describe('Qwen3-Coder template (qwen3-coder)', async () => {
  const template = await load('qwen3-coder');

  it('prints calls as <function=…> XML exactly as the renderer writes them', () => {
    const turn: AssistantTurn = { reasoning: null, content: 'Let me check.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris', days: 2 } }, { name: 'get_weather', arguments: { city: 'Lyon' } }] };
    const message: ChatMessage = { role: 'assistant', content: turn.content, tool_calls: [call({ city: 'Paris', days: 2 }), call({ city: 'Lyon' }, 'call_1')] };
    expectTemplateAgrees({ format: 'qwen3-coder', template, turn, message, suffix: '<|im_end|>\n' });
  });

  it('prints a call without content and a plain answer the same way', () => {
    expectTemplateAgrees({ format: 'qwen3-coder', template, turn: { reasoning: null, content: '', toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] }, message: { role: 'assistant', content: '', tool_calls: [call({ city: 'Oslo' })] }, suffix: '<|im_end|>\n' });
    expectTemplateAgrees({ format: 'qwen3-coder', template, turn: { reasoning: null, content: 'Sunny.', toolCalls: [] }, message: { role: 'assistant', content: 'Sunny.' }, suffix: '<|im_end|>\n' });
  });
});

describe('GLM-4.6 template (glm-4.5)', async () => {
  const template = await load('glm-4.6');

  it('prints reasoning, content and <arg_key>/<arg_value> calls exactly as the renderer writes them', () => {
    const args = { city: 'Paris', days: 2, hours: [9, 12] };
    const turn = { reasoning: 'Need the forecast.', content: 'Let me check.', toolCalls: [{ name: 'get_weather', arguments: args }] };
    const message: ChatMessage = { role: 'assistant', content: turn.content, reasoning_content: turn.reasoning, tool_calls: [call(args)] };
    expectTemplateAgrees({ format: 'glm-4.5', template, turn, message, suffix: '' });
  });

  it('closes the think block in the prompt when thinking is off, and the parser then reads only content', () => {
    const prompt = text(template, { messages: user, addGenerationPrompt: true, vars: { enable_thinking: false } });
    assert.ok(prompt.endsWith('<|assistant|>\n<think></think>'));
    const parsed = parseCompletion('glm-4.5', '\nIt is sunny.', thinkOptionsForPrompt(prompt));
    assert.deepEqual([parsed.reasoning, parsed.content], [null, 'It is sunny.']);
  });
});

describe('Kimi-K2 templates (kimi-k2)', async () => {
  const thinking = await load('kimi-k2-thinking');
  const instruct = await load('kimi-k2-instruct');

  it('K2-Thinking prints <think> and the tool-call section exactly as the renderer writes them', () => {
    const reasoning = 'Need the forecast.';
    const turn: AssistantTurn = { reasoning, content: 'Let me check.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris', days: 2 } }, { name: 'get_weather', arguments: { city: 'Lyon' } }] };
    const message: ChatMessage = {
      role: 'assistant',
      content: turn.content,
      reasoning_content: reasoning,
      tool_calls: [call({ city: 'Paris', days: 2 }, 'functions.get_weather:0'), call({ city: 'Lyon' }, 'functions.get_weather:1')],
    };
    expectTemplateAgrees({ format: 'kimi-k2', template: thinking, turn, message, suffix: '<|im_end|>' });
  });

  it('K2-Instruct declares the tools and prints a plain answer as the renderer writes it (its template prints no calls)', () => {
    assert.ok(text(instruct, { messages: user, tools, addGenerationPrompt: true }).startsWith('<|im_system|>tool_declare<|im_middle|>[{"type": "function"'));
    expectTemplateAgrees({ format: 'kimi-k2', template: instruct, turn: { reasoning: null, content: 'Sunny.', toolCalls: [] }, message: { role: 'assistant', content: 'Sunny.' }, suffix: '<|im_end|>' });
  });
});

describe('DeepSeek-V3.1 template (deepseek-v3.1)', async () => {
  const template = await load('deepseek-v3.1');

  it('prints calls after <｜Assistant｜></think> exactly as the renderer writes them', () => {
    // This template concatenates arguments as text, so they go in as the JSON string the model wrote.
    const turn: AssistantTurn = { reasoning: null, content: 'Let me check.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris', days: 2 } }, { name: 'get_weather', arguments: { city: 'Lyon' } }] };
    const asText = (args: JsonObject, id: string): NonNullable<ChatMessage['tool_calls']>[number] => ({ id, type: 'function', function: { name: 'get_weather', arguments: pythonJson(args) } });
    const message: ChatMessage = { role: 'assistant', content: turn.content, tool_calls: [asText({ city: 'Paris', days: 2 }, 'call_0'), asText({ city: 'Lyon' }, 'call_1')] };
    expectTemplateAgrees({ format: 'deepseek-v3.1', template, turn, message, suffix: '<｜end▁of▁sentence｜>' });
    expectTemplateAgrees({ format: 'deepseek-v3.1', template, turn: { reasoning: null, content: 'Sunny.', toolCalls: [] }, message: { role: 'assistant', content: 'Sunny.' }, suffix: '<｜end▁of▁sentence｜>' });
  });

  it('opens <think> in the prompt with thinking=true, after which the completion reads as reasoning then content', () => {
    const prompt = text(template, { messages: user, addGenerationPrompt: true, vars: { thinking: true } });
    assert.ok(prompt.endsWith('<｜Assistant｜><think>'));
    const turn = { reasoning: 'Paris in spring.', content: 'Mild.', toolCalls: [] };
    const parsed = parseCompletion('deepseek-v3.1', renderCompletion('deepseek-v3.1', turn), thinkOptionsForPrompt(prompt));
    assert.deepEqual([parsed.reasoning, parsed.content, parsed.errors], ['Paris in spring.', 'Mild.', []]);
  });
});

describe('gpt-oss template (harmony)', async () => {
  const template = await load('gpt-oss');

  it('takes a developer message, as OpenAI-style clients send instructions, into its developer block', () => {
    const messages = parseChatMessages([{ role: 'developer', content: 'Answer in French.' }, { role: 'user', content: 'Weather in Paris?' }], 'body');
    const prompt = text(template, { messages, addGenerationPrompt: true });
    assert.match(prompt, /<\|start\|>developer<\|message\|># Instructions\n\nAnswer in French\.\n\n<\|end\|><\|start\|>user/);
  });

  it('prints analysis then final exactly as the renderer writes them', () => {
    const turn = { reasoning: 'Easy one.', content: 'It is sunny.', toolCalls: [] };
    const message = { role: 'assistant' as const, content: turn.content, thinking: turn.reasoning };
    expectTemplateAgrees({ format: 'harmony', template, turn, message, suffix: '' });
  });

  it('prints a call the parser reads back, though with the recipient before the channel as history is written', () => {
    const prompt = text(template, { messages: user, tools, addGenerationPrompt: true });
    const full = text(template, { messages: [...user, { role: 'assistant', content: '', thinking: 'Look it up.', tool_calls: [call({ city: 'Paris' })] }], tools });
    const completion = full.slice(prompt.length);
    assert.equal(completion, '<|channel|>analysis<|message|>Look it up.<|end|><|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>{"city": "Paris"}<|call|>');
    assert.deepEqual(parseCompletion('harmony', completion, { tools }), {
      reasoning: 'Look it up.',
      content: '',
      toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' }, argumentsText: '{"city":"Paris"}' }],
      errors: [],
    });
  });
});
