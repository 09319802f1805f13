import { errorMessage, type JsonObject, type JsonValue, type ModelFailureKind, type ModelResponse, type ModelResult, type WireExchange } from '../core/index.ts';

export type Sleep = (ms: number) => Promise<void>;

export const DEFAULT_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_RETRIES = 2;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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
  fetch: typeof fetch;
  timeoutMs: number;
  maxRetries: number;
  sleep: Sleep;
  signal: AbortSignal;
  /** Scrubbed from every message and recorded response, in case a server echoes it back. */
  secret?: string;
  parse: (json: JsonValue) => ParseOutcome;
}

/** The transport settings every HTTP model client takes; `transportOf` fills in what is left out. */
export interface TransportOptions {
  apiKey?: string;
  fetch?: typeof fetch;
  /** Per request, not per call: each retry gets its own budget. */
  timeoutMs?: number;
  maxRetries?: number;
  sleep?: Sleep;
}

/** The `postJson` settings for a client's options: the defaults where unset, and the API key as the secret to scrub. */
export function transportOf(options: TransportOptions): Pick<PostJsonOptions, 'fetch' | 'timeoutMs' | 'maxRetries' | 'sleep' | 'secret'> {
  return {
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    sleep: options.sleep ?? realSleep,
    ...(options.apiKey ? { secret: options.apiKey } : {}),
  };
}

/**
 * POSTs a JSON body and turns whatever happens into a ModelResult: retries retryable failures
 * with exponential backoff, separates the caller's abort from our own per-request timeout, and
 * records the exchange (without headers) on every result.
 */
export async function postJson(options: PostJsonOptions): Promise<ModelResult> {
  let result = await attempt(options);
  for (let retry = 1; retry <= options.maxRetries; retry++) {
    if (result.ok || !result.retryable) break;
    const waited = await sleepUnlessAborted(options.sleep, backoffMs(retry), options.signal);
    if (!waited) return abortedResult(options, result.wire);
    result = await attempt(options);
  }
  return result;
}

function backoffMs(retry: number): number {
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (retry - 1));
}

async function attempt(options: PostJsonOptions): Promise<ModelResult> {
  if (options.signal.aborted) return abortedResult(options, { url: redactUrl(options.url), request: options.body });
  // Our own timer rather than AbortSignal.timeout: that one is unref'd, so a lone hanging request
  // would let the event loop exit instead of timing out. Cleared as soon as the attempt ends.
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(new Error('timeout')), options.timeoutMs);
  try {
    return await attemptWithin(options, timer.signal);
  } finally {
    clearTimeout(handle);
  }
}

async function attemptWithin(options: PostJsonOptions, timeout: AbortSignal): Promise<ModelResult> {
  const { url, body, signal } = options;
  const baseWire: WireExchange = { url: redactUrl(url), request: body };
  const combined = AbortSignal.any([signal, timeout]);
  const interrupted = (): Failure | null => {
    if (signal.aborted) return { kind: 'aborted', message: `POST ${redactUrl(url)}: aborted by the caller`, retryable: false };
    if (timeout.aborted) return { kind: 'timeout', message: `POST ${redactUrl(url)}: no complete response within ${options.timeoutMs} ms`, retryable: true };
    return null;
  };

  let response: Response;
  try {
    response = await raceAbort(
      options.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...options.headers }, body: JSON.stringify(body), signal: combined }),
      combined,
    );
  } catch (error) {
    const cut = interrupted();
    if (cut) return fail(options, cut, baseWire);
    return fail(options, { kind: 'connection', message: `POST ${redactUrl(url)}: could not connect (${describeFetchError(error)})`, retryable: true }, baseWire);
  }

  let text: string;
  try {
    text = await raceAbort(response.text(), combined);
  } catch (error) {
    const cut = interrupted();
    const wire = { ...baseWire, status: response.status };
    if (cut) return fail(options, cut, wire);
    return fail(options, { kind: 'connection', message: `POST ${redactUrl(url)}: the connection broke while reading the body (${describeFetchError(error)})`, retryable: true }, wire);
  }

  const json = parseJson(text);
  const wire: WireExchange = { ...baseWire, status: response.status, response: json ?? text };
  if (!response.ok) {
    const retryable = response.status === 429 || response.status >= 500;
    const detail = json === undefined ? text.slice(0, 300) : errorDetail(json);
    return fail(options, { kind: 'http', message: `POST ${redactUrl(url)}: HTTP ${response.status}${detail ? `: ${detail}` : ''}`, retryable }, wire);
  }
  if (json === undefined) {
    return fail(options, { kind: 'malformed_response', message: `POST ${redactUrl(url)}: HTTP ${response.status} body is not JSON (starts ${JSON.stringify(text.slice(0, 80))})`, retryable: false }, wire);
  }
  const parsed = options.parse(json);
  if (!parsed.ok) return fail(options, { ...parsed.failure, message: `POST ${redactUrl(url)}: ${parsed.failure.message}` }, wire);
  return { ok: true, response: parsed.response, wire: scrubWire(wire, options.secret) };
}

function fail(options: PostJsonOptions, failure: Failure, wire: WireExchange): ModelResult {
  return { ok: false, kind: failure.kind, message: scrub(failure.message, options.secret), retryable: failure.retryable, wire: scrubWire(wire, options.secret) };
}

function abortedResult(options: PostJsonOptions, wire: WireExchange | undefined): ModelResult {
  return fail(options, { kind: 'aborted', message: `POST ${redactUrl(options.url)}: aborted by the caller`, retryable: false }, wire ?? { url: redactUrl(options.url), request: options.body });
}

/** Settles with `promise`, or rejects as soon as `signal` aborts (even if the promise ignores it). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
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

/** Resolves true after `ms`, or false as soon as the caller aborts. */
async function sleepUnlessAborted(sleep: Sleep, ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await raceAbort(sleep(ms), signal);
    return true;
  } catch (_error) {
    return false;
  }
}

function parseJson(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (_error) {
    return undefined;
  }
}

/** Node's fetch says only "fetch failed"; the reason (ECONNREFUSED …) is in `cause`. */
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

/** A URL without user info or query string, which is where people sometimes put keys. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password && !parsed.search) return url;
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    return parsed.toString();
  } catch (_error) {
    return url;
  }
}

export function scrub(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('***') : text;
}

function scrubValue(value: JsonValue, secret: string): JsonValue {
  if (typeof value === 'string') return scrub(value, secret);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, secret));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) out[key] = scrubValue(item, secret);
    return out;
  }
  return value;
}

/** Only rebuilt when the secret actually appears, so recorded bodies normally stay the same objects. */
function scrubWire(wire: WireExchange, secret: string | undefined): WireExchange {
  if (!secret || !JSON.stringify(wire).includes(secret)) return wire;
  return {
    ...wire,
    request: scrubValue(wire.request, secret),
    ...(wire.response === undefined ? {} : { response: scrubValue(wire.response, secret) }),
  };
}

export function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
