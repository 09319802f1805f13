import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { closestName, describeUnknownKeys, unknownKeys } from './unknown-keys.ts';

const Block = z.object({ text: z.string(), checked: z.boolean().optional() });
const Input = z.object({
  title: z.string(),
  company: z.string().default(''),
  blocks: z.array(z.union([z.string(), Block])).default([]),
  values: z.record(z.string(), z.object({ type: z.string() })).default({}),
  meta: z.object({ free: z.string().optional() }).loose().optional(),
  step: z.discriminatedUnion('kind', [z.object({ kind: z.literal('a'), path: z.string() }), z.object({ kind: z.literal('b'), name: z.string() })]).optional(),
});

describe('keys a schema would drop', () => {
  it('names a misspelt optional key that zod strips without a word, with the one it meant', () => {
    const value = { title: 'x', compnay: 'Acme' };
    assert.equal(Input.safeParse(value).success, true);
    const found = unknownKeys(Input, value);
    assert.deepEqual(found.map((k) => [k.path, k.key]), [[[], 'compnay']]);
    assert.deepEqual(describeUnknownKeys(found, 'arguments'), [
      'arguments: unknown key "compnay" (did you mean "company"?); expected one of title, company, blocks, values, meta, step',
    ]);
  });

  it('follows arrays, union branches, record values and discriminated unions to every level', () => {
    const value = {
      title: 'x',
      blocks: ['plain', { text: 'a', chekced: true }],
      values: { status: { type: 'select', optons: [] } },
      step: { kind: 'b', name: 'n', path: 'p' },
    };
    assert.deepEqual(
      unknownKeys(Input, value).map((k) => [k.path.join('.'), k.key]),
      [
        ['blocks.1', 'chekced'],
        ['values.status', 'optons'],
        ['step', 'path'],
      ],
    );
  });

  it('leaves alone objects declared loose, and the names a caller adds at the top', () => {
    assert.deepEqual(unknownKeys(Input, { title: 'x', meta: { anything: 1 } }), []);
    assert.deepEqual(unknownKeys(Input, { title: 'x', now: '2026-01-01T00:00:00Z' }, ['now']), []);
  });

  it("reads keys named after Object's own properties as plain keys", () => {
    const value = JSON.parse('{"title":"x","constructor":1,"__proto__":{"a":1},"toString":"y"}') as unknown;
    assert.deepEqual(unknownKeys(Input, value).map((k) => k.key).sort(), ['__proto__', 'constructor', 'toString']);
    assert.match(describeUnknownKeys(unknownKeys(Input, value))[0] ?? '', /^unknown key "/);
  });

  it('suggests only a near name: a swap of two letters is one edit, an unrelated word none', () => {
    assert.equal(closestName('mesages', ['folders', 'messages']), 'messages');
    assert.equal(closestName('compnay', ['name', 'company']), 'company');
    assert.equal(closestName('colour', ['name', 'company']), undefined);
  });
});
