import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../core/index.ts';
import { parseChatMessages, toChatMessages, type ChatMessage, type ChatTool } from './chat.ts';
import { renderHermes } from './hermes.ts';
import { renderMiniMax } from './minimax-xml.ts';
import { MAX_RENDER_STEPS } from './jinja-runtime.ts';
import { createChatTemplate, loadChatTemplate, type ChatTemplate, type RenderInput } from './template.ts';

const FIXTURES = new URL('../../test/fixtures/formats/', import.meta.url).pathname;
const qwen = await loadChatTemplate(`${FIXTURES}qwen3-style.jinja`);
const minimax = await loadChatTemplate(`${FIXTURES}minimax-m2-style.jinja`);

const tools: ChatTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather for a city.', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
];
const call = { id: 'call_0', type: 'function' as const, function: { name: 'get_weather', arguments: { city: 'Paris' } } };

function text(template: ChatTemplate, input: RenderInput): string {
  const result = template.render(input);
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.text;
}

describe('chat templates (Qwen3-style)', () => {
  it('adds the generation prompt only when asked, and the empty think block when enable_thinking is false', () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'hi' }];
    assert.equal(text(qwen, { messages }), '<|im_start|>user\nhi<|im_end|>\n');
    assert.equal(text(qwen, { messages, addGenerationPrompt: true }), '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    assert.equal(
      text(qwen, { messages, addGenerationPrompt: true, vars: { enable_thinking: false } }),
      '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
    );
  });

  it('lists tools as JSON lines in the system turn, and passes tools undefined when there are none', () => {
    const withTools = text(qwen, { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }], tools });
    assert.ok(withTools.startsWith('<|im_start|>system\nBe brief.\n\n# Tools\n'));
    assert.ok(withTools.includes('<tools>\n{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city.", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}\n</tools>'));
    const probe = createChatTemplate('{{ tools is defined }}|{{ tools is none }}');
    // Jinja2 prints Python's booleans.
    assert.equal(text(probe, { messages: [], tools: [] }), 'False|False');
    assert.equal(text(probe, { messages: [], tools }), 'True|False');
  });

  it('folds consecutive tool responses into one user turn', () => {
    const prompt = text(qwen, {
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: '', tool_calls: [call, { ...call, id: 'call_1' }] },
        { role: 'tool', content: 'sunny', tool_call_id: 'call_0', name: 'get_weather' },
        { role: 'tool', content: 'rainy', tool_call_id: 'call_1', name: 'get_weather' },
      ],
    });
    assert.ok(prompt.endsWith('<|im_start|>user\n<tool_response>\nsunny\n</tool_response>\n<tool_response>\nrainy\n</tool_response><|im_end|>\n'));
  });

  it('keeps reasoning after the last user query and drops it before, as the template decides', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'one', reasoning_content: 'old thought' },
      { role: 'user', content: 'second' },
      { role: 'assistant', content: '', reasoning_content: 'new thought', tool_calls: [call] },
      { role: 'tool', content: 'sunny', tool_call_id: 'call_0', name: 'get_weather' },
    ];
    const prompt = text(qwen, { messages, addGenerationPrompt: true });
    assert.ok(!prompt.includes('old thought'));
    assert.ok(prompt.includes('<|im_start|>assistant\none<|im_end|>'));
    assert.ok(prompt.includes('<|im_start|>assistant\n<think>\nnew thought\n</think>\n\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>'));
  });

  it('reads reasoning out of raw assistant content holding <think>…</think>', () => {
    const raw = '<think>\nlooking\n</think>\n\nIt is sunny.';
    const prompt = text(qwen, { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: raw }] });
    assert.ok(prompt.endsWith(`<|im_start|>assistant\n${raw}<|im_end|>\n`));
  });

  it("returns the template's own raise_exception as a value", () => {
    const result = qwen.render({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.kind === 'raise_exception');
    assert.match(result.ok ? '' : result.message, /qwen3-style\.jinja: line 31: the template raised an exception: message 0: content must be a string/);
    assert.equal(result.ok ? undefined : result.line, 31, 'the line of the raise_exception call');
  });

  it('renders a turn exactly as the hermes renderer writes the completion', () => {
    const turn = { reasoning: 'need weather', content: 'Let me check.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris', days: [1, 2] } }] };
    const before: ChatMessage[] = [{ role: 'user', content: 'weather?' }];
    const prompt = text(qwen, { messages: before, tools, addGenerationPrompt: true });
    const full = text(qwen, {
      messages: [...before, { role: 'assistant', content: turn.content, reasoning_content: turn.reasoning, tool_calls: turn.toolCalls.map((c) => ({ type: 'function', function: c })) }],
      tools,
    });
    assert.equal(full, `${prompt}${renderHermes(turn)}<|im_end|>\n`);
  });
});

