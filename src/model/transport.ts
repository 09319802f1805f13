// How a model client's POST reaches the endpoint: through undici by default, or through a
// `fetch` the caller injects (tests, a gateway route, a custom dispatcher). `postJson` sees only
// the small interface below, so retries, time-outs, streaming and recording are the same either way.
import zlib from 'node:zlib';
import type * as Undici from 'undici';

/** An abort listener: an object, so that no closure is made per request. */
export interface AbortListener {
  handleEvent(): void;
}

/**
 * What a transport reads of a request's abort: an AbortSignal has this shape. `postJson` gives
 * each request a lighter one of its own, since an AbortController per request (and EventTarget
 * listeners on it) was a measurable share of every model call.
 */
export interface RequestAbort {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: AbortListener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: AbortListener): void;
}

export interface HttpPost {
  url: string;
  headers: Record<string, string>;
  /** The body's bytes, in pieces sent one after another. */
  body: readonly Uint8Array[];
  /** Aborting it abandons the request, whatever stage it is at. */
  signal: RequestAbort;
}

/** An endpoint's answer once its headers have arrived; the body is read piece by piece. */
export interface HttpAnswer {
  status: number;
  /** A response header by lower-case name. */
  header(name: string): string | undefined;
  /** The next piece of the body, or null at its end. Rejects when the connection breaks. */
  read(): Promise<Uint8Array | null>;
  /** The rest of the body is not wanted. */
  cancel(): void;
}

/** Sends one POST; rejects when no answer arrives (connection refused, reset, aborted). */
export type SendPost = (post: HttpPost) => Promise<HttpAnswer>;

/** A `fetch` (the platform's or an injected one) as a SendPost. */
export function sendThroughFetch(fetchImpl: typeof fetch): SendPost {
  return async ({ url, headers, body, signal }) => {
    // As text: an injected fetch may read or rewrite `init.body`.
    const response = await fetchImpl(url, { method: 'POST', headers, body: Buffer.concat(body).toString('utf8'), signal: abortSignalOf(signal) });
    const reader = response.body?.getReader();
    return {
      status: response.status,
      header: (name) => response.headers.get(name) ?? undefined,
      read: async () => {
        if (!reader) return null;
        const { done, value } = await reader.read();
        return done ? null : value;
      },
      cancel: () => void reader?.cancel().catch(() => {}),
    };
  };
}

/** `fetch` takes only an AbortSignal: one that follows `abort` (the same one when it is one). */
function abortSignalOf(abort: RequestAbort): AbortSignal {
  if (abort instanceof AbortSignal) return abort;
  const controller = new AbortController();
  if (abort.aborted) controller.abort(abort.reason);
  else abort.addEventListener('abort', new AbortsController(controller, abort), { once: true });
  return controller.signal;
}

class AbortsController implements AbortListener {
  constructor(
    private readonly controller: AbortController,
    private readonly abort: RequestAbort,
  ) {}

  handleEvent(): void {
    this.controller.abort(this.abort.reason);
  }
}

/** undici, loaded with the first request: runs that never call a model over HTTP never load it. */
let undici: Promise<typeof Undici> | undefined;

export function undiciModule(): Promise<typeof Undici> {
  return (undici ??= import('undici'));
}

/**
 * undici's connection pool for every client in the process. Time-outs are `postJson`'s (per
 * request, or silence while streaming), so undici's own (five minutes for headers and between body
 * pieces) are off: a long generation answers after minutes. Idle connections are unref'd and close
 * after the server's keep-alive hint, so they never keep the process alive.
 */
let dispatcher: Undici.Agent | undefined;

/**
 * POSTs through undici's dispatcher, the lowest layer it has: no request or response streams, a
 * handler object per request. At a thousand concurrent rollouts it costs ~40% less CPU per call
 * than `node:http` (no ClientRequest, IncomingMessage or their streams), which was the largest
 * share of the model client's work on the main thread.
 */
export const sendThroughUndici: SendPost = (post) => {
  if (dispatcher) return dispatchPost(dispatcher, post);
  return undiciModule().then(({ Agent }) => dispatchPost((dispatcher ??= new Agent({ headersTimeout: 0, bodyTimeout: 0 })), post));
};

interface Origin {
  origin: string;
  path: string;
  /** `Basic …` for credentials in the URL, sent unless the request names its own authorization. */
  authorization?: string;
}

/**
 * Where each URL points, parsed once: a client posts to the same one or two URLs all run long, and
 * parsing each call was a measurable share of the per-call work at a thousand rollouts.
 */
