import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { JsonObject, JsonValue, ToolSpec } from '../core/index.ts';
import { createStreamParser, parseCompletion, renderCompletion } from './registry.ts';
import type { AssistantTurn, FormatName, ParseOptions } from './types.ts';

// Properties: parse(render(turn)) gives the turn back, and a stream cut at random places parses
// to exactly what the whole text parses to. Texts avoid the formats' own tags (a value holding
// `</parameter>` cannot round-trip in any engine) and edge whitespace, which parsers trim as
// the engines and templates do.

const RUNS = { numRuns: 300 };
const TAGS = [
  '<think>', '</think>', '<tool_call>', '</tool_call>', '<minimax:tool_call>', '</minimax:tool_call>', '<invoke', '</invoke>', '<parameter', '</parameter>',
  '<function=', '</function>', '<arg_key>', '</arg_key>', '<arg_value>', '</arg_value>',
  '<|tool_calls_section_begin|>', '<|tool_calls_section_end|>', '<|tool_call_begin|>', '<|tool_call_argument_begin|>', '<|tool_call_end|>',
  '<｜tool▁calls▁begin｜>', '<｜tool▁calls▁end｜>', '<｜tool▁call▁begin｜>', '<｜tool▁sep｜>', '<｜tool▁call▁end｜>',
  '<|start|>', '<|end|>', '<|message|>', '<|channel|>', '<|constrain|>', '<|call|>', '<|return|>',
];
const hasTag = (text: string): boolean => TAGS.some((tag) => text.includes(tag));

const fragment = fc.constantFrom('a', 'Z', 'x y', ' ', '\n', '\t', 'é', '中文', '😀', '"', "'", '\\', '{', '}', '[', ']', ':', ',', '<', '>', '/', '|', '=', 'think', 'tool_call', 'function', 'null', 'None', '42', 'true');
const anyText = fc.array(fragment, { maxLength: 12 }).map((parts) => parts.join(''));
const safeText = anyText.filter((text) => !hasTag(text));
const trimmedText = safeText.map((text) => text.trim());
const reasoningText = safeText.map((text) => text.replace(/^\n+/, '').replace(/\n+$/, ''));

/** JSON values without -0 (JSON writes it as 0) and without keys that objects treat specially. */
function clean(value: JsonValue): JsonValue {
  if (typeof value === 'number') return Object.is(value, -0) ? 0 : value;
  if (Array.isArray(value)) return value.map(clean);
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) if (key !== '__proto__') out[key] = clean(item);
    return out;
  }
  return value;
}
const jsonValue = fc.jsonValue({ maxDepth: 2 }).map((value) => clean(value as JsonValue));
const jsonObject = fc.dictionary(fc.string({ maxLength: 6 }), jsonValue, { maxKeys: 4 }).map((value) => clean(value) as JsonObject);
const toolName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,11}$/);
// Kimi-K2 carries the name inside an id (`functions.<name>:<n>`), so its names hold no dot or colon.
const plainToolName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,11}$/);
const paramName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,7}$/);

function turnOf(calls: fc.Arbitrary<{ name: string; arguments: JsonObject }>): fc.Arbitrary<AssistantTurn> {
  return fc
    .record({ reasoning: fc.option(reasoningText, { nil: null }), content: trimmedText, toolCalls: fc.array(calls, { maxLength: 3 }) })
    .filter((turn) => !hasTag(JSON.stringify(turn)));
}

// XML-style values are text typed by the schema, so each parameter comes with a schema type.
// Strings are trimmed where the engines trim values (MiniMax, GLM) and whole where they do not (Qwen3-Coder).
const typedParam = (strings: fc.Arbitrary<string>): fc.Arbitrary<{ type: string; value: JsonValue }> => fc.oneof(
  strings.map((v) => ({ type: 'string', value: v as JsonValue })),
  fc.integer().map((v) => ({ type: 'integer', value: v as JsonValue })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => ({ type: 'number', value: clean(v) })),
  fc.boolean().map((v) => ({ type: 'boolean', value: v as JsonValue })),
  jsonObject.map((v) => ({ type: 'object', value: v as JsonValue })),
  fc.array(jsonValue, { maxLength: 3 }).map((v) => ({ type: 'array', value: v as JsonValue })),
  fc.constant({ type: 'null', value: null as JsonValue }),
);
const typedCase = (strings: fc.Arbitrary<string>): fc.Arbitrary<{ turn: AssistantTurn; tools: ToolSpec[] }> => fc
  .record({
    reasoning: fc.option(reasoningText, { nil: null }),
    content: trimmedText,
    calls: fc.array(fc.record({ name: toolName, params: fc.dictionary(paramName, typedParam(strings), { maxKeys: 4 }) }), { maxLength: 3 }),
  })
  .map(({ reasoning, content, calls }) => {
    // One schema per tool name; a later call reusing a name reuses its parameter types.
    const schemas = new Map<string, Record<string, { type: string }>>();
    const toolCalls = calls.map((call) => {
      const props = schemas.get(call.name) ?? {};
      schemas.set(call.name, props);
      const args: JsonObject = {};
      for (const [key, param] of Object.entries(call.params)) {
        const declared = props[key]?.type ?? param.type;
        props[key] = { type: declared };
        if (declared === param.type) args[key] = param.value;
      }
      return { name: call.name, arguments: args };
    });
    const tools: ToolSpec[] = [...schemas].map(([name, properties]) => ({ name, description: '', parameters: { type: 'object', properties } }));
    return { turn: { reasoning, content, toolCalls } as AssistantTurn, tools };
  })
  .filter(({ turn }) => !hasTag(JSON.stringify(turn)));
const minimaxCase = typedCase(trimmedText);

