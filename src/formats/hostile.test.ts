import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ToolSpec } from '../core/index.ts';
import { coerceParameter } from './coerce.ts';
import { createStreamParser, parseCompletion } from './registry.ts';
import { FORMAT_NAMES, type FormatName, type ParseOptions, type ParsedCompletion } from './types.ts';

// What a broken or hostile model can write: every case must end as a parse result with errors
// (the model's failure), never a throw, and in time linear in the completion's length.

const tool: ToolSpec = {
  name: 'f',
  description: 'A tool.',
  parameters: { type: 'object', properties: { a: { type: 'string' }, list: { type: 'array' }, n: { type: 'number' } } },
};
const tools = [tool];

/** Milliseconds `run` takes: the best of `times`, so a busy machine inflates it as little as possible. */
function timed(run: () => void, times = 1): number {
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    run();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/**
 * Asserts `run(n)` grows linearly: 32× the input may take at most 10× the linear 32× (a quadratic
 * parser takes ~1000×). A 2 ms floor on the small run keeps timer noise out.
 */
function assertLinear(what: string, run: (n: number) => void, n: number): void {
  const small = Math.max(timed(() => run(n), 3), 2);
  const big = timed(() => run(32 * n));
  assert.ok(big < 320 * small, `${what}: ${32 * n} took ${big.toFixed(0)} ms, ${n} took ${small.toFixed(1)} ms (more than 10x linear)`);
}

const streamInChunks = (format: FormatName, text: string, size: number, options: ParseOptions = {}): ParsedCompletion => {
  const parser = createStreamParser(format, options);
  for (let i = 0; i < text.length; i += size) parser.push(text.slice(i, i + size));
  return parser.finish();
};

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** Each format's call to `f` with argument text `json` (an object) or parameter `list` = `value`. */
const callTexts = (json: string, value: string): Record<FormatName, string> => ({
  hermes: `<tool_call>\n{"name": "f", "arguments": ${json}}\n</tool_call>`,
  'minimax-xml': `<minimax:tool_call>\n<invoke name="f">\n<parameter name="list">${value}</parameter>\n</invoke>\n</minimax:tool_call>`,
  'openai-json': JSON.stringify({ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: json } }] }),
  'qwen3-coder': `<tool_call>\n<function=f>\n<parameter=list>\n${value}\n</parameter>\n</function>\n</tool_call>`,
  'glm-4.5': `<tool_call>f\n<arg_key>list</arg_key>\n<arg_value>${value}</arg_value>\n</tool_call>`,
  'kimi-k2': `<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>${json}<|tool_call_end|><|tool_calls_section_end|>`,
  'deepseek-v3.1': `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>${json}<｜tool▁call▁end｜><｜tool▁calls▁end｜>`,
  harmony: `<|channel|>commentary to=functions.f <|constrain|>json<|message|>${json}<|call|>`,
});

describe('arguments nested too deep to store', () => {
  for (const format of FORMAT_NAMES) {
    it(`${format}: refuses arguments nested 20,000 levels as the model's error instead of throwing`, () => {
      const deep = nested(20_000);
      const text = callTexts(`{"list": ${deep}}`, deep)[format];
      const parsed = parseCompletion(format, text, { tools, promptOpensThink: false });
      // Stringifying is what storing and resending do; it overflowed the stack before.
      assert.doesNotThrow(() => JSON.stringify(parsed));
      assert.ok(parsed.errors.length > 0, 'the model is told');
      assert.match(parsed.errors.map((e) => e.message).join('\n'), /256 levels deep/);
      for (const call of parsed.toolCalls) assert.ok(call.arguments === null || typeof call.arguments.list === 'string', 'the deep value is never kept as JSON');
    });
  }

  it('still reads arguments nested well within the limit', () => {
    for (const format of FORMAT_NAMES) {
      const value = nested(100);
      const parsed = parseCompletion(format, callTexts(`{"list": ${value}}`, value)[format], { tools, promptOpensThink: false });
      assert.deepEqual(parsed.toolCalls.map((c) => JSON.stringify(c.arguments)), [JSON.stringify({ list: JSON.parse(value) as unknown })], format);
    }
  });
});

