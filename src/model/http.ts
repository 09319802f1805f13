import { errorMessage, jsonBytes, type CompleteOptions, type JsonObject, type JsonValue, type ModelFailureKind, type ModelResponse, type ModelResult, type WireExchange } from '../core/index.ts';
import { BodyReader, BodyTooLarge, isEventStream, raceAbort, retryAfterMs } from './http-body.ts';
import { redactUrl, scrub, scrubResponse, scrubWire, type SentBody } from './secrets.ts';
import { EventStream, type StreamAssembler } from './stream.ts';
import { sendThroughFetch, sendThroughUndici, type AbortListener, type HttpAnswer, type RequestAbort, type SendPost } from './transport.ts';

/** Waits `ms`; may end early once `signal` aborts (the caller stops waiting then anyway). */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * Per request: silence while streaming, the whole exchange otherwise. Well under the default task
 * deadline (300 s), so an endpoint that hangs fails as infrastructure before the rollout's deadline
 * turns it into the model's time-out. A non-streaming client with long generations should raise it.
 */
export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_RETRIES = 2;
/** The longest wait a `Retry-After` header can impose before the next attempt. */
export const RETRY_AFTER_CAP_MS = 60_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
/** Statuses whose `Retry-After` is honoured (529: Anthropic's "overloaded"). */
const RETRY_AFTER_STATUSES = new Set([429, 503, 529]);
/**
 * The most bytes one response may carry: far above any real answer (a million tokens with their
 * logprobs), and below the longest string V8 can hold, which a runaway body would otherwise pass
 * mid-parse and throw from where nothing expects it.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
/**
 * How deep a response's JSON may nest. JSON.parse reads any depth, but serialising or walking it
 * again (the stored record, the next request that resends the message) overflows the stack.
 */
export const MAX_RESPONSE_DEPTH = 512;
/** The key under which a streamed exchange's wire record says how it arrived. */
export const STREAM_RECORD_KEY = 'gauntlet_stream';

/**
 * Ends early on abort: a timer left running for a Retry-After the deadline cut short held the
 * process open for up to a minute after its last rollout.
 */
export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const stop = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    signal?.addEventListener('abort', stop, { once: true });
  });

export interface Failure {
  kind: ModelFailureKind;
  message: string;
  retryable: boolean;
}

/** What an adapter makes of a 2xx JSON body: a response, or why the body is not one. */
export type ParseOutcome = { ok: true; response: ModelResponse } | { ok: false; failure: Failure };

export interface PostJsonOptions {
  url: string;
  body: JsonObject;
  /** Secrets live only here; they are never copied into the wire record. */
  headers: Record<string, string>;
  send: SendPost;
  /** Per attempt: silence (time since the last byte) when streaming, the whole exchange otherwise. */
  timeoutMs: number;
  maxRetries: number;
  sleep: Sleep;
  /** Epoch milliseconds, for silence and `Retry-After` dates. */
  now: () => number;
  signal: AbortSignal;
  /** Scrubbed from every message, recorded exchange and parsed response, in case a server echoes it back. */
  secret?: string;
  parse: (json: JsonValue) => ParseOutcome;
  /** Set when the body asks for a stream: assembles a `text/event-stream` answer (a JSON answer is parsed as usual). */
  stream?: () => StreamAssembler;
  /** Per attempt; DEFAULT_MAX_RESPONSE_BYTES when unset. */
  maxResponseBytes?: number;
}