const origins = new Map<string, Origin>();
const MAX_ORIGINS = 256;

function originOf(url: string): Origin {
  const known = origins.get(url);
  if (known) return known;
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`unsupported protocol ${parsed.protocol}`);
  const credentials = parsed.username || parsed.password ? `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}` : undefined;
  const origin: Origin = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}`, ...(credentials ? { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` } : {}) };
  if (origins.size >= MAX_ORIGINS) origins.clear();
  origins.set(url, origin);
  return origin;
}

function dispatchPost(agent: Undici.Agent, post: HttpPost): Promise<HttpAnswer> {
  let target: Origin;
  try {
    target = originOf(post.url);
  } catch (error) {
    return Promise.reject(error);
  }
  const headers = target.authorization && !Object.keys(post.headers).some((name) => name.toLowerCase() === 'authorization') ? { ...post.headers, authorization: target.authorization } : post.headers;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const answer = new UndiciAnswer(post.signal, resolve, reject);
    try {
      agent.dispatch({ origin: target.origin, path: target.path, method: 'POST', headers, body: post.body.length === 1 ? post.body[0]! : Buffer.concat(post.body) }, answer);
    } catch (error) {
      answer.onResponseError(undefined, error instanceof Error ? error : new Error(String(error)));
    }
  });
}

/**
 * One request's undici handler and, once its headers arrive, its answer: body pieces queue until
 * read. Also the listener on the request's abort, so a request makes one object, not three.
 */
class UndiciAnswer implements HttpAnswer, Undici.Dispatcher.DispatchHandler, AbortListener {
  status = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private controller: Undici.Dispatcher.DispatchController | undefined;
  private decoder: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined;
  private readonly pieces: Uint8Array[] = [];
  private started = false;
  private ended = false;
  private failure: Error | undefined;
  private waiting: { resolve: (piece: Uint8Array | null) => void; reject: (error: Error) => void } | undefined;

  constructor(
    private readonly signal: RequestAbort,
    private readonly resolveAnswer: (answer: HttpAnswer) => void,
    private readonly rejectAnswer: (error: Error) => void,
  ) {
    if (!signal.aborted) signal.addEventListener('abort', this, { once: true });
  }

  /** The request's signal aborted: abandon it, whatever stage it is at. */
  handleEvent(): void {
    this.controller?.abort(this.abortReason());
  }

  onRequestStart(controller: Undici.Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal.aborted) controller.abort(this.abortReason());
  }

  onResponseStart(controller: Undici.Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200) return; // informational: the answer is still to come
    this.status = status;
    this.headers = headers;
    const encoding = (this.header('content-encoding') ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== '') {
      const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? zlib.createGunzip() : encoding === 'deflate' ? zlib.createInflate() : encoding === 'br' ? zlib.createBrotliDecompress() : undefined;
      if (!decoder) {
        controller.abort(new Error(`the response is encoded as "${encoding}", which this client cannot decode (gzip, deflate or br)`));
        return;
      }
      decoder.on('data', (piece: Buffer) => this.piece(piece));
      decoder.once('end', () => this.end());
      decoder.once('error', (error) => {
        this.fail(error);
        controller.abort(error);
      });
      this.decoder = decoder;
    }
    this.started = true;
    this.resolveAnswer(this);
  }

  onResponseData(_controller: Undici.Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.decoder) this.decoder.write(chunk);
    else this.piece(chunk);
  }

  onResponseEnd(): void {
    if (this.decoder) this.decoder.end();
    else this.end();
  }

  onResponseError(_controller: Undici.Dispatcher.DispatchController | undefined, error: Error): void {
    this.release();
    if (this.started) this.fail(error);
    else this.rejectAnswer(error);
  }

  header(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  read(): Promise<Uint8Array | null> {
    const piece = this.pieces.shift();
    if (piece) return Promise.resolve(piece);
    if (this.ended) return Promise.resolve(null);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** Closes the connection (it is never reused half-read). */
  cancel(): void {
    if (!this.ended) this.controller?.abort(new Error('the rest of the body is not wanted'));
  }

  private abortReason(): Error {
    return this.signal.reason instanceof Error ? this.signal.reason : new Error('aborted');
  }

  private release(): void {
    this.signal.removeEventListener('abort', this);
  }

  private piece(piece: Uint8Array): void {
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      waiting.resolve(piece);
    } else this.pieces.push(piece);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.release();
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve(null);
  }

  private fail(error: Error): void {
    if (this.ended) return;
    this.failure ??= error;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(this.failure);
  }
}
