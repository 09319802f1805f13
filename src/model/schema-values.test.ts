import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { createRng, type JsonObject } from '../core/index.ts';
import { placeholderValue, randomValue } from './schema-values.ts';
import { createValidator } from './testing.ts';

function toolSchema(schema: z.ZodType): JsonObject {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonObject;
  delete json.$schema;
  return json;
}

const Node: z.ZodType<{ name: string; children?: { name: string }[] }> = z.object({ name: z.string(), children: z.array(z.lazy(() => Node)).optional() });

const schemas: Record<string, JsonObject> = {
  mail: toolSchema(
    z.object({
      to: z.array(z.email()).min(1).max(3),
      subject: z.string().min(3).max(20),
      priority: z.enum(['low', 'normal', 'high']).default('normal'),
      sendAt: z.iso.datetime().optional(),
      cc: z.email().nullable().optional(),
      attempts: z.number().int().min(1).max(5),
      ratio: z.number().gt(0).lt(1),
      step: z.number().int().multipleOf(5).min(10).max(40),
      id: z.uuid(),
      tags: z.record(z.string(), z.boolean()).optional(),
      mode: z.literal('draft'),
      target: z.union([z.object({ kind: z.literal('folder'), path: z.string() }), z.object({ kind: z.literal('label'), label: z.string().max(4) })]),
      positive: z.number().int().positive(),
    }),
  ),
  tree: toolSchema(z.object({ root: Node })),
  handWritten: {
    type: 'object',
    properties: {
      pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer', exclusiveMinimum: 3, exclusiveMaximum: 6 }], items: false, minItems: 2 },
      unique: { type: 'array', items: { enum: ['a', 'b', 'c'] }, uniqueItems: true, minItems: 2, maxItems: 3 },
      either: { oneOf: [{ type: 'null' }, { type: 'string', maxLength: 2 }] },
      both: { allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { properties: { b: { type: 'boolean' } }, required: ['b'] }] },
      types: { type: ['integer', 'string'], minimum: 7, maxLength: 3 },
      ref: { $ref: '#/$defs/code' },
      constant: { const: { nested: [1, 2] } },
    },
    required: ['pair', 'unique', 'either', 'both', 'types', 'ref', 'constant'],
    additionalProperties: false,
    $defs: { code: { type: 'string', minLength: 15 } },
  },
};

describe('schema values', () => {
  const ajv = createValidator();

  for (const [name, schema] of Object.entries(schemas)) {
    const validate = ajv.compile(schema);

    it(`random values validate against the ${name} schema for any seed`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          const value = randomValue(schema, createRng(seed));
          assert.equal(validate(value), true, `seed ${seed}: ${JSON.stringify(value)}\n${ajv.errorsText(validate.errors)}`);
        }),
        { numRuns: 150 },
      );
    });

    it(`the placeholder value validates against the ${name} schema`, () => {
      const value = placeholderValue(schema);
      assert.equal(validate(value), true, `${JSON.stringify(value)}\n${ajv.errorsText(validate.errors)}`);
    });
  }

  it('random values are deterministic for a seed and vary across seeds', () => {
    const schema = schemas.mail as JsonObject;
    assert.deepEqual(randomValue(schema, createRng(42)), randomValue(schema, createRng(42)));
    const distinct = new Set(Array.from({ length: 20 }, (_, seed) => JSON.stringify(randomValue(schema, createRng(seed)))));
    assert.ok(distinct.size > 15);
  });

  it('placeholders are the dullest valid values: required keys only', () => {
    const schema = toolSchema(
      z.object({ name: z.string(), count: z.number().int(), flag: z.boolean(), items: z.array(z.string()), color: z.enum(['red', 'blue']), note: z.string().optional() }),
    );
    assert.deepEqual(placeholderValue(schema), { name: 'placeholder', count: 0, flag: false, items: [], color: 'red' });
  });
});