describe('parameter names that are Object.prototype properties', () => {
  const texts: [FormatName, string][] = [
    ['minimax-xml', '<minimax:tool_call>\n<invoke name="f">\n<parameter name="__proto__">{"a": "injected"}</parameter>\n</invoke>\n</minimax:tool_call>'],
    ['qwen3-coder', '<tool_call>\n<function=f>\n<parameter=__proto__>\n{"a": "injected"}\n</parameter>\n</function>\n</tool_call>'],
    ['glm-4.5', '<tool_call>f\n<arg_key>__proto__</arg_key>\n<arg_value>{"a": "injected"}</arg_value>\n</tool_call>'],
  ];
  for (const [format, text] of texts) {
    it(`${format}: keeps "__proto__" as an argument, so the call carries nothing its recorded JSON does not show`, () => {
      const args = parseCompletion(format, text, { tools: [{ ...tool, parameters: { type: 'object', properties: { __proto__: { type: 'object' } } } }] }).toolCalls[0]?.arguments;
      assert.ok(args);
      assert.deepEqual(Object.keys(args), ['__proto__']);
      assert.equal(Object.getPrototypeOf(args), Object.prototype);
      // Before, `args.a` read "injected" through the prototype while the JSON said {}.
      assert.equal((args as Record<string, unknown>).a, undefined);
      assert.match(JSON.stringify(args), /injected/);
    });
  }
});

describe('parsing time stays linear in the completion', () => {
  it('types a long run of digits that is not a number in linear time', () => {
    assertLinear('number coercion', (n) => assert.equal(coerceParameter(`${'1'.repeat(n)}x`, { type: 'number' }).ok, false), 1_250);
  });

  const tagFormats = FORMAT_NAMES.filter((f) => f !== 'openai-json' && f !== 'harmony');
  const openTag: Record<string, string> = {
    hermes: '<tool_call>',
    'minimax-xml': '<minimax:tool_call>',
    'qwen3-coder': '<tool_call>',
    'glm-4.5': '<tool_call>',
    'kimi-k2': '<|tool_calls_section_begin|>',
    'deepseek-v3.1': '<｜tool▁calls▁begin｜>',
  };
  for (const format of tagFormats) {
    it(`${format}: many stray </think> tags after the reasoning`, () => {
      assertLinear(`${format} stray </think>`, (n) => parseCompletion(format, `<think>r</think>${'</think>'.repeat(n / 8)}`, { promptOpensThink: false }), 12_500);
    });

    it(`${format}: many tool-call blocks after the reasoning`, () => {
      const block = callTexts('{}', '1')[format];
      assertLinear(`${format} blocks`, (n) => parseCompletion(format, `<think>r</think>${block.repeat(n / block.length)}`, { promptOpensThink: false }), 12_500);
    });

    it(`${format}: a long call streamed in small chunks, and leading whitespace streamed before it`, () => {
      assertLinear(`${format} streamed block`, (n) => streamInChunks(format, `${openTag[format]!}${'x'.repeat(n)}`, 16), 12_500);
      assertLinear(`${format} streamed whitespace`, (n) => streamInChunks(format, `${' '.repeat(n)}answer`, 16), 12_500);
    });
  }

  it('qwen3-coder: a run of parameters none of which is closed', () => {
    assertLinear('qwen3-coder parameters', (n) => parseCompletion('qwen3-coder', `<tool_call><function=f>${'<parameter=a>'.repeat(n / 13)}`), 12_500);
  });
});

describe('streams that split hostile text anywhere', () => {
  const texts = [
    ' \n \t<think>\nr\n</think>\n\n</think>content',
    '   \n   ',
    '  <thi',
    '\n\n  plain answer </think> and more',
    ...Object.values(callTexts('{"a": "</think> <tool_call>"}', '<parameter=x>')),
  ];
  for (const format of FORMAT_NAMES) {
    it(`${format}: any chunking gives the whole-text result`, () => {
      for (const text of texts) {
        for (const options of [{ promptOpensThink: true }, { promptOpensThink: false }]) {
          const whole = parseCompletion(format, text, { tools, ...options });
          for (const size of [1, 2, 3, 7]) assert.deepEqual(streamInChunks(format, text, size, { tools, ...options }), whole, `${JSON.stringify(text)} in chunks of ${size}`);
        }
      }
    });
  }
});
