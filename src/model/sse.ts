/** One server-sent event: its `event:` name ('' when none) and its `data:` lines joined by newlines. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * An incremental `text/event-stream` parser, fed text as it arrives: lines end in LF, CRLF or CR
 * (a CR at the end of a piece waits for the next one, in case an LF follows), a blank line ends
 * an event, `:` lines are comments, and `id:`/`retry:` are ignored (a model stream is never resumed).
 */
export class SseParser {
  private buffer = '';
  private name = '';
  private data: string[] = [];

  push(text: string): SseEvent[] {
    this.buffer += text;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const char = this.buffer[i];
      if (char !== '\n' && char !== '\r') continue;
      if (char === '\r' && i + 1 === this.buffer.length) break;
      const line = this.buffer.slice(start, i);
      if (char === '\r' && this.buffer[i + 1] === '\n') i++;
      start = i + 1;
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /**
   * At the end of the body: a last line without its newline, and an event without its closing
   * blank line, still count (some servers end on `data: [DONE]\n`).
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    const rest = this.buffer.replace(/\r$/, '');
    this.buffer = '';
    if (rest !== '') {
      const event = this.line(rest);
      if (event) events.push(event);
    }
    const last = this.line('');
    if (last) events.push(last);
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      const event = this.data.length > 0 ? { event: this.name, data: this.data.join('\n') } : null;
      this.name = '';
      this.data = [];
      return event;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.name = value;
    return null;
  }
}
