const LF = 10;
const CR = 13;

/** One server-sent event: its `event:` name ('' when none) and its `data:` lines joined by newlines. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * An incremental `text/event-stream` parser, fed text as it arrives: lines end in LF, CRLF or CR
 * (an LF right after a CR that ended the previous piece belongs to it), a blank line ends an
 * event, `:` lines are comments, and `id:`/`retry:` are ignored (a model stream is never resumed).
 *
 * Each piece is scanned once: an unfinished line is kept as its pieces and joined when it ends,
 * so a line sent in many pieces (a 100 MB event without a newline) costs time in proportion to
 * its length, not to its length squared.
 */
export class SseParser {
  /** The pieces of the line not yet ended. */
  private partial: string[] = [];
  /** The last piece ended in CR: an LF that starts the next piece ends nothing. */
  private afterCr = false;
  private readonly lines = new SseLines();

  push(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    if (this.afterCr && text.length > 0) {
      this.afterCr = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    for (let i = start; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code !== LF && code !== CR) continue;
      let line = text.slice(start, i);
      if (this.partial.length > 0) {
        this.partial.push(line);
        line = this.partial.join('');
        this.partial = [];
      }
      if (code === CR) {
        if (i + 1 === text.length) this.afterCr = true;
        else if (text.charCodeAt(i + 1) === LF) i++;
      }
      start = i + 1;
      const event = this.lines.line(line);
      if (event) events.push(event);
    }
    if (start < text.length) this.partial.push(start === 0 ? text : text.slice(start));
    return events;
  }

  /**
   * At the end of the body: a last line without its newline, and an event without its closing
   * blank line, still count (some servers end on `data: [DONE]\n`).
   */
  end(): SseEvent[] {
    const rest = this.partial.join('');
    this.partial = [];
    return this.lines.end(rest === '' ? [] : [rest]);
  }
}

/**
 * The lines of an event stream, one at a time, gathered into events: a blank line ends an event,
 * `:` lines are comments, and only `event:` and `data:` count. Every reader of a stream shares it;
 * they differ only in how they find where lines end.
 */
export class SseLines {
  private name = '';
  private data: string[] = [];

  /** Whether data lines have come whose event has not ended yet. */
  get pending(): boolean {
    return this.data.length > 0;
  }

  /** One line without its line end: the event it ends, if any. */
  line(line: string): SseEvent | null {
    if (line === '') {
      const event = this.data.length > 0 ? { event: this.name, data: this.data.length === 1 ? (this.data[0] as string) : this.data.join('\n') } : null;
      this.name = '';
      this.data = [];
      return event;
    }
    if (line.charCodeAt(0) === 58 /* : */) return null;
    // Nearly every line of a stream: its value without taking the field name apart first.
    if (line.startsWith('data: ')) {
      this.data.push(line.slice(6));
      return null;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* space */) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.name = value;
    return null;
  }

  /** At the end of the body: its last `lines` (ended by none), then the event they leave unended. */
  end(lines: readonly string[]): SseEvent[] {
    const events: SseEvent[] = [];
    for (const line of lines) {
      const event = this.line(line);
      if (event) events.push(event);
    }
    const last = this.line('');
    if (last) events.push(last);
    return events;
  }
}