function expectRoundTrip(format: FormatName, turn: AssistantTurn, options: ParseOptions = {}): void {
  const text = renderCompletion(format, turn);
  const parsed = parseCompletion(format, text, options);
  assert.deepEqual(parsed.errors, [], text);
  assert.deepEqual(
    { reasoning: parsed.reasoning, content: parsed.content, toolCalls: parsed.toolCalls.map((c) => ({ name: c.name, arguments: c.arguments })) },
    // fast-check records have a null prototype; compare as plain objects.
    { reasoning: turn.reasoning ?? null, content: turn.content, toolCalls: turn.toolCalls.map((c) => ({ name: c.name, arguments: c.arguments })) },
    text,
  );
}

/** Cuts `text` at the given offsets (in UTF-16 units, so surrogate pairs split too). */
function chunks(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const point of points) {
    out.push(text.slice(last, point));
    last = point;
  }
  out.push(text.slice(last));
  return out;
}

function expectStreamEqualsWhole(format: FormatName, text: string, cuts: number[], options: ParseOptions = {}): void {
  const parser = createStreamParser(format, options);
  for (const chunk of chunks(text, cuts)) parser.push(chunk);
  assert.deepEqual(parser.finish(), parseCompletion(format, text, options), JSON.stringify(text));
}

describe('round trip: parse(render(turn)) = turn', () => {
  const jsonCalls = fc.record({ name: toolName, arguments: jsonObject });

  it('hermes', () => {
    fc.assert(fc.property(turnOf(jsonCalls), (turn) => expectRoundTrip('hermes', turn)), RUNS);
  });

  it('minimax-xml, with schemas typing the parameters', () => {
    fc.assert(fc.property(minimaxCase, ({ turn, tools }) => expectRoundTrip('minimax-xml', turn, { tools, promptOpensThink: turn.reasoning !== null })), RUNS);
  });

  it('minimax-xml, the prompt having opened the reasoning block (the default)', () => {
    const withReasoning = minimaxCase.filter(({ turn }) => turn.reasoning !== null);
    fc.assert(fc.property(withReasoning, ({ turn, tools }) => expectRoundTrip('minimax-xml', turn, { tools })), RUNS);
  });

  it('qwen3-coder, with schemas typing the parameters and string values kept whole', () => {
    fc.assert(fc.property(typedCase(safeText), ({ turn, tools }) => expectRoundTrip('qwen3-coder', turn, { tools })), RUNS);
  });

  it('glm-4.5, with schemas typing the parameters', () => {
    fc.assert(fc.property(typedCase(trimmedText), ({ turn, tools }) => expectRoundTrip('glm-4.5', turn, { tools })), RUNS);
  });

  it('kimi-k2', () => {
    fc.assert(fc.property(turnOf(fc.record({ name: plainToolName, arguments: jsonObject })), (turn) => expectRoundTrip('kimi-k2', turn)), RUNS);
  });

  it('deepseek-v3.1: reasoning after a prompt that opened the block, none after one that closed it', () => {
    fc.assert(fc.property(turnOf(jsonCalls), (turn) => expectRoundTrip('deepseek-v3.1', turn, turn.reasoning === null ? {} : { promptOpensThink: true })), RUNS);
  });

  it('harmony', () => {
    fc.assert(fc.property(turnOf(jsonCalls), (turn) => expectRoundTrip('harmony', turn)), RUNS);
  });

  it('openai-json', () => {
    const turns = fc.record({
      reasoning: fc.option(fc.string(), { nil: null }),
      content: fc.string().map((s) => s.trim()),
      toolCalls: fc.array(jsonCalls, { maxLength: 3 }),
    });
    fc.assert(fc.property(turns, (turn) => expectRoundTrip('openai-json', turn)), RUNS);
  });
});

describe('streaming: any chunking parses like the whole text', () => {
  const cuts = fc.array(fc.nat(), { maxLength: 12 });
  const snippets = [
    '<invoke name="f">', '<parameter name="k">', '{"name": "f", "arguments": {}}', '<function=f>', '<parameter=k>', 'f\n<arg_key>k</arg_key>',
    'functions.f:0', '<|channel|>analysis', '<|channel|>final', '<|channel|>commentary to=functions.f ', '<|start|>assistant',
  ];
  const tagSoup = fc.array(fc.oneof(fragment, fc.constantFrom(...TAGS, ...snippets)), { maxLength: 25 }).map((parts) => parts.join(''));
  // Every way of saying where reasoning starts, including leaving it to the format.
  const think: fc.Arbitrary<ParseOptions> = fc.constantFrom({}, { promptOpensThink: true }, { promptOpensThink: false }, { thinking: false });
  const formats = ['hermes', 'minimax-xml', 'qwen3-coder', 'glm-4.5', 'kimi-k2', 'deepseek-v3.1', 'harmony'] as const;

  for (const format of formats) {
    it(`${format}: rendered turns, cut short anywhere`, () => {
      const cases = fc.record({ turn: turnOf(fc.record({ name: toolName, arguments: jsonObject })), keep: fc.nat(), cuts, think });
      fc.assert(
        fc.property(cases, ({ turn, keep, cuts: at, think: options }) => {
          const text = renderCompletion(format, turn);
          expectStreamEqualsWhole(format, text.slice(0, keep % (text.length + 1)), at, options);
        }),
        RUNS,
      );
    });

    it(`${format}: arbitrary text full of tags`, () => {
      fc.assert(fc.property(tagSoup, cuts, think, (text, at, options) => expectStreamEqualsWhole(format, text, at, options)), RUNS);
    });
  }

  it('openai-json', () => {
    fc.assert(fc.property(fc.json(), cuts, (text, at) => expectStreamEqualsWhole('openai-json', text, at)), RUNS);
  });
});