/** The transport settings every HTTP model client takes; `transportOf` fills in what is left out. */
export interface TransportOptions {
  apiKey?: string;
  /** Sends every request through this `fetch` instead of undici (tests, routing, custom dispatchers). */
  fetch?: typeof fetch;
  /** Per request, not per call: each retry gets its own budget. A call's own `timeoutMs` wins. */
  timeoutMs?: number;
  maxRetries?: number;
  sleep?: Sleep;
  now?: () => number;
  /** The most bytes one response may carry before the call fails (DEFAULT_MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
}

type Transport = Pick<PostJsonOptions, 'send' | 'timeoutMs' | 'maxRetries' | 'sleep' | 'now' | 'signal' | 'secret' | 'maxResponseBytes'>;

/** The `postJson` settings for a client's options and one call: defaults where unset, the API key as the secret to scrub. */
export function transportOf(options: TransportOptions, call: CompleteOptions): Transport {
  return {
    send: options.fetch ? sendThroughFetch(options.fetch) : sendThroughUndici,
    timeoutMs: call.timeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    sleep: options.sleep ?? realSleep,
    now: options.now ?? Date.now,
    signal: call.signal,
    ...(options.apiKey ? { secret: options.apiKey } : {}),
    ...(options.maxResponseBytes !== undefined ? { maxResponseBytes: options.maxResponseBytes } : {}),
  };
}

/** When the endpoint last sent anything during this call: headers or body bytes, of any attempt. */
class Activity {
  private last: number;
  constructor(private readonly now: () => number) {
    this.last = now();
  }
  touch(): void {
    this.last = this.now();
  }
  silentMs(): number {
    return Math.max(0, this.now() - this.last);
  }
}

/** The requests in flight under each caller's signal, all aborted by one listener on it. */
const followers = new WeakMap<AbortSignal, FollowedBy>();

/**
 * Followers whose last request has ended. Their listeners go in this loop turn's check phase, not
 * at once: an agent loop makes its next call in the same turn as a rule (record, run the tools,
 * send), and then follows its signal on without a listener taken off and put back per call.
 */
const idle = new Set<FollowedBy>();
let sweeping = false;

function sweepIdle(): void {
  sweeping = false;
  for (const following of idle) following.stopListening();
  idle.clear();
}

/**
 * A caller's signal's one abort listener, for every request in flight under it. Kept with the
 * signal for its life (a rollout's signal carries all its calls), not made again for each call.
 */
class FollowedBy implements AbortListener {
  readonly requests = new Set<RequestSignal>();
  private listening = false;
  constructor(private readonly signal: AbortSignal) {}

  add(request: RequestSignal): void {
    this.requests.add(request);
    if (this.listening) return;
    this.listening = true;
    this.signal.addEventListener('abort', this, { once: true });
  }

  delete(request: RequestSignal): void {
    if (!this.requests.delete(request) || this.requests.size > 0 || !this.listening) return;
    idle.add(this);
    if (sweeping) return;
    sweeping = true;
    setImmediate(sweepIdle);
  }

  /** Unless a request came back since it went idle. */
  stopListening(): void {
    if (this.requests.size > 0 || !this.listening) return;
    this.listening = false;
    this.signal.removeEventListener('abort', this);
  }

  handleEvent(): void {
    this.listening = false;
    for (const request of this.requests) request.abort(this.signal.reason);
    this.requests.clear();
  }
}

/**
 * Aborts `request` when `signal` aborts, until it is taken out again. One listener per caller's
 * signal however many requests share it at once (more would warn of a leak), and no
 * AbortSignal.any, which builds a signal and weak references on the caller's long-lived one for
 * every request. The listener goes with the last request (by the end of the loop turn): Node holds
 * a signal made by AbortSignal.any (an agent loop's, one per rollout) for as long as it has an
 * abort listener and a source that may still abort, so a listener left behind kept every
 * rollout's signal, and what it reaches, for the life of the run.
 */
function follow(signal: AbortSignal, request: RequestSignal): FollowedBy | null {
  if (signal.aborted) {
    request.abort(signal.reason);
    return null;
  }
  let following = followers.get(signal);
  if (!following) {
    following = new FollowedBy(signal);
    followers.set(signal, following);
  }
  following.add(request);
  return following;
}

/**
 * One request's abort: by the caller's signal or by our own time-out, whichever comes first. Not
 * an AbortController: one per request (its signal an EventTarget, with listeners added and removed
 * on every read) cost several µs a call, and a request's listeners are ours alone. Our own timer
 * rather than AbortSignal.timeout: that one is unref'd, so a lone hanging request would let the
 * process exit.
 */
class RequestSignal implements RequestAbort {
  aborted = false;
  reason: unknown = undefined;
  /** True once the time-out, not the caller, aborted the request. */
  timedOut = false;
  private listeners: AbortListener[] = [];
  private readonly handle: ReturnType<typeof setTimeout>;
  private readonly following: FollowedBy | null;
  constructor(
    caller: AbortSignal,
    readonly ms: number,
    readonly countsSilence: boolean,
  ) {
    this.handle = setTimeout(timeOut, ms, this);
    this.following = follow(caller, this);
  }

  /** Aborts once, telling the listeners there are now, in the order they were added (as an AbortSignal would). */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener.handleEvent();
  }

  addEventListener(_type: 'abort', listener: AbortListener): void {
    if (!this.aborted && !this.listeners.includes(listener)) this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: AbortListener): void {
    const at = this.listeners.indexOf(listener);
    if (at !== -1) this.listeners.splice(at, 1);
  }

