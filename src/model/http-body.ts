// Reading a response body piece by piece (so silence can be measured and a stream assembled as it
// arrives), and the `Retry-After` header.

import type { AbortListener, HttpAnswer, RequestAbort } from './transport.ts';

/** Told of each piece of a body as it arrives. */
export interface BodyListener {
  heard(): void;
}

/** A body that went past the reader's limit without ending: an endpoint fault, not a broken connection. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the response went past ${limit} bytes without ending`);
  }
}

/**
 * Reads a body as text, piece by piece, telling `listener` of each (when there is one); rejects
 * when `signal` aborts, and with BodyTooLarge once more than `maxBytes` arrived, so an endpoint that
 * never stops sending cannot fill memory (or pass the longest string V8 can hold) before the deadline.
 */
export class BodyReader {
  bytes = 0;
  private readonly decoder = new TextDecoder();
  private finished = false;

  constructor(
    private readonly answer: HttpAnswer,
    private readonly signal: RequestAbort,
    private readonly listener: BodyListener | null,
    private readonly maxBytes: number,
  ) {}

  /** The next piece of text, or null at the end of the body. */
  async next(): Promise<string | null> {
    if (this.finished) return null;
    const value = await raceAbort(this.answer.read(), this.signal);
    if (value === null) {
      this.finished = true;
      const rest = this.decoder.decode();
      return rest === '' ? null : rest;
    }
    this.bytes += value.byteLength;
    if (this.bytes > this.maxBytes) throw new BodyTooLarge(this.maxBytes);
    this.listener?.heard();
    return this.decoder.decode(value, { stream: true });
  }

  async text(): Promise<string> {
    let text = '';
    for (let piece = await this.next(); piece !== null; piece = await this.next()) text += piece;
    return text;
  }

  /** Stops reading (after a failure): the rest is not wanted. */
  cancel(): void {
    this.finished = true;
    this.answer.cancel();
  }

  /**
   * After a stream's terminal event. Servers end the body right behind it, so one more read almost
   * always finds the end already buffered; cancelling instead closes a kept-alive connection (and
   * made undici abort the finished request, building a DOMException per call). A body that goes on
   * past the terminal event is cancelled on the next turn.
   */
  finish(): void {
    if (this.finished) return;
    let ended = false;
    this.answer.read().then(
      (value) => {
        ended = value === null;
        if (!ended) this.cancel();
      },
      () => undefined,
    );
    setImmediate(() => {
      if (!ended) this.cancel();
    });
    this.finished = true;
  }
}

export function isEventStream(answer: HttpAnswer): boolean {
  return (answer.header('content-type') ?? '').toLowerCase().includes('text/event-stream');
}

/**
 * The wait a 429/503 asks for: `retry-after-ms` (OpenAI, Azure), else `Retry-After` as
 * delta-seconds or an HTTP-date; capped, so a server cannot park a rollout. Undefined when absent
 * or unreadable, and the usual backoff applies.
 */
export function retryAfterMs(answer: Pick<HttpAnswer, 'header'>, clock: { now: number; capMs: number }): number | undefined {
  const cap = (ms: number): number => Math.min(clock.capMs, Math.max(0, Math.round(ms)));
  const precise = answer.header('retry-after-ms')?.trim();
  if (precise && /^\d+(\.\d+)?$/.test(precise)) return cap(Number(precise));
  const value = answer.header('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return cap(Number(value) * 1000);
  // Every HTTP-date form names its month; Date.parse alone reads "-5", "3, 4" or ".5" as dates in
  // the past, which made a malformed header mean "retry at once".
  if (!HTTP_DATE_MONTH.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : cap(date - clock.now);
}

const HTTP_DATE_MONTH = /\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b/i;

/** Settles with `promise`, or rejects as soon as `signal` aborts (even if the promise ignores it). */
export function raceAbort<T>(promise: Promise<T>, signal: RequestAbort): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = new RejectsOnAbort(signal, reject);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** An abort listener object, not a closure: the TypeScript loader names each closure as it is made, on every read. */
class RejectsOnAbort implements AbortListener {
  constructor(
    private readonly signal: RequestAbort,
    private readonly reject: (reason: unknown) => void,
  ) {}

  handleEvent(): void {
    this.reject(this.signal.reason);
  }
}
