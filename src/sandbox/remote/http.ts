// One request to a sandbox server, with every way it can fail mapped once: the network and the
// server's own failures are InfraError('sandbox'); a path outside the work dir and a full disk are
// the agent's SandboxPathError and SandboxFullError, as with a local sandbox; a URL that reaches no
// route is the caller's InputError.
import { constants } from 'node:buffer';
import type { z } from 'zod';
import { errorMessage, InfraError, InputError, timerDelay } from '../../core/index.ts';
import { realSleep } from '../../model/http.ts';
import { retryAfterMs } from '../../model/http-body.ts';
import { redactUrl, scrub } from '../../model/secrets.ts';
import { SandboxFullError, SandboxPathError } from '../paths.ts';
import { API_PREFIX, bearerTokenProblem, ErrorBody, PROTOCOL_HEADER, PROTOCOL_VERSION, REMOTE_TOKEN_VARIABLE } from './protocol.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface RequestSpec<T extends z.ZodType> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  /** The reply's schema; null for replies without a body (204). */
  response: T | null;
  timeoutMs: number;
  /** The caller's signal: when it aborts, the request throws `RemoteAborted`. */
  signal?: AbortSignal;
  /**
   * The largest successful reply accepted, in bytes; default `SMALL_REPLY_BYTES` (create, heartbeat,
   * health, and the routes that answer 204). An error reply may also be as long as an echo of the
   * request (`errorReplyBytes`).
   */
  maxReplyBytes?: number;
  /**
   * The error for a successful reply past `maxReplyBytes` when that bound is the caller's own (a
   * read given maxBytes), not the most the server may send: then it is no malformed reply.
   */
  overBound?: () => Error;
}

/** A reply longer than this cannot be made into one string, so no server sends a longer one on purpose. */
export const MAX_REPLY_BYTES = constants.MAX_STRING_LENGTH;
/** Replies of a few fixed fields (an id, a work dir, a lease), with room to spare. */
export const SMALL_REPLY_BYTES = 64 * 1024;

/**
 * The most an error reply may hold for a request of `requestBytes`: its message may quote what the
 * request sent (a path, a field), JSON-escaped twice over (in the message, then in the reply), and
 * an agent must not be able to turn a path error into an infrastructure one by giving a long path.
 */
export function errorReplyBytes(requestBytes: number): number {
  return Math.min(MAX_REPLY_BYTES, 8 * requestBytes + SMALL_REPLY_BYTES);
}

/**
 * The reply's text, or null once it passes `max` bytes: a server streaming without end would
 * otherwise fill this process's memory for as long as the request's timeout allows. The bytes are
 * counted as they come, whatever Content-Length says; a length over `max` is refused unread.
 */
async function readCapped(response: Response, max: number): Promise<string | null> {
  if (Number(response.headers.get('content-length') ?? 0) > max) {
    await response.body?.cancel();
    return null;
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    size += read.value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(read.value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks, size));
}

/** The caller gave up (its signal aborted); not a failure of the server. */
export class RemoteAborted extends Error {
  constructor() {
    super('remote sandbox request aborted by the caller');
    this.name = 'RemoteAborted';
  }
}

export class SandboxConnection {
  readonly base: string;

  constructor(
    url: string,
    private readonly token: string | undefined,
    private readonly fetcher: FetchLike,
  ) {
    this.base = url.replace(/\/+$/, '');
    // Else fetch refuses it on every request, quoting it, as if the connection had failed (retryable).
    const problem = token === undefined ? null : bearerTokenProblem(token);
    if (problem !== null) throw new InputError(`sandbox server ${redactUrl(this.base)}`, `the bearer token ${problem}`, 'the token the server was started with');
  }