  /** Bytes arrived: a stream's silence starts over; a plain request's budget does not. */
  activity(): void {
    if (this.countsSilence && !this.aborted) this.handle.refresh();
  }

  clear(): void {
    clearTimeout(this.handle);
    this.following?.delete(this);
  }
}

function timeOut(request: RequestSignal): void {
  request.timedOut = true;
  request.abort(new Error('timeout'));
}

interface AttemptOutcome {
  result: ModelResult;
  /** The server's own `Retry-After`, capped, for the wait before the next attempt. */
  retryAfterMs?: number;
}

/**
 * POSTs a JSON body and turns whatever happens into a ModelResult: retries retryable failures
 * (waiting as `Retry-After` says, else with exponential backoff), separates the caller's abort from
 * our own per-request time-out, assembles streamed answers, records the exchange (without headers)
 * on every result, and says on every failure how long the endpoint had been silent.
 */
export async function postJson(given: PostJsonOptions): Promise<ModelResult> {
  // Serialised once for every attempt and for the secret check of every record; a body's messages
  // and tool list (two levels down) reuse their bytes when the adapter marked them immutable.
  const options: Prepared = { ...given, sent: { body: given.body, bytes: jsonBytes(given.body, 2) } };
  const activity = new Activity(options.now);
  let outcome = await attempt(options, activity);
  for (let retry = 1; retry <= options.maxRetries; retry++) {
    if (outcome.result.ok || !outcome.result.retryable) break;
    const waitMs = outcome.retryAfterMs ?? backoffMs(retry);
    const waited = await sleepUnlessAborted(options.sleep, waitMs, options.signal);
    // Stopped while waiting to retry: the endpoint's failure is why the call failed, not the stop, so
    // it keeps its kind (a deadline that fires during a 429's wait is the endpoint's doing).
    if (!waited) return { ...outcome.result, message: `${outcome.result.message} (stopped by the caller while waiting ${waitMs} ms to retry)`, silentMs: activity.silentMs() };
    outcome = await attempt(options, activity);
  }
  return outcome.result.ok ? outcome.result : { ...outcome.result, silentMs: activity.silentMs() };
}

/** The options of one call, with its body as sent. */
interface Prepared extends PostJsonOptions {
  sent: SentBody;
}

function backoffMs(retry: number): number {
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (retry - 1));
}

async function attempt(options: Prepared, activity: Activity): Promise<AttemptOutcome> {
  if (options.signal.aborted) return { result: aborted(options) };
  const timer = new RequestSignal(options.signal, options.timeoutMs, options.stream !== undefined);
  try {
    return await exchange(options, activity, timer);
  } finally {
    timer.clear();
  }
}

/**
 * One attempt's bookkeeping: bytes heard (the endpoint's silence starts over) and, when the
 * request was stopped, whether the caller or the time-out stopped it. A class, not closures made
 * per call: the TypeScript loader names every closure as it is created, a cost on every call.
 */
class AttemptWatch {
  constructor(
    private readonly activity: Activity,
    private readonly timer: RequestSignal,
    private readonly signal: AbortSignal,
    readonly where: string,
  ) {}

  heard(): void {
    this.activity.touch();
    this.timer.activity();
  }

  interrupted(): Failure | null {
    if (this.signal.aborted) return { kind: 'aborted', message: `${this.where}: aborted by the caller`, retryable: false };
    if (!this.timer.timedOut) return null;
    const message = this.timer.countsSilence ? `the endpoint went silent: nothing received within ${this.timer.ms} ms` : `no complete response within ${this.timer.ms} ms`;
    return { kind: 'timeout', message: `${this.where}: ${message}`, retryable: true };
  }
}