describe('numbers in tool-call arguments', () => {
  // Python's json keeps a whole number written `2.0` a float, and transformers' template prints it
  // so; a JavaScript number would print `2`, and the tokens would differ from the engine's.
  const written = '{"amount": 2.0, "rate": 0.5, "n": 3, "big": 1e3, "neg": -4.0, "nested": {"x": [1.0, 2, 1.5e0]}, "text": "v2.0"}';
  // Jinja2 3.1.6 configured as transformers configures it, on the same template and conversation.
  const jinja2 =
    '<|im_start|>user\npay<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{"name": "pay", "arguments": {"amount": 2.0, "rate": 0.5, "n": 3, "big": 1000.0, "neg": -4.0, "nested": {"x": [1.0, 2, 1.5]}, "text": "v2.0"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\nok\n</tool_response><|im_end|>\n';

  it('render as Python reads the text the model wrote, from a chat-format body', () => {
    const messages = parseChatMessages(
      [
        { role: 'user', content: 'pay' },
        { role: 'assistant', content: '', tool_calls: [{ id: 'c0', type: 'function', function: { name: 'pay', arguments: written } }] },
        { role: 'tool', content: 'ok', tool_call_id: 'c0', name: 'pay' },
      ],
      'body',
    );
    assert.equal(text(qwen, { messages }), jinja2);
  });

  it('render as Python reads the text the model wrote, from stored messages', () => {
    const messages = toChatMessages([
      { role: 'user', content: 'pay' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c0', name: 'pay', arguments: JSON.parse(written) as Record<string, never>, argumentsText: written }] },
      { role: 'tool', toolCallId: 'c0', name: 'pay', content: 'ok', isError: false },
    ]);
    assert.equal(text(qwen, { messages }), jinja2);
  });

  it('are read as JavaScript has them where no text was kept', () => {
    const messages: ChatMessage[] = [{ role: 'assistant', content: '', tool_calls: [{ id: 'c0', type: 'function', function: { name: 'pay', arguments: { amount: 2.0, rate: 0.5 } } }] }];
    assert.ok(text(qwen, { messages }).includes('"arguments": {"amount": 2, "rate": 0.5}'));
  });
});

describe('chat templates (MiniMax-M2-style)', () => {
  it('opens the reasoning block in the generation prompt and renders calls as <invoke> XML', () => {
    const turn = { reasoning: 'need weather', content: '', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris', days: 2, metric: true } }] };
    const before: ChatMessage[] = [{ role: 'user', content: 'weather?' }];
    const prompt = text(minimax, { messages: before, tools, addGenerationPrompt: true });
    assert.ok(prompt.startsWith(']~!b[]~b]system\nYou are a helpful assistant.\n\n# Tools\n'));
    assert.ok(prompt.includes('<tool>{"name": "get_weather", "description": "Weather for a city."'));
    assert.ok(prompt.endsWith(']~b]user\nweather?[e~[\n]~b]ai\n<think>\n'));
    const full = text(minimax, {
      messages: [...before, { role: 'assistant', content: '', reasoning_content: turn.reasoning, tool_calls: turn.toolCalls.map((c) => ({ type: 'function', function: c })) }],
      tools,
    });
    assert.equal(full, `${prompt}${renderMiniMax(turn)}[e~[\n`);
  });

  it('keeps tool results in one tool turn and rejects a late system message', () => {
    const prompt = text(minimax, {
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: '', tool_calls: [call] },
        { role: 'tool', content: 'a', tool_call_id: 'call_0' },
        { role: 'tool', content: 'b', tool_call_id: 'call_1' },
      ],
    });
    assert.ok(prompt.endsWith(']~b]tool\n<response>a</response>\n<response>b</response>[e~[\n'));
    const late = minimax.render({ messages: [{ role: 'user', content: 'q' }, { role: 'system', content: 'late' }] });
    assert.ok(!late.ok && late.kind === 'raise_exception' && late.message.includes('a system message may only come first'));
  });
});

