import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SseParser } from '../../model/sse.ts';
import { SseReader } from './sse.ts';

// The gateway's fast reader must read every stream exactly as the model module's parser does,
// however the bytes are split into pieces.

const LINE_ENDS = ['\n', '\r\n', '\r'];

const stream = fc
  .array(
    fc.record({
      name: fc.option(fc.constantFrom('message_start', 'content_block_delta', 'error'), { nil: undefined }),
      data: fc.array(fc.string({ maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, ' ')), { minLength: 1, maxLength: 3 }),
      comment: fc.boolean(),
      end: fc.constantFrom(...LINE_ENDS),
    }),
    { maxLength: 8 },
  )
  .map((events) =>
    events
      .map(({ name, data, comment, end }) => `${comment ? `: keep-alive${end}` : ''}${name ? `event: ${name}${end}` : ''}${data.map((d) => `data:${d.startsWith(' ') ? '' : ' '}${d}${end}`).join('')}${end}`)
      .join(''),
  );

function readAll(reader: { push(text: string): unknown[]; end(): unknown[] }, pieces: string[]): unknown[] {
  return [...pieces.flatMap((piece) => reader.push(piece)), ...reader.end()];
}

function split(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let at = 0;
  for (const point of points) {
    pieces.push(text.slice(at, point));
    at = point;
  }
  pieces.push(text.slice(at));
  return pieces;
}

describe('the gateway SSE reader', () => {
  it('reads what the model module\'s parser reads, for any stream split at any points', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 6 }), (text, cuts) => {
        const pieces = split(text, cuts);
        assert.deepEqual(readAll(new SseReader(), pieces), readAll(new SseParser(), pieces));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a last event that lacks its blank line, and a CR split from its LF', () => {
    assert.deepEqual(readAll(new SseReader(), ['data: a\r', '\n\r\ndata: b\n']), [
      { event: '', data: 'a' },
      { event: '', data: 'b' },
    ]);
    assert.deepEqual(readAll(new SseReader(), ['data: [DONE]']), [{ event: '', data: '[DONE]' }]);
  });
});
