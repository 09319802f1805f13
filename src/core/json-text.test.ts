import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { JsonValue } from './json.ts';
import { jsonBytes, jsonText, markImmutable } from './json-text.ts';

/** Marks a random selection of the objects inside `value`, at any depth. */
function markSome(value: JsonValue, pick: () => boolean): void {
  if (value === null || typeof value !== 'object') return;
  if (pick()) markImmutable(value);
  for (const member of Array.isArray(value) ? value : Object.values(value)) markSome(member, pick);
}

describe('jsonText', () => {
  it('is exactly JSON.stringify, with or without marked parts, at any depth', () => {
    fc.assert(
      fc.property(fc.jsonValue() as fc.Arbitrary<JsonValue>, fc.array(fc.boolean(), { minLength: 1 }), fc.nat(4), (value, picks, depth) => {
        let i = 0;
        markSome(value, () => picks[i++ % picks.length]!);
        assert.equal(jsonText(value, depth), JSON.stringify(value));
        assert.equal(jsonText(value, depth), JSON.stringify(value)); // the kept text, the second time
        assert.equal(Buffer.concat(jsonBytes(value, depth)).toString('utf8'), JSON.stringify(value));
      }),
      { numRuns: 300 },
    );
  });

  it('reuses the text of a marked value instead of serialising it again', () => {
    const tools = markImmutable([{ type: 'function', function: { name: 'list_folders' } }]);
    const first = jsonText({ messages: [], tools }, 1);
    // Only a mutation (which marking promises never happens) could show the kept text is reused.
    (tools[0] as { type: string }).type = 'changed';
    assert.equal(jsonText({ messages: [], tools }, 1), first);
    assert.notEqual(JSON.stringify({ messages: [], tools }), first);
  });

  it('shares the bytes of a marked value between bodies, as a piece of its own', () => {
    const tools = markImmutable([{ type: 'function', function: { name: 'ünïcode_tool' } }]);
    const first = jsonBytes({ model: 'm', tools, stream: true }, 1);
    const second = jsonBytes({ model: 'n', tools }, 1);
    assert.ok(first.some((piece) => second.includes(piece)), 'the same Buffer in both');
    assert.equal(Buffer.concat(second).toString('utf8'), JSON.stringify({ model: 'n', tools }));
  });

  it('serialises unmarked values afresh, and values below `depth` whole', () => {
    const message = { role: 'user', content: 'a' };
    const body = { messages: [message] };
    assert.equal(jsonText(body, 2), '{"messages":[{"role":"user","content":"a"}]}');
    message.content = 'b';
    assert.equal(jsonText(body, 2), '{"messages":[{"role":"user","content":"b"}]}');
  });

  it('leaves undefined members and toJSON to JSON.stringify rules', () => {
    const odd = { a: undefined, b: [undefined, 1], c: new Date(0) } as unknown as JsonValue;
    assert.equal(jsonText(odd, 3), JSON.stringify(odd));
  });
});