async function exchange(options: Prepared, activity: Activity, timer: RequestSignal): Promise<AttemptOutcome> {
  const { url, body } = options;
  const where = `POST ${redactUrl(url)}`;
  const baseWire: WireExchange = { url: redactUrl(url), request: body };
  const combined = timer;
  const watch = new AttemptWatch(activity, timer, options.signal, where);

  let response: HttpAnswer;
  try {
    response = await raceAbort(options.send({ url, headers: { 'content-type': 'application/json', ...options.headers }, body: options.sent.bytes, signal: combined }), combined);
  } catch (error) {
    return { result: fail(options, watch.interrupted() ?? { kind: 'connection', message: `${where}: could not connect (${describeFetchError(error)})`, retryable: true }, baseWire) };
  }
  watch.heard();
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (options.stream && isOk(response.status) && isEventStream(response)) {
    // A stream is heard when events arrive, not bytes: keep-alive comments alone are silence.
    const reader = new BodyReader(response, combined, null, maxBytes);
    return { result: await readStream({ options, assembler: options.stream(), response, reader, watch }) };
  }

  const reader = new BodyReader(response, combined, watch, maxBytes);

  let text: string;
  try {
    // Scrubbed before anything reads it: error messages quote the body cut short, which would keep part of a key.
    text = scrub(await reader.text(), options.secret);
  } catch (error) {
    reader.cancel();
    const failure = watch.interrupted() ?? (error instanceof BodyTooLarge ? tooLarge(where, error) : { kind: 'connection', message: `${where}: the connection broke while reading the body (${describeFetchError(error)})`, retryable: true });
    return { result: fail(options, failure, { ...baseWire, status: response.status }) };
  }
  const json = parseJson(text);
  const wire: WireExchange = { ...baseWire, status: response.status, response: json ?? text };
  if (!isOk(response.status)) {
    const retryable = response.status === 429 || response.status >= 500;
    const header = response.status >= 300 && response.status < 400 ? response.header('location') : undefined;
    const location = header === undefined ? undefined : scrub(header, options.secret);
    // Redirects are not followed (a POST body would be resent somewhere else): say where to point instead.
    const detail = location ? `the endpoint redirects to ${redirectTarget(location, url)}; use that address as the base URL` : json === undefined ? text.slice(0, 300) : errorDetail(json);
    const result = fail(options, { kind: 'http', message: `${where}: HTTP ${response.status}${detail ? `: ${detail}` : ''}`, retryable }, wire);
    const wait = RETRY_AFTER_STATUSES.has(response.status) ? retryAfterMs(response, { now: options.now(), capMs: RETRY_AFTER_CAP_MS }) : undefined;
    return wait === undefined ? { result } : { result, retryAfterMs: wait };
  }
  if (json === undefined) {
    return { result: fail(options, { kind: 'malformed_response', message: `${where}: HTTP ${response.status} body is not JSON (starts ${JSON.stringify(text.slice(0, 80))})`, retryable: false }, wire) };
  }
  return { result: parsed(options, json, wire) };
}

interface StreamRead {
  options: Prepared;
  assembler: StreamAssembler;
  response: HttpAnswer;
  reader: BodyReader;
  watch: AttemptWatch;
}

/** Reads an event stream to its terminal event; a stream cut short is a connection failure, as a broken body is. */
async function readStream(read: StreamRead): Promise<ModelResult> {
  const { options, reader, watch } = read;
  const stream = new EventStream(read.assembler, options.secret);
  for (;;) {
    let text: string | null;
    try {
      text = await reader.next();
    } catch (error) {
      reader.cancel();
      const cut = watch.interrupted() ?? (error instanceof BodyTooLarge ? tooLarge(watch.where, error) : null);
      const failure = cut ? { ...cut, message: `${cut.message}, ${streamReceived(stream, reader)}` } : { kind: 'connection' as const, message: `${watch.where}: the event stream broke ${streamReceived(stream, reader)} (${describeFetchError(error)})`, retryable: true };
      return fail(options, failure, streamRecord(read, stream, false));
    }
    const heard = stream.heard;
    const step = stream.feed(text);
    if (stream.heard !== heard) {
      watch.heard();
      stream.bytesWhenHeard = reader.bytes;
    }
    if (step === 'more') continue;
    if (step === 'done') {
      reader.finish();
      return parsed(options, stream.body(), streamRecord(read, stream, true));
    }
    reader.cancel();
    return fail(options, { ...step, message: `${watch.where}: ${step.message}, ${streamReceived(stream, reader)}` }, streamRecord(read, stream, false));
  }
}

/** The wire record of a streamed exchange: the assembled body, with how it arrived (and, cut short, its last event). */
function streamRecord({ options, response, reader }: StreamRead, stream: EventStream, complete: boolean): WireExchange {
  return {
    url: redactUrl(options.url),
    request: options.body,
    status: response.status,
    response: { ...stream.body(), [STREAM_RECORD_KEY]: { events: stream.events, bytes: reader.bytes, ...(complete ? {} : { complete: false, last: stream.last.slice(0, 500) }) } },
  };
}

