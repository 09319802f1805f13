// How a model client's POST reaches the endpoint: through `node:http` by default, or through a
// `fetch` the caller injects (tests, a gateway route, a custom dispatcher). `postJson` sees only
// the small interface below, so retries, time-outs, streaming and recording are the same either way.
import http from 'node:http';
import https from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import zlib from 'node:zlib';

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
    // As text, as before the node transport: an injected fetch may read or rewrite `init.body`.
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

// Kept-alive connections shared by every client in the process, as fetch's global dispatcher is.
// Idle sockets are unref'd by the agent, so they never keep the process alive.
const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

/**
 * POSTs with `node:http`. Per call it builds a fraction of the objects fetch does (no Request,
 * Headers, web streams or abort plumbing): at a thousand concurrent rollouts fetch's share of the
 * main thread was the largest single cost after the environments' own work.
 */
export const sendThroughNodeHttp: SendPost = (post) => {
  let target: RequestTarget;
  try {
    target = requestTarget(post.url);
  } catch (error) {
    return Promise.reject(error);
  }
  const request = (target.secure ? https : http).request({
    ...target.options,
    method: 'POST',
    agent: target.secure ? agents.https : agents.http,
    headers: { ...post.headers, 'content-length': post.body.reduce((total, piece) => total + piece.byteLength, 0) },
  });
  return new Promise<HttpAnswer>((resolve, reject) => {
    const abort = new AbortsRequest(request, post.signal);
    if (post.signal.aborted) abort.handleEvent();
    else post.signal.addEventListener('abort', abort, { once: true });
    // `on`, not `once`: a request can report more than one error, and an unheard one would throw.
    request.on('error', (error) => {
      abort.release();
      reject(error);
    });
    request.once('response', (response) => {
      const body = decoded(response);
      if (body instanceof Error) {
        abort.release();
        request.destroy();
        reject(body);
      } else resolve(new NodeAnswer({ request, response, body }, () => abort.release()));
    });
    // Corked, so the headers and every piece leave in one write.
    request.cork();
    for (const piece of post.body) request.write(piece);
    request.end();
    request.uncork();
  });
};

interface RequestTarget {
  secure: boolean;
  options: { protocol: string; hostname: string; port?: number; path: string; auth?: string };
}

/**
 * Where a URL points, as `http.request` options, parsed once per URL: a client posts to the same
 * one or two URLs all run long, and parsing each call (then turning the URL back into options
 * inside `http.request`) was a measurable share of the per-call work at a thousand rollouts.
 */
const targets = new Map<string, RequestTarget>();
const MAX_TARGETS = 256;

function requestTarget(url: string): RequestTarget {
  const known = targets.get(url);
  if (known) return known;
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:';
  if (!secure && parsed.protocol !== 'http:') throw new Error(`unsupported protocol ${parsed.protocol}`);
  const options: RequestTarget['options'] = {
    protocol: parsed.protocol,
    // An IPv6 literal's brackets belong to the URL, not to the host name http.request connects to.
    hostname: parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname,
    path: `${parsed.pathname}${parsed.search}`,
    ...(parsed.port ? { port: Number(parsed.port) } : {}),
    ...(parsed.username || parsed.password ? { auth: `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}` } : {}),
  };
  const target = { secure, options };
  if (targets.size >= MAX_TARGETS) targets.clear();
  targets.set(url, target);
  return target;
}

/**
 * Destroys a request when its signal aborts, until released. An abort listener object rather than
 * a closure: the TypeScript loader names each closure as it is made, a cost on every request.
 */
class AbortsRequest implements AbortListener {
  constructor(
    private readonly request: http.ClientRequest,
    private readonly signal: RequestAbort,
  ) {}

  handleEvent(): void {
    this.request.destroy(this.signal.reason instanceof Error ? this.signal.reason : new Error('aborted'));
  }

  release(): void {
    this.signal.removeEventListener('abort', this);
  }
}

/**
 * The body as sent, or decompressed when the server compressed it anyway (fetch decodes these
 * itself; we ask for nothing, but a proxy or CDN in front of an endpoint may compress regardless).
 */
function decoded(response: http.IncomingMessage): Readable | Error {
  const encoding = (response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return response;
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? zlib.createGunzip() : encoding === 'deflate' ? zlib.createInflate() : encoding === 'br' ? zlib.createBrotliDecompress() : undefined;
  if (!decoder) return new Error(`the response is encoded as "${encoding}", which this client cannot decode (gzip, deflate or br)`);
  // Ends (or fails) the decoder with the response; errors surface through the decoder's events.
  return pipeline(response, decoder, () => undefined);
}

interface NodeExchange {
  request: http.ClientRequest;
  response: http.IncomingMessage;
  /** The response itself, or its decoder. */
  body: Readable;
}

/** A response body as a queue of pieces, filled by the socket and drained by `read`. */
class NodeAnswer implements HttpAnswer {
  readonly status: number;
  private readonly request: http.ClientRequest;
  private readonly response: http.IncomingMessage;
  private readonly pieces: Buffer[] = [];
  private ended = false;
  private failure: Error | undefined;
  private waiting: { resolve: (piece: Uint8Array | null) => void; reject: (error: Error) => void } | undefined;

  constructor({ request, response, body }: NodeExchange, release: () => void) {
    this.request = request;
    this.response = response;
    this.status = response.statusCode ?? 0;
    body.on('data', (piece: Buffer) => {
      if (this.waiting) this.settle({ piece });
      else this.pieces.push(piece);
    });
    body.once('end', () => {
      this.ended = true;
      release();
      this.settle({ piece: null });
    });
    // A connection that closes before the body ends (reset, aborted, destroyed by our signal), or a
    // compressed body that does not decode.
    body.once('close', () => {
      release();
      if (this.ended) return;
      this.failure ??= body.errored ?? response.errored ?? request.errored ?? new Error('the connection closed before the body ended');
      this.settle({ error: this.failure });
    });
    body.on('error', (error) => {
      this.failure ??= error;
    });
  }

  header(name: string): string | undefined {
    const value = this.response.headers[name];
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

  cancel(): void {
    if (!this.ended) this.request.destroy();
  }

  private settle(outcome: { piece: Uint8Array | null } | { error: Error }): void {
    const waiting = this.waiting;
    if (!waiting) return;
    this.waiting = undefined;
    if ('error' in outcome) waiting.reject(outcome.error);
    else waiting.resolve(outcome.piece);
  }
}
