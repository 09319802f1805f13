// An upstream event stream relayed to the client as it arrives, and kept for the record: each
// event is parsed once, to answer the client (without the token fields it did not ask for, or in
// its own API), and the parsed events are assembled for the record after the answer has ended.
// The events of one network read go to the client in one write.
import type { ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { JsonObject, JsonValue, ModelResult } from '../../core/index.ts';
import { isScrubbed, scrub, STREAM_RECORD_KEY } from '../../model/index.ts';
import type { SseEvent } from '../../model/sse.ts';
import { upstreamErrorMessage, type Translator, type UpstreamKind } from './api.ts';
import { cut, startEventStream, write } from './http.ts';
import { scrubRelayed } from './redact.ts';
import { ChunkMasker } from './stream-masker.ts';
import { SseReader } from './sse.ts';
import { AnswerTooLarge, type UpstreamResponse } from './transport.ts';
import { describeFetchError, UpstreamSilent } from './upstream.ts';

type JsonRecord = { [key: string]: JsonValue };

/** Why a stream is no answer: bad data, an error the upstream sent inside it, or its end before [DONE]. */
export interface StreamFailure {
  kind: Extract<ModelResult, { ok: false }>['kind'];
  message: string;
}

export interface StreamRelayInput {
  res: ServerResponse;
  headers: Record<string, string>;
  translator: Translator;
  kind: UpstreamKind;
  maxResponseBytes: number;
  /** The key sent upstream: quoted messages are scrubbed of it. */
  secret: string | undefined;
  /** The gateway's own key: what is relayed is scrubbed of it. */
  hidden: string | undefined;
  /** Aborted when the client hangs up. */
  signal: AbortSignal;
}

/** How a relayed stream ended: the client hung up, it was no answer, or the whole answer assembled. */
export type StreamEnd =
  | { kind: 'aborted'; received: JsonValue }
  | { kind: 'failed'; failure: StreamFailure; received: JsonValue }
  | { kind: 'answered'; body: JsonRecord; events: number; bytes: number };

export function isRecord(value: JsonValue | undefined): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function parseJson(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (_error) {
    return undefined;
  }
}

export function withStreamRecord(received: JsonValue, record: JsonObject): JsonValue {
  return isRecord(received) ? { ...received, [STREAM_RECORD_KEY]: record } : received;
}

/**
 * Checks that each event's token ids and logprobs describe the same tokens: the record joins both
 * lists across events, so an event with two ids and one logprob followed by one with one id and two
 * logprobs would join into lists of equal length, each logprob paired with the wrong token.
 */
class TokenAlignment {
  private idsSeen = false;
  private logprobsWithoutIds = false;

  /** Why this event's tokens do not line up, or null. */
  check(json: JsonRecord): string | null {
    const choices = Array.isArray(json.choices) ? json.choices : [];
    // The first choice, as the record's assembly reads it.
    const choice = choices.find((item) => isRecord(item) && (item.index ?? 0) === 0);
    if (!isRecord(choice)) return null;
    const ids = Array.isArray(choice.token_ids) ? choice.token_ids.length : null;
    const logprobs = isRecord(choice.logprobs) ? (Array.isArray(choice.logprobs.content) ? choice.logprobs.content : choice.logprobs.token_logprobs) : undefined;
    const count = Array.isArray(logprobs) ? logprobs.length : null;
    if (ids !== null && count !== null && ids !== count) return `carries ${ids} token ids but ${count} logprobs`;
    if (ids !== null) this.idsSeen = true;
    else if (count !== null && count > 0) this.logprobsWithoutIds = true;
    if (this.idsSeen && this.logprobsWithoutIds) return 'carries logprobs without token ids, where other events carry both';
    return null;
  }
}

export async function relayStream(response: UpstreamResponse, input: StreamRelayInput): Promise<StreamEnd> {
  const { res, translator } = input;
  const reader = response.pieces()[Symbol.asyncIterator]();
  // Node's own UTF-8 decoder: a few times cheaper than TextDecoder on a whole answer.
  const decoder = new StringDecoder('utf8');
  const parser = new SseReader();
  const chunks: JsonRecord[] = [];
  let events = 0;
  let bytes = 0;
  let done = false;
  let cutMidEvent = false;
  let failure: StreamFailure | null = null;
  startEventStream(res, input.headers);

  /** What the client had received when the stream stopped, assembled as far as it goes. */
  const partial = (complete: boolean): JsonValue => {
    const assembly = input.kind.assembly();
    for (const chunk of chunks) assembly.push(chunk);
    return withStreamRecord(translator.received(assembly.body()), { events, bytes, ...(complete ? {} : { complete: false }) });
  };

  const tokens = new TokenAlignment();
  /** What to send the client for the events of one read: written at once, so a fast upstream costs one write per read, not per token. */
  let out = '';
  // A model may spell the key a few characters per event, which no one event shows: its texts are masked across events.
  const masker = isScrubbed(input.hidden) ? new ChunkMasker(input.hidden, { completions: input.kind.path === '/completions', blocks: !translator.passthrough }) : null;
  const relay = (json: JsonRecord, data: string): void => {
    if (masker === null) {
      out += translator.chunk(json, data);
      return;
    }
    for (const chunk of masker.mask(json)) out += translator.chunk(chunk, chunk === json ? data : JSON.stringify(chunk));
  };
  /** Before whatever ends the stream (or breaks it): the text held back goes out, since it never became the key. */
  const release = (): void => {
    const rest = masker?.end();
    if (rest) out += translator.chunk(rest, JSON.stringify(rest));
  };
  const take = (event: SseEvent): boolean => {
    events++;
    // Whole events only (the reader joins network reads), so a key split across reads is whole here.
    const data = scrubRelayed(event.data, input.hidden);
    const trimmed = data.trim();
    if (trimmed === '[DONE]') {
      done = true;
      return false;
    }
    if (trimmed === '') return true;
    const json = parseJson(data);
    if (!isRecord(json)) {
      failure = { kind: 'malformed_response', message: `an event's data is not a JSON object: ${JSON.stringify(scrub(data, input.secret).slice(0, 120))}` };
      if (!translator.passthrough) return false;
      release();
      out += `data: ${data}\n\n`;
      return true;
    }
    if (json.error !== undefined && json.error !== null) {
      failure = { kind: 'http', message: `the upstream's stream carried an error: ${upstreamErrorMessage(json, scrub(data, input.secret))}` };
      // Chat clients see the error chunk as the upstream sent it; translated APIs get their own failure event.
      if (!translator.passthrough) return false;
      release();
    }
    const mismatch = failure === null ? tokens.check(json) : null;
    if (mismatch !== null) {
      // Joined, the lists would line up again and pair ids with the wrong logprobs: no record is better than a shifted one.
      failure = { kind: 'malformed_response', message: `event ${events} of the upstream's stream ${mismatch}` };
      if (!translator.passthrough) return false;
    }
    // The record keeps the engine's chunk; the client gets it masked.
    chunks.push(json);
    relay(json, data);
    return true;
  };

  read: for (;;) {
    let piece: IteratorResult<Uint8Array>;
    try {
      piece = await reader.next();
    } catch (error) {
      if (input.signal.aborted) return { kind: 'aborted', received: partial(false) };
      const silent = response.endedBySilence() ?? (error instanceof UpstreamSilent ? error : null);
      failure ??= silent
        ? { kind: 'timeout', message: silent.at(`after ${events} events`) }
        : { kind: 'connection', message: `the upstream's event stream broke after ${events} events (${describeFetchError(error)})` };
      break;
    }
    let batch: SseEvent[];
    if (piece.done) {
      const unfinished = parser.midEvent();
      batch = parser.end();
      // A body that ends inside an event was cut there: its half is not passed on as a whole event
      // (a lone `data: [DONE]` without its blank line, or whole JSON, still counts).
      const last = batch.at(-1);
      if (unfinished && last && last.data.trim() !== '[DONE]' && parseJson(last.data) === undefined) {
        batch.pop();
        cutMidEvent = true;
      }
    } else batch = parser.push(decoder.write(piece.value));
    if (!piece.done) bytes += piece.value.byteLength;
    if (bytes > input.maxResponseBytes) {
      // The events kept for the record (and an event that never ends) would grow without bound.
      failure ??= { kind: 'malformed_response', message: `${new AnswerTooLarge(input.maxResponseBytes).message}, after ${events} events` };
      break;
    }
    let more = true;
    for (const event of batch) if (!(more = take(event))) break;
    // The last events go out with the end of the answer, in one write.
    if (!more || piece.done) break read;
    const pending = out;
    out = '';
    await write(res, pending);
  }
  if (done && failure === null) response.release();
  else response.cancel();
  if (input.signal.aborted) return { kind: 'aborted', received: partial(false) };
  if (!done && !failure) failure = { kind: 'connection', message: `the upstream's event stream ended ${cutMidEvent ? 'in the middle of an event' : 'without its terminal [DONE]'}, after ${events} events (${bytes} bytes)` };
  release();

  if (failure !== null) {
    const stopped = failure as StreamFailure;
    if (done) res.end(out + translator.done());
    else {
      const closing = translator.broken(stopped.message);
      if (closing === null) {
        if (out !== '') res.write(out);
        cut(res);
      } else res.end(out + closing);
    }
    return { kind: 'failed', failure: stopped, received: partial(done) };
  }
  res.end(out + translator.done());
  // Assembled after the client has its answer.
  const assembly = input.kind.assembly();
  for (const chunk of chunks) assembly.push(chunk);
  return { kind: 'answered', body: assembly.body(), events, bytes };
}
