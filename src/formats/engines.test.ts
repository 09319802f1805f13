// Behaviours where our parsers must read a completion as vLLM / SGLang read it. Each test names the
// engine code it reproduces; paths are in github.com/vllm-project/vllm and sgl-project/sglang.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ToolSpec } from '../core/index.ts';
import { loadChatTemplate } from './template.ts';
import { FORMATS, createStreamParser, parseCompletion } from './registry.ts';
import { thinkOptionsForPrompt } from './think.ts';
import type { FormatName, ParsedCompletion } from './types.ts';

const FIXTURES = new URL('../../test/fixtures/formats/', import.meta.url).pathname;
const weather: ToolSpec = { name: 'get_weather', description: 'Weather.', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } } };
const tools = [weather];
const kinds = (parsed: ParsedCompletion): string[] => parsed.errors.map((e) => e.kind);

describe('minimax-xml tool calls', () => {
  it('reads the name attribute and ignores any other attribute on <invoke> and <parameter>', () => {
    // Asked by the issue. vLLM's and SGLang's minimax_m2 parsers take everything up to `">` as the
    // name, so there such a call is lost (dropped as undeclared when tools are given); we keep it.
    const text = '</think>\n<minimax:tool_call>\n<invoke id="7" name="get_weather" mode=fast>\n<parameter name="days" type="integer">3</parameter>\n<parameter hint=\'x\' name=\'city\'>Oslo</parameter>\n</invoke>\n</minimax:tool_call>';
    const parsed = parseCompletion('minimax-xml', text, { tools });
    assert.deepEqual(parsed.toolCalls, [{ name: 'get_weather', arguments: { days: 3, city: 'Oslo' }, argumentsText: '{"days":3,"city":"Oslo"}' }]);
    assert.deepEqual(parsed.errors, []);
  });

  it('drops a call to a function that was not declared (with an error) when tools are declared, and keeps it otherwise', () => {
    // SGLang: python/sglang/srt/function_call/base_format_detector.py parse_base_json skips calls to
    // undefined functions; vLLM: vllm/frontend/processing/parser/minimax_m2.py sets validate_tool_names,
    // which accepts any name only when the request has no tools.
    const text = '</think>\n<minimax:tool_call>\n<invoke name="rm_rf">\n<parameter name="path">/</parameter>\n</invoke>\n<invoke name="get_weather">\n<parameter name="city">Rome</parameter>\n</invoke>\n</minimax:tool_call>';
    const declared = parseCompletion('minimax-xml', text, { tools });
    assert.deepEqual(declared.toolCalls.map((c) => c.name), ['get_weather']);
    assert.deepEqual(kinds(declared), ['unknown_tool']);
    assert.match(declared.errors[0]?.message ?? '', /<invoke name="rm_rf"> dropped: no tool named "rm_rf" was offered/);
    assert.equal(declared.errors[0]?.callIndex, undefined);
    assert.deepEqual(parseCompletion('minimax-xml', text).toolCalls.map((c) => c.name), ['rm_rf', 'get_weather']);
  });
});

