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
  private name = '';
  private data: string[] = [];

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
      const event = this.line(line);
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
    const events: SseEvent[] = [];
    const rest = this.partial.join('');
    this.partial = [];
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
