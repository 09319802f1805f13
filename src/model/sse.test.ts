import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseParser, type SseEvent } from './sse.ts';

/** Feeds `text` in pieces of `size` characters and collects every event, including those flushed at the end. */
function parse(text: string, size: number): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
  return [...events, ...parser.end()];
}

describe('SseParser', () => {
  const stream = ': keep-alive\r\nevent: message_start\r\ndata: {"a":1}\r\n\r\ndata: line one\ndata:line two\n\nid: 7\nretry: 10\ndata: [DONE]\r\r';
  const expected = [
    { event: 'message_start', data: '{"a":1}' },
    { event: '', data: 'line one\nline two' },
    { event: '', data: '[DONE]' },
  ];

  it('reads LF, CRLF and CR line ends, comments, multi-line data and event names, however the text is split', () => {
    for (const size of [1, 2, 3, 5, 8, stream.length]) assert.deepEqual(parse(stream, size), expected, `pieces of ${size}`);
  });

  it('dispatches nothing until the blank line, and an event name applies to one event only', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push('event: ping\ndata: {}\n'), []);
    assert.deepEqual(parser.push('\ndata: next\n\n'), [
      { event: 'ping', data: '{}' },
      { event: '', data: 'next' },
    ]);
  });

  it('at the end of the body, keeps a last event that lacks its newline or blank line', () => {
    assert.deepEqual(parse('data: a\n\ndata: [DONE]', 4), [
      { event: '', data: 'a' },
      { event: '', data: '[DONE]' },
    ]);
    assert.deepEqual(parse('data: [DONE]\n', 100), [{ event: '', data: '[DONE]' }]);
    assert.deepEqual(parse(': only a comment\n\n', 3), []);
  });
});
