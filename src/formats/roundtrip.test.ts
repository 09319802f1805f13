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
const TAGS = ['<think>', '</think>', '<tool_call>', '</tool_call>', '<minimax:tool_call>', '</minimax:tool_call>', '<invoke', '</invoke>', '<parameter', '</parameter>'];
const hasTag = (text: string): boolean => TAGS.some((tag) => text.includes(tag));

const fragment = fc.constantFrom('a', 'Z', 'x y', ' ', '\n', '\t', 'é', '中文', '😀', '"', "'", '\\', '{', '}', '[', ']', ':', ',', '<', '>', '/', 'think', 'tool_call', 'null', '42', 'true');
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
const paramName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,7}$/);

function turnOf(calls: fc.Arbitrary<{ name: string; arguments: JsonObject }>): fc.Arbitrary<AssistantTurn> {
  return fc
    .record({ reasoning: fc.option(reasoningText, { nil: null }), content: trimmedText, toolCalls: fc.array(calls, { maxLength: 3 }) })
    .filter((turn) => !hasTag(JSON.stringify(turn)));
}

// minimax-xml values are text typed by the schema, so each parameter comes with a schema type.
const typedParam = fc.oneof(
  trimmedText.map((v) => ({ type: 'string', value: v as JsonValue })),
  fc.integer().map((v) => ({ type: 'integer', value: v as JsonValue })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => ({ type: 'number', value: clean(v) })),
  fc.boolean().map((v) => ({ type: 'boolean', value: v as JsonValue })),
  jsonObject.map((v) => ({ type: 'object', value: v as JsonValue })),
  fc.array(jsonValue, { maxLength: 3 }).map((v) => ({ type: 'array', value: v as JsonValue })),
  fc.constant({ type: 'null', value: null as JsonValue }),
);
const typedCall = fc.record({ name: toolName, params: fc.dictionary(paramName, typedParam, { maxKeys: 4 }) });
const minimaxCase = fc
  .record({ reasoning: fc.option(reasoningText, { nil: null }), content: trimmedText, calls: fc.array(typedCall, { maxLength: 3 }) })
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
  it('hermes', () => {
    fc.assert(fc.property(turnOf(fc.record({ name: toolName, arguments: jsonObject })), (turn) => expectRoundTrip('hermes', turn)), RUNS);
  });

  it('minimax-xml, with schemas typing the parameters', () => {
    fc.assert(fc.property(minimaxCase, ({ turn, tools }) => expectRoundTrip('minimax-xml', turn, { tools })), RUNS);
  });

  it('minimax-xml, the prompt having opened the reasoning block', () => {
    const withReasoning = minimaxCase.filter(({ turn }) => turn.reasoning !== null);
    fc.assert(fc.property(withReasoning, ({ turn, tools }) => expectRoundTrip('minimax-xml', turn, { tools, thinkingOpen: true })), RUNS);
  });

  it('openai-json', () => {
    const turns = fc.record({
      reasoning: fc.option(fc.string(), { nil: null }),
      content: fc.string().map((s) => s.trim()),
      toolCalls: fc.array(fc.record({ name: toolName, arguments: jsonObject }), { maxLength: 3 }),
    });
    fc.assert(fc.property(turns, (turn) => expectRoundTrip('openai-json', turn)), RUNS);
  });
});

describe('streaming: any chunking parses like the whole text', () => {
  const cuts = fc.array(fc.nat(), { maxLength: 12 });
  const tagSoup = fc
    .array(fc.oneof(fragment, fc.constantFrom(...TAGS, '<invoke name="f">', '<parameter name="k">', '{"name": "f", "arguments": {}}')), { maxLength: 25 })
    .map((parts) => parts.join(''));

  for (const format of ['hermes', 'minimax-xml'] as const) {
    it(`${format}: rendered turns, cut short anywhere`, () => {
      const cases = fc.record({ turn: turnOf(fc.record({ name: toolName, arguments: jsonObject })), keep: fc.nat(), cuts, open: fc.boolean() });
      fc.assert(
        fc.property(cases, ({ turn, keep, cuts: at, open }) => {
          const text = renderCompletion(format, turn);
          expectStreamEqualsWhole(format, text.slice(0, keep % (text.length + 1)), at, { thinkingOpen: open });
        }),
        RUNS,
      );
    });

    it(`${format}: arbitrary text full of tags`, () => {
      fc.assert(fc.property(tagSoup, cuts, fc.boolean(), (text, at, open) => expectStreamEqualsWhole(format, text, at, { thinkingOpen: open })), RUNS);
    });
  }

  it('openai-json', () => {
    fc.assert(fc.property(fc.json(), cuts, (text, at) => expectStreamEqualsWhole('openai-json', text, at)), RUNS);
  });
});
