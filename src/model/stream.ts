// What streamed answers share: assemblers turn SSE events into the body a non-streamed answer
// would have had, and EventStream feeds them, counting events for messages and the wire record.
import type { JsonObject, JsonValue } from '../core/index.ts';
import type { Failure } from './http.ts';
import { isScrubbed, scrub } from './secrets.ts';
import { SseParser, type SseEvent } from './sse.ts';

/** After an event: read on, the terminal event arrived, or why the call fails. */
export type StreamStep = 'more' | 'done' | Failure;

/** Assembles one streamed answer; a fresh one per attempt. */
export interface StreamAssembler {
  /** The event that ends a complete stream, as messages name it (`data: [DONE]`). */
  readonly terminal: string;
  push(event: SseEvent): StreamStep;
  /** The body received so far, shaped like the non-streamed response (its parser reads it). */
  body(): JsonObject;
}

/** Feeds SSE text to an assembler; keeps the event count and the last event for messages. */
export class EventStream {
  events = 0;
  last = '';
  /** Events that show the endpoint alive (all but `ping`); keep-alive comments are no events at all. */
  heard = 0;
  /** The body's byte count when an event was last heard (the reader sets it). */
  bytesWhenHeard = 0;
  private readonly parser = new SseParser();

  /** `secret`: the API key, scrubbed from every event before anything reads it. */
  constructor(
    private readonly assembler: StreamAssembler,
    private readonly secret?: string,
  ) {}

  /** One piece of the body, or null at its end (which, before the terminal event, is a cut stream). */
  feed(text: string | null): StreamStep {
    const events = text === null ? this.parser.end() : this.parser.push(text);
    for (const received of events) {
      // Whole events, where a key cannot straddle pieces: messages and the wire record quote events
      // cut short, and a scrub of the whole key afterwards would miss the part of it left there.
      const secret = this.secret;
      const event = isScrubbed(secret) && (received.data.includes(secret) || received.event.includes(secret)) ? { event: scrub(received.event, secret), data: scrub(received.data, secret) } : received;
      this.events++;
      if (event.event !== 'ping') this.heard++;
      this.last = `${event.event ? `event: ${event.event} ` : ''}data: ${event.data}`;
      const step = this.assembler.push(event);
      if (step !== 'more') return step;
    }
    if (text !== null) return 'more';
    return { kind: 'connection', message: `the event stream ended without its terminal event (${this.assembler.terminal})`, retryable: true };
  }

  body(): JsonObject {
    return this.assembler.body();
  }
}

/** An event's data as JSON, or a malformed-response failure quoting it. */
export function eventJson(event: SseEvent): { ok: true; json: JsonValue } | { ok: false; failure: Failure } {
  try {
    return { ok: true, json: JSON.parse(event.data) as JsonValue };
  } catch (_error) {
    const quoted = event.data.length > 120 ? `${event.data.slice(0, 120)}…` : event.data;
    return { ok: false, failure: { kind: 'malformed_response', message: `an event's data is not JSON: ${JSON.stringify(quoted)}`, retryable: false } };
  }
}

const RETRYABLE_ERROR_TYPE = /overload|rate.?limit|server|internal|api_error|unavailable|timeout/i;

/**
 * An `error` carried inside a stream (OpenAI/vLLM `{"error": …}`, Anthropic `event: error`): an
 * HTTP-level failure, retryable when its code or type says the server was busy or broken.
 */
export function errorEventFailure(error: JsonValue | undefined): Failure {
  const record = error !== null && typeof error === 'object' && !Array.isArray(error) ? error : undefined;
  const message = typeof record?.message === 'string' ? record.message : JSON.stringify(error ?? null).slice(0, 300);
  const type = typeof record?.type === 'string' ? record.type : '';
  const raw = record?.code;
  const code = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{3}$/.test(raw) ? Number(raw) : undefined;
  const retryable = code === undefined ? RETRYABLE_ERROR_TYPE.test(type) : code === 429 || code >= 500;
  return { kind: 'http', message: `the stream carried an error${type ? ` (${type})` : ''}: ${message}`, retryable };
}