  async request<T extends z.ZodType>(spec: RequestSpec<T>): Promise<z.infer<T>> {
    const where = `sandbox server ${this.base}: ${spec.method} ${spec.path}`;
    // Clamped: past 2^31-1 ms Node's timer overflows and fires after 1 ms, failing every request
    // (a sandbox whose timeoutMs limit is near the top of its range, plus the network's slack).
    const timeout = AbortSignal.timeout(timerDelay(spec.timeoutMs));
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeout]) : timeout;
    const headers: Record<string, string> = { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    const body = spec.body !== undefined ? JSON.stringify(spec.body) : undefined;
    const okBytes = spec.maxReplyBytes ?? SMALL_REPLY_BYTES;
    const errorBytes = Math.max(okBytes, errorReplyBytes(body === undefined ? 0 : Buffer.byteLength(body)));
    const deadline = Date.now() + spec.timeoutMs;
    let response: Response;
    let read: string | null;
    for (let tries = 1; ; tries++) {
      try {
        response = await this.fetcher(`${this.base}${API_PREFIX}${spec.path}`, {
          method: spec.method,
          headers,
          ...(body !== undefined ? { body } : {}),
          signal,
          // Followed, a redirect would take the files and commands to a server nobody named.
          redirect: 'manual',
        });
        // Known before a byte of it is read: what a reply may hold depends on whether it is an error.
        read = await readCapped(response, response.ok ? okBytes : errorBytes);
        // A server whose request-body memory is full refused this one before running anything
        // (503 with Retry-After): sent again after the wait, within the request's own deadline.
        const wait = busyWaitMs(response, tries, deadline);
        if (wait === null) break;
        await realSleep(wait, signal);
      } catch (error) {
        if (spec.signal?.aborted) throw new RemoteAborted();
        if (timeout.aborted) throw new InfraError('sandbox', `${where}: no reply within ${spec.timeoutMs} ms`, { kind: 'timeout', cause: error });
        throw new InfraError('sandbox', `${where}: ${scrub(errorMessage(error), this.token)}`, { kind: 'connection', cause: error });
      }
    }
    if (read === null) {
      const maxReplyBytes = response.ok ? okBytes : errorBytes;
      const said = `the reply${response.ok ? '' : ` (HTTP ${response.status})`} is over ${maxReplyBytes} bytes, more than any reply to this request holds; reading stopped there`;
      // An error past its bound is still that error: retried or not by its status, as an untyped one is.
      if (!response.ok) throw new InfraError('sandbox', `${where}: ${said}`, { kind: 'http', retryable: response.status >= 500, detail: { status: response.status } });
      if (spec.overBound) throw spec.overBound();
      throw new InfraError('sandbox', `${where}: ${said}`, { kind: 'malformed_response', retryable: false });
    }
    // Scrubbed before an error quotes it cut short, which would keep part of the token.
    const text = scrub(read, this.token);
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      throw new InputError(where, `answered with a redirect (HTTP ${response.status}) to ${location === null ? 'nowhere' : JSON.stringify(scrub(redactUrl(location), this.token))}`, 'the URL of the `gauntlet sandbox-server` itself: redirects are not followed');
    }
    if (response.status === 401) throw tokenRefused(where, this.token !== undefined, text);
    if (!response.ok) throw failure(where, response.status, text);
    if (spec.response === null) return undefined as z.infer<T>;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new InfraError('sandbox', `${where}: the reply is not JSON: ${text.slice(0, 200)}`, { kind: 'malformed_response', retryable: false });
    }
    const parsed = spec.response.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InfraError('sandbox', `${where}: unexpected reply (${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'})`, { kind: 'malformed_response', retryable: false });
    }
    return parsed.data;
  }
}

/** Tries of one request that a busy server refused, in all. */
const BUSY_TRIES = 5;
/** The longest wait between them, whatever Retry-After asks. */
const BUSY_WAIT_CAP_MS = 5_000;

/**
 * How long to wait before sending a request again that the server refused as busy (503 with
 * Retry-After: nothing ran), or null to take the reply as it is: any other reply (a full pool's
 * 503 has no Retry-After), the tries used up, or a wait that would pass the request's deadline.
 */
function busyWaitMs(response: Response, tries: number, deadline: number): number | null {
  if (response.status !== 503 || tries >= BUSY_TRIES) return null;
  const now = Date.now();
  const wait = retryAfterMs({ header: (name) => response.headers.get(name) ?? undefined }, { now, capMs: BUSY_WAIT_CAP_MS });
  return wait !== undefined && now + wait < deadline ? wait : null;
}

/**
 * HTTP 401: the server answered and refused the request for its bearer token, missing or not the
 * server's. Retrying will not help; the setting is what to fix, so the message names it.
 */
function tokenRefused(where: string, sent: boolean, text: string): InfraError {
  let said: string;
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    said = parsed.success ? parsed.data.error.message : text.slice(0, 200);
  } catch {
    said = text.slice(0, 200);
  }
  const why = sent
    ? `the server refused the bearer token sent (HTTP 401: ${said}): ${REMOTE_TOKEN_VARIABLE} is not the token the server was started with`
    : `the server refused the request: its bearer token is missing (HTTP 401: ${said}); set ${REMOTE_TOKEN_VARIABLE} to the token the server was started with`;
  return new InfraError('sandbox', `${where}: ${why}`, { kind: 'http', retryable: false, detail: { status: 401, code: 'unauthorized' } });
}

/** Whether an error is a server's refusal of the bearer token (see tokenRefused). */
export function isTokenRefusal(error: InfraError): boolean {
  return error.kind === 'http' && error.detail?.status === 401;
}

function failure(where: string, status: number, text: string): Error {
  let body: ErrorBody | undefined;
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    if (parsed.success) body = parsed.data;
  } catch {
    // not a typed error body: reported by status below
  }
  if (!body) return new InfraError('sandbox', `${where}: HTTP ${status}: ${text.slice(0, 200)}`, { kind: 'http', retryable: status >= 500, detail: { status } });
  const { code, message } = body.error;
  if (code === 'sandbox_path') return new SandboxPathError(message);
  if (code === 'no_space') return new SandboxFullError(message);
  const detail = { status, code };
  switch (code) {
    case 'no_route':
    case 'bad_method':
      // Every request would fail alike: the URL (a path after host:port, say) or the server's version is wrong.
      return new InputError(where, message, 'the base URL of a `gauntlet sandbox-server` of this version, such as http://10.0.0.5:7070 (no /v1 or other path)');
    case 'not_found':
      return new InfraError('sandbox', `${where}: ${message} (its lease may have expired, or the server restarted)`, { kind: 'unavailable', detail });
    case 'capacity':
    case 'sandbox_failed':
      return new InfraError('sandbox', `${where}: ${message}`, { kind: 'unavailable', detail });
    case 'body_timeout':
      // The link or the server was slow, not the request wrong: another try may get through.
      return new InfraError('sandbox', `${where}: ${message}`, { kind: 'timeout', detail });
    default:
      // unauthorized, bad_request, protocol_version, too_large: retrying the same request will not help
      return new InfraError('sandbox', `${where}: ${message}`, { kind: 'http', retryable: false, detail });
  }
}