describe('hermes tool calls', () => {
  it('gives no call for a <tool_call> whose body is not valid JSON, leaving the text in the content', () => {
    // vLLM: vllm/entrypoints/openai/tool_parsers/hermes_tool_parser.py extract_tool_calls returns
    // tools_called=False with the whole output as content when json.loads fails.
    const text = 'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}\n</tool_call>';
    const parsed = parseCompletion('hermes', text, { tools });
    assert.deepEqual(parsed.toolCalls, []);
    assert.equal(parsed.content, text);
    assert.deepEqual(kinds(parsed), ['bad_json']);
    assert.match(parsed.errors[0]?.message ?? '', /<tool_call> block 1: the call to "get_weather" is not valid JSON .*the block is left in the content/);
  });

  it('keeps arguments given as a bare JSON string as that string, never the object it spells', () => {
    // vLLM hermes: arguments=json.dumps(function_call["arguments"]) turns a string into a JSON string.
    const parsed = parseCompletion('hermes', '<tool_call>\n{"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}\n</tool_call>', { tools });
    assert.deepEqual(parsed.toolCalls, [{ name: 'get_weather', arguments: null, argumentsText: '"{\\"city\\": \\"Oslo\\"}"' }]);
    assert.deepEqual(kinds(parsed), ['malformed_call']);
    assert.equal(parsed.errors[0]?.callIndex, 0);
  });

  it('gives no call for a call cut off inside its "name", and one for a cut-off call whose JSON is whole', () => {
    // vLLM hermes streaming parses partial JSON without partial strings (Allow.ALL & ~Allow.STR) until
    // the name is complete; its whole-text regex `<tool_call>(.*)` reads an unclosed final block.
    const cut = parseCompletion('hermes', 'Sure.\n<tool_call>\n{"name": "get_wea', { tools });
    assert.deepEqual(cut.toolCalls, []);
    assert.equal(cut.content, 'Sure.\n<tool_call>\n{"name": "get_wea');
    assert.deepEqual(kinds(cut), ['bad_json', 'unclosed_block']);
    const streamed = createStreamParser('hermes', { tools });
    const events = [...'Sure.\n<tool_call>\n{"name": "get_wea'].flatMap((ch) => streamed.push(ch));
    assert.ok(!events.some((e) => e.type === 'tool_call'));
    assert.deepEqual(streamed.finish(), cut);
    const whole = parseCompletion('hermes', '<tool_call>\n{"name": "get_weather", "arguments": {}}', { tools });
    assert.deepEqual(whole.toolCalls.map((c) => c.name), ['get_weather']);
    assert.deepEqual(kinds(whole), ['unclosed_block']);
  });
});

/** A reasoning, a call in the format's own syntax, and where its block starts. */
const CALL_TEXT: Record<Exclude<FormatName, 'openai-json' | 'harmony'>, string> = {
  'minimax-xml': '<minimax:tool_call>\n<invoke name="get_weather">\n<parameter name="city">Paris</parameter>\n</invoke>\n</minimax:tool_call>',
  hermes: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
  'qwen3-coder': '<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>',
  'glm-4.5': '<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n</tool_call>',
  'kimi-k2': '<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|><|tool_calls_section_end|>',
  'deepseek-v3.1': '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Paris"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
};
const THINK_FORMATS = Object.keys(CALL_TEXT) as (keyof typeof CALL_TEXT)[];

