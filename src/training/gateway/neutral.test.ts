import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { JsonValue, Message, ToolCall } from '../../core/index.ts';
import { MessageCache, neutralMessages, sameJson, sameTurn } from './neutral.ts';

// What decides `extendsParent` and the message cache, stated as the JSON they stand for: two
// values are the same when their JSON text is, and two turns are when what they put in the prompt
// (role, text, reasoning unless dropped, tool call ids, names and parsed arguments) is.

const text = fc.constantFrom('', 'a', 'b', 'ls -la', '{"x":1}');

const call: fc.Arbitrary<ToolCall> = fc.oneof(
  fc.record({ id: fc.constantFrom('c1', 'c2'), name: fc.constantFrom('read', 'run'), arguments: fc.dictionary(fc.constantFrom('path', 'cmd'), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }), argumentsText: text }),
  fc.record({ id: fc.constantFrom('c1', 'c2'), name: fc.constantFrom('read', 'run'), arguments: fc.constant(null), argumentsText: text }),
) as fc.Arbitrary<ToolCall>;

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ role: fc.constantFrom('system' as const, 'user' as const), content: text }),
  fc.record({ role: fc.constant('tool' as const), toolCallId: fc.constantFrom('c1', 'c2'), name: fc.constantFrom('read', ''), content: text, isError: fc.boolean() }),
  fc.record(
    {
      role: fc.constant('assistant' as const),
      content: text,
      reasoning: fc.record({ text, source: fc.constant('reasoning_field' as const) }),
      toolCalls: fc.array(call, { maxLength: 2 }),
      reasoningDropped: fc.boolean(),
    },
    { requiredKeys: ['role', 'content', 'toolCalls'] },
  ),
) as fc.Arbitrary<Message>;

/** What a turn puts in the prompt, as one JSON text. */
function promptText(m: Message): string {
  switch (m.role) {
    case 'system':
    case 'user':
      return JSON.stringify([m.role, m.content]);
    case 'tool':
      return JSON.stringify(['tool', m.toolCallId, m.content]);
    case 'assistant':
      return JSON.stringify(['assistant', m.content, m.reasoningDropped ? null : (m.reasoning?.text ?? null), m.toolCalls.map((c) => [c.id, c.name, c.arguments === null ? `text:${c.argumentsText}` : JSON.stringify(c.arguments)])]);
  }
}

describe('comparing what the gateway reads', () => {
  it('two JSON values are the same exactly when their JSON text is', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>, fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>, (a, b) => {
        assert.equal(sameJson(a, b), JSON.stringify(a) === JSON.stringify(b));
        const copy = JSON.parse(JSON.stringify(a)) as JsonValue;
        assert.ok(sameJson(a, copy));
      }),
      { numRuns: 2000 },
    );
    assert.equal(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 }), false, 'keys in another order are another text');
  });

  it('two turns are the same exactly when they put the same into the prompt', () => {
    fc.assert(
      fc.property(message, message, (a, b) => {
        assert.equal(sameTurn(a, b), promptText(a) === promptText(b));
      }),
      { numRuns: 3000 },
    );
    const asked = (args: ToolCall['arguments']): Extract<Message, { role: 'assistant' }> => ({ role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'run', arguments: args, argumentsText: '{"cmd":"ls"}' }] });
    assert.equal(sameTurn(asked({ cmd: 'ls' }), asked(null)), false, 'arguments that parsed are not the same as arguments that did not');
    assert.equal(sameTurn(asked({ cmd: 'ls' }), { ...asked({ cmd: 'ls' }), reasoning: { text: 'r', source: 'reasoning_field' }, reasoningDropped: true }), true, 'dropped reasoning is not in the prompt');
  });

  it('a resent message becomes the same object, wherever it moved, and a tool message takes the name of the call it answers', () => {
    const cache = new MessageCache();
    const assistant = { role: 'assistant', content: '', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'read', arguments: '{}' } }] };
    const first = neutralMessages([{ role: 'user', content: 'hi' }, assistant, { role: 'tool', tool_call_id: 'c1', content: 'x' }], cache);
    const again = neutralMessages([{ role: 'user', content: 'hi' }, structuredClone(assistant), { role: 'tool', tool_call_id: 'c1', content: 'x' }], cache);
    assert.ok(first.every((m, i) => m === again[i]));
    const moved = neutralMessages([{ role: 'system', content: 'new' }, { role: 'user', content: 'hi' }], cache);
    assert.equal(moved[1], first[0]);
    const renamed = neutralMessages([{ role: 'tool', tool_call_id: 'c1', content: 'x' }], cache);
    assert.deepEqual(renamed[0], { role: 'tool', toolCallId: 'c1', name: '', content: 'x', isError: false }, 'no call named it in this request');
  });
});