describe('loading templates', () => {
  it('picks tool_use when tools are given and default otherwise, with special tokens from the config', async () => {
    const named = await loadChatTemplate(`${FIXTURES}named-templates`);
    assert.deepEqual(named.names, ['default', 'tool_use']);
    assert.deepEqual(named.specialTokens, { bos_token: '<s>', eos_token: '</s>', additional_special_tokens: ['<extra_0>', '<extra_1>'] });
    const messages: ChatMessage[] = [{ role: 'user', content: 'hi' }];
    assert.deepEqual(named.render({ messages, addGenerationPrompt: true }), { ok: true, text: '<s>[user] hi</s>[assistant] ', templateName: 'default' });
    assert.deepEqual(named.render({ messages, tools }), { ok: true, text: '<s>TOOLS: get_weather[user] hi</s>', templateName: 'tool_use' });
    assert.equal(text(named, { messages, tools, templateName: 'default' }), '<s>[user] hi</s>');
    assert.equal(named.render({ messages, templateName: 'nope' }).ok, false);
  });

  it('lets kwargs shadow special tokens and globals, and uses the injected clock for strftime_now', () => {
    const template = createChatTemplate('{{ bos_token }}|{{ strftime_now("%d %b %Y") }}|{{ range(2, 5) | join(",") }}', {
      specialTokens: { bos_token: '<s>' },
      now: () => new Date(2026, 0, 5, 9, 30),
    });
    assert.equal(text(template, { messages: [] }), '<s>|05 Jan 2026|2,3,4');
    assert.equal(text(template, { messages: [], vars: { bos_token: '<B>' } }), '<B>|05 Jan 2026|2,3,4');
  });

  it('names the line of a template syntax error', async () => {
    await assert.rejects(loadChatTemplate(`${FIXTURES}bad-syntax.jinja`), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /bad-syntax\.jinja: line 4: template syntax error/);
      return true;
    });
    await assert.rejects(loadChatTemplate(`${FIXTURES}unclosed-block.jinja`), /unclosed-block\.jinja: line 4: template syntax error/);
    assert.throws(() => createChatTemplate('ok\nstill ok\n{{ "never closed\n'), /line 3: template syntax error/);
  });

  it('rejects missing files and configs without a usable chat_template, naming the file', async () => {
    await assert.rejects(loadChatTemplate(`${FIXTURES}nope.jinja`), /nope\.jinja: cannot read the template/);
    await assert.rejects(loadChatTemplate(`${FIXTURES}tools.json`), /tools\.json: is not a JSON object/);
    assert.throws(() => createChatTemplate([{ name: 'default' }], { where: 'cfg.json' }), /cfg\.json: chat_template\.0: is not a named template/);
  });
});