/** What had arrived when a stream stopped, for its failure message. */
function streamReceived(stream: EventStream, reader: BodyReader): string {
  const last = stream.last.length > 160 ? `${stream.last.slice(0, 160)}…` : stream.last;
  const idle = reader.bytes - stream.bytesWhenHeard;
  const since = idle > 0 && stream.heard > 0 ? `; then ${idle} bytes without an event (keep-alive comments or an unfinished event)` : '';
  return `after ${stream.events} events (${reader.bytes} bytes)${stream.last ? `; the last was ${last}` : ''}${since}`;
}

function tooLarge(where: string, error: BodyTooLarge): Failure {
  return { kind: 'malformed_response', message: `${where}: ${error.message} (maxResponseBytes)`, retryable: false };
}

function parsed(options: Prepared, json: JsonValue, wire: WireExchange): ModelResult {
  const deep = tooDeep(json, MAX_RESPONSE_DEPTH);
  if (deep !== null) {
    const failure: Failure = { kind: 'malformed_response', message: `POST ${redactUrl(options.url)}: the response nests deeper than ${MAX_RESPONSE_DEPTH} levels (at ${deep.length > 120 ? `${deep.slice(0, 120)}…` : deep}); it could be neither stored nor sent back`, retryable: false };
    // The record keeps the request and status, not a body that cannot be serialised.
    return fail(options, failure, { url: wire.url, request: wire.request, ...(wire.status !== undefined ? { status: wire.status } : {}) });
  }
  const outcome = options.parse(json);
  if (!outcome.ok) return fail(options, { ...outcome.failure, message: `POST ${redactUrl(options.url)}: ${outcome.failure.message}` }, wire);
  return { ok: true, response: scrubResponse(outcome.response, options.secret), wire: scrubWire(wire, options.secret, options.sent) };
}

function fail(options: Prepared, failure: Failure, wire: WireExchange): Extract<ModelResult, { ok: false }> {
  return { ok: false, kind: failure.kind, message: scrub(failure.message, options.secret), retryable: failure.retryable, wire: scrubWire(wire, options.secret, options.sent) };
}

function aborted(options: Prepared, wire?: WireExchange): Extract<ModelResult, { ok: false }> {
  return fail(options, { kind: 'aborted', message: `POST ${redactUrl(options.url)}: aborted by the caller`, retryable: false }, wire ?? { url: redactUrl(options.url), request: options.body });
}

/** Resolves true after `ms`, or false as soon as the caller aborts. */
async function sleepUnlessAborted(sleep: Sleep, ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await raceAbort(sleep(ms, signal), signal);
    return true;
  } catch (_error) {
    return false;
  }
}

/** Where a `Location` header points, resolved against the request; a malformed one is quoted as sent. */
function redirectTarget(location: string, url: string): string {
  try {
    return redactUrl(new URL(location, url).href);
  } catch (_error) {
    return JSON.stringify(location.slice(0, 200));
  }
}

function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}

function parseJson(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (_error) {
    return undefined;
  }
}

/** Node's fetch says only "fetch failed"; the reason (ECONNREFUSED …) is in `cause`. undici's dispatcher names it itself. */
function describeFetchError(error: unknown): string {
  const cause = error instanceof Error && error.cause !== undefined ? `: ${errorMessage(error.cause)}` : '';
  return `${errorMessage(error)}${cause}`;
}

/** The error text OpenAI-, Anthropic- and vLLM-style error bodies carry. */
function errorDetail(json: JsonValue): string {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return '';
  const error = json.error;
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object' && !Array.isArray(error) && typeof error.message === 'string') return error.message;
  if (typeof json.message === 'string') return json.message;
  if (typeof json.detail === 'string') return json.detail;
  return JSON.stringify(json).slice(0, 300);
}

/**
 * Where `value` nests deeper than `limit` arrays and objects (a path such as `.choices[0].message.x…`),
 * or null. The recursion stops at the limit, so the walk itself cannot overflow the stack.
 */
function tooDeep(value: JsonValue, limit: number): string | null {
  if (value === null || typeof value !== 'object') return null;
  if (limit === 0) return '…';
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i]!;
      if (item === null || typeof item !== 'object') continue;
      const below = tooDeep(item, limit - 1);
      if (below !== null) return `[${i}]${below}`;
    }
    return null;
  }
  for (const key in value) {
    const item = value[key]!;
    if (item === null || typeof item !== 'object') continue;
    const below = tooDeep(item, limit - 1);
    if (below !== null) return `.${key}${below}`;
  }
  return null;
}

export function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
