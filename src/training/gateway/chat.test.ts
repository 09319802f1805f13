import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { JsonValue } from '../../core/index.ts';
import { ChunkWriter } from './chat.ts';

describe('writing the chunks of one stream', () => {
  it('writes each chunk as JSON.stringify does, whatever the chunks before it held', () => {
    const member = fc.oneof(fc.constantFrom('a', 'b', '', 'é"\\'), fc.integer({ min: -2, max: 2 }), fc.constant(null), fc.boolean(), fc.jsonValue({ maxDepth: 2 }));
    const chunk = fc.dictionary(fc.constantFrom('id', 'object', 'created', 'model', 'choices', '0', '__proto__', 'x y'), member, { maxKeys: 6 }) as fc.Arbitrary<{ [key: string]: JsonValue }>;
    fc.assert(
      fc.property(fc.array(chunk, { minLength: 1, maxLength: 6 }), (chunks) => {
        const writer = new ChunkWriter();
        for (const value of chunks) assert.equal(writer.write(value), JSON.stringify(value));
      }),
      { numRuns: 2000 },
    );
  });
});