describe('hostile and broken templates', () => {
  const stopped = (template: ChatTemplate, pattern: RegExp): void => {
    const result = template.render({ messages: [{ role: 'user', content: 'hi' }] });
    assert.ok(!result.ok, 'the render should have been stopped');
    assert.equal(result.kind, 'limit', result.message);
    assert.match(result.message, pattern);
  };

  // Sizes are chosen so that an unbounded engine still finishes (in seconds) and the test fails
  // rather than hangs; each would go on without end, or fill the heap, at ten times the size.
  it('stops runaway loops, huge ranges, self-calling macros and doubling strings or lists with a limit error', { timeout: 120_000 }, () => {
    stopped(createChatTemplate('{% for i in range(2000) %}{% for j in range(2000) %}{% endfor %}{% endfor %}x', { limits: { maxSteps: 200_000 } }), /inline template: rendering stopped: the template took more than 200,000 evaluation steps/);
    stopped(createChatTemplate('{% for i in range(2000000) %}{% endfor %}'), /range\(\) of 2,000,000 items \(at most 1,000,000\)/);
    stopped(createChatTemplate('{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}'), /nested more than \d+ levels deep/);
    stopped(createChatTemplate('{% macro f(g) %}{{ g(g) }}{% endmacro %}{{ f(f) }}'), /nested more than \d+ levels deep/);
    stopped(createChatTemplate('{% set ns = namespace(s="ab") %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}'), /built a string of [\d,]+ characters/);
    stopped(createChatTemplate('{% set ns = namespace(s=[1]) %}{% for i in range(22) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}'), /built a list of [\d,]+ items/);
    stopped(createChatTemplate('{% for i in range(10) %}{% for j in range(200000) %}{% endfor %}{% endfor %}', { limits: { maxSteps: Number.MAX_SAFE_INTEGER, maxMs: 50 } }), /ran for more than 50 ms/);
    // A real conversation is far inside the default budget (a 1,000-turn one takes some 250,000 steps).
    assert.ok(MAX_RENDER_STEPS >= 1_000_000);
  });

  it('prints values as Jinja2 (and so transformers) does: None, True, 1.0, dict and list reprs', () => {
    const probe = (source: string): string => text(createChatTemplate(source), { messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(probe('{{ {"a": 1, "b": "x"} }}|{{ [1, "x", none, true, 1.5] }}'), "{'a': 1, 'b': 'x'}|[1, 'x', None, True, 1.5]");
    assert.equal(probe('{{ none }}|{{ true }}|{{ 1.0 }}|{{ 4/2 }}'), 'None|True|1.0|2.0');
    assert.equal(probe('{{ {"a": 1} | string }}|{{ [1, "x"] | string }}|{{ none | string }}|{{ false | string }}'), "{'a': 1}|[1, 'x']|None|False");
    assert.equal(probe('{{ "a" ~ {"b": 1} }}|{{ "a" ~ none }}|{{ "a" ~ true }}|{{ "a" ~ 2.0 }}'), "a{'b': 1}|aNone|aTrue|a2.0");
    assert.equal(probe(`{{ ["it's", 'say "hi"', "a\\nb", "\u00e9\u00a0"] }}`), `["it's", 'say "hi"', 'a\\nb', 'é\\xa0']`);
    assert.equal(probe('{{ messages[0] }}'), "{'role': 'user', 'content': 'hi'}");
  });

  it('refuses str + dict and str + int as Python does, instead of printing [object Map]', () => {
    for (const [source, message] of [
      ['{{ "a" + {"b": 1} }}', 'can only concatenate str (not "dict") to str'],
      ['{{ "a" + 1 }}', 'can only concatenate str (not "int") to str'],
      ['{{ 1 + "a" }}', "unsupported operand type(s) for +: 'int' and 'str'"],
    ] as const) {
      const result = createChatTemplate(source).render({ messages: [] });
      assert.ok(!result.ok && result.kind === 'runtime', source);
      assert.ok(result.message.endsWith(message), result.message);
    }
    assert.equal(text(createChatTemplate('{{ "a" + "b" }}|{{ 1 + 2 }}|{{ [1] + [2] }}'), { messages: [] }), 'ab|3|[1, 2]');
  });

  it("finds a dict's methods before its keys, so a schema with an items key still renders (Qwen3-Coder)", async () => {
    const coder = await loadChatTemplate(new URL('../../test/fixtures/formats/templates/qwen3-coder/chat_template.jinja', import.meta.url).pathname);
    const cart: ChatTool[] = [
      {
        type: 'function',
        function: {
          name: 'add_to_cart',
          description: 'Add items.',
          parameters: { type: 'object', properties: { items: { type: 'array', items: { type: 'string' }, description: 'SKUs' }, mode: { type: 'string', enum: ['fast', 'safe'], nullable: true } }, required: ['items'] },
        },
      },
    ];
    const prompt = text(coder, { messages: [{ role: 'user', content: 'hi' }], tools: cart, addGenerationPrompt: true });
    // What transformers renders for the same input (Jinja2 3.1.6, transformers' environment).
    const expected =
      '<tools>\n<function>\n<name>add_to_cart</name>\n<description>Add items.</description>\n<parameters>\n<parameter>\n<name>items</name>\n<type>array</type>\n<description>SKUs</description>\n<items>{"type": "string"}</items>\n</parameter>\n<parameter>\n<name>mode</name>\n<type>string</type>\n<nullable>True</nullable>\n</parameter>\n<required>[`items`]</required>\n</parameters>\n</function>\n</tools>';
    assert.ok(prompt.includes(expected), prompt);
    const probe = createChatTemplate('{% set d = {"items": [1], "keys": 2, "get": 3} %}{{ d.items() | length }}|{{ d["items"] }}|{{ d.get("keys") }}|{{ d.keys() | join(",") }}');
    assert.equal(text(probe, { messages: [] }), '3|[1]|2|items,keys,get');
  });

  it('reads a template saved with CRLF (or CR) line endings as Jinja2 does', () => {
    assert.equal(text(createChatTemplate('{% if true %}\r\nyes\r\n{% endif %}\r\nz'), { messages: [] }), 'yes\nz');
    assert.equal(text(createChatTemplate('a\r\nb\rc\n'), { messages: [] }), 'a\nb\nc');
    assert.throws(() => createChatTemplate('ok\r\nstill ok\r\n{{ "never closed\r\n'), /line 3: template syntax error/);
  });

  it('renders message content holding template syntax literally, never evaluating it', () => {
    const content = '{{ raise_exception("x") }} {% for i in range(10**9) %}{% endfor %}';
    assert.equal(text(qwen, { messages: [{ role: 'user', content }] }), `<|im_start|>user\n${content}<|im_end|>\n`);
  });
});