describe('reasoning, for every <think> format', () => {
  for (const format of THINK_FORMATS) {
    const call = CALL_TEXT[format];
    describe(format, () => {
      it('reads output without </think> as all reasoning and no content when the prompt opened the block', () => {
        // vLLM: vllm/reasoning/qwen3_reasoning_parser.py and basic_parsers.py: no </think> means the
        // output was cut short and everything generated so far is reasoning.
        const parsed = parseCompletion(format, 'still weighing the options', { promptOpensThink: true });
        assert.equal(parsed.reasoning, 'still weighing the options');
        assert.equal(parsed.content, '');
        assert.deepEqual(kinds(parsed), ['unclosed_block']);
      });

      it('ends the reasoning at a tool call written before any </think>', () => {
        // vLLM: vllm/frontend/processing/parser/qwen3.py and minimax_m2.py: (REASONING, TOOL_START)
        // ends the reasoning and starts the call.
        const parsed = parseCompletion(format, `I will look it up.\n${call}`, { promptOpensThink: true, tools });
        assert.equal(parsed.reasoning, 'I will look it up.');
        assert.equal(parsed.content, '');
        assert.deepEqual(parsed.toolCalls.map((c) => [c.name, c.arguments]), [['get_weather', { city: 'Paris' }]]);
        assert.deepEqual(parsed.errors, []);
      });

      it('removes a second </think> from the content, saying so', () => {
        // vLLM qwen3.py: "Absorb duplicate </think>": (CONTENT, THINK_END) emits nothing.
        const parsed = parseCompletion(format, 'plan\n</think>\nThe answer</think> is 42.', { promptOpensThink: true });
        assert.equal(parsed.reasoning, 'plan');
        assert.equal(parsed.content, 'The answer is 42.');
        assert.deepEqual(kinds(parsed), ['stray_text']);
      });

      it('reads everything as content when thinking is off', () => {
        // vLLM: Qwen3Parser.extract_reasoning returns (None, output) when enable_thinking is false;
        // vllm/reasoning/deepseek_v3_reasoning_parser.py uses the identity parser without `thinking`.
        const parsed = parseCompletion(format, `<think>\nnot reasoning\n</think>\nanswer\n${call}`, { thinking: false, promptOpensThink: true, tools });
        assert.equal(parsed.reasoning, null);
        assert.equal(parsed.content, '<think>\nnot reasoning\n</think>\nanswer');
        assert.deepEqual(parsed.toolCalls.map((c) => c.name), ['get_weather']);
      });

      it('keeps a stray </think> in the content when the prompt did not open the block, and reads a <think> the model opened', () => {
        // vLLM basic_parsers.py streaming: without a start token in the output, deltas are content.
        const stray = parseCompletion(format, 'answer </think> more', { promptOpensThink: false });
        assert.deepEqual([stray.reasoning, stray.content, stray.errors], [null, 'answer </think> more', []]);
        const own = parseCompletion(format, `\n<think>\nplan\n</think>\n\nanswer`, { promptOpensThink: false });
        assert.deepEqual([own.reasoning, own.content], ['plan', 'answer']);
      });
    });
  }

  it('takes the option from the format when left out: what its published template does by default', () => {
    assert.deepEqual(Object.fromEntries(Object.values(FORMATS).map((f) => [f.name, f.thinkStart])), {
      'minimax-xml': 'prompt', hermes: 'model', 'openai-json': 'model', 'qwen3-coder': 'model', 'glm-4.5': 'model', 'kimi-k2': 'model', 'deepseek-v3.1': 'off', harmony: 'model',
    });
    assert.equal(parseCompletion('deepseek-v3.1', 'r</think>c').content, 'r</think>c');
    assert.equal(parseCompletion('deepseek-v3.1', 'r</think>c', { promptOpensThink: true }).reasoning, 'r');
  });
});

describe('think options read off a rendered prompt', () => {
  const user = [{ role: 'user' as const, content: 'hi' }];
  const prompt = async (file: string, vars: Record<string, unknown> = {}): Promise<string> => {
    const rendered = (await loadChatTemplate(`${FIXTURES}${file}`)).render({ messages: user, addGenerationPrompt: true, vars });
    assert.ok(rendered.ok, rendered.ok ? '' : rendered.message);
    return rendered.text;
  };

  it('sees the prompt opening <think> (MiniMax-M2, DeepSeek-V3.1 thinking=true)', async () => {
    assert.deepEqual(thinkOptionsForPrompt(await prompt('minimax-m2-style.jinja')), { promptOpensThink: true });
    assert.deepEqual(thinkOptionsForPrompt(await prompt('templates/deepseek-v3.1/chat_template.jinja', { thinking: true })), { promptOpensThink: true });
  });

  it('sees thinking switched off (Qwen3 and GLM enable_thinking=false, DeepSeek-V3.1 by default)', async () => {
    assert.deepEqual(thinkOptionsForPrompt(await prompt('qwen3-style.jinja', { enable_thinking: false })), { thinking: false });
    assert.deepEqual(thinkOptionsForPrompt(await prompt('templates/glm-4.6/chat_template.jinja', { enable_thinking: false })), { thinking: false });
    assert.deepEqual(thinkOptionsForPrompt(await prompt('templates/deepseek-v3.1/chat_template.jinja')), { thinking: false });
  });

  it('sees a prompt that leaves <think> to the model (Qwen3 hybrid, GLM, Kimi-K2, Qwen3-Coder)', async () => {
    for (const file of ['qwen3-style.jinja', 'templates/glm-4.6/chat_template.jinja', 'templates/kimi-k2-thinking/chat_template.jinja', 'templates/qwen3-coder/chat_template.jinja']) {
      assert.deepEqual(thinkOptionsForPrompt(await prompt(file)), { promptOpensThink: false }, file);
    }
  });
});
