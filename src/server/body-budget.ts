// Request bodies a server buffers whole before handling them: each at most `maxBytes`, and all of
// them together at most a budget shared by every request, so many slow or large bodies cannot hold
// (connections × maxBytes) of memory. A body's bytes are taken from the budget before they are read
// when its Content-Length says how many, else as they arrive, and given back when its request ends.
// A body must also arrive within a deadline: a slow sender would otherwise hold its share of the
// budget until Node's request timeout, minutes later. Used by `serve-env` (openenv/, where WebSocket
// messages draw on the same budget) and `sandbox-server` (sandbox/); each answers refusals in its
// own protocol's shape.
import type { Context, MiddlewareHandler } from 'hono';

const MiB = 1024 * 1024;

/** Bytes of request bodies (and whatever else the server counts with them) held at once, across every request of one server. */
export class BodyBudget {
  #held = 0;
  readonly limitBytes: number;
  /** What draws on the budget, as a busy refusal names it: `request bodies, WebSocket messages and replies`. */
  readonly holds: string;

  constructor(limitBytes: number, holds = 'request bodies') {
    this.limitBytes = limitBytes;
    this.holds = holds;
  }

  /** Bytes taken by bodies being read or handled now. */
  get held(): number {
    return this.#held;
  }

  /** Takes `bytes` for a body; false, taking nothing, when they would pass the limit. */
  take(bytes: number): boolean {
    if (this.#held + bytes > this.limitBytes) return false;
    this.#held += bytes;
    return true;
  }

  /**
   * Takes `bytes` whatever the limit: for what has already happened (a reply to an action that ran
   * goes out). Held past the limit, the budget refuses new bodies until it is given back.
   */
  hold(bytes: number): void {
    this.#held += bytes;
  }

  give(bytes: number): void {
    this.#held -= bytes;
  }
}

/** `256 MiB` when whole mebibytes, else bytes: how the limit reads where the flag sets it. */
export function describeBytes(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`;
}

/**
 * Why a body is not read: `too large` can never fit (413, retrying will not help), `busy` does not
 * fit beside the bodies being read now (503 with Retry-After), `cut` stopped arriving (400), `late`
 * had not arrived whole by its deadline (408).
 */
export type BodyRefusal = { kind: 'too large' | 'busy' | 'cut' | 'late'; message: string; data: Record<string, number> };

/** The HTTP status of each refusal. */
export const REFUSAL_STATUS = { 'too large': 413, busy: 503, cut: 400, late: 408 } as const;
export type RefusalStatus = (typeof REFUSAL_STATUS)[BodyRefusal['kind']];

/** Answers a refusal in the route's own shape (FastAPI detail, JSON-RPC error, a protocol's error body); headers and status are set by `bufferBody`. */
export type RefusalReply = (c: Context, refusal: BodyRefusal, status: RefusalStatus, headers: Record<string, string>) => Response;

/** What `bufferBody` holds each body to. */
export interface BodyLimits {
  /** One body's bytes at most. */
  maxBytes: number;
  /** Shared by every body being read or handled. */
  budget: BodyBudget;
  /** A body must have arrived whole this long after its reading began. */
  timeoutMs: number;
}

/** What a handler after `bufferBody` finds in its context: the whole body. */
export type Buffered = { Variables: { body: Uint8Array } };

const EMPTY = new Uint8Array(0);

/** The length the request head declares; undefined for a chunked body, or one of unknown length. */
function declaredLength(c: Context): number | undefined {
  if (c.req.header('transfer-encoding') !== undefined) return undefined;
  const length = c.req.header('content-length');
  // Node's parser has already refused a malformed Content-Length. With neither header a request
  // off the wire has no body (RFC 9112 §6.3, a bare POST); one made in process (app.request) may
  // still carry a stream, read as it arrives.
  if (length === undefined) return c.req.raw.body === null ? 0 : undefined;
  return Number.parseInt(length, 10);
}

/** `30 s`, `0.2 s`: how the deadline reads where the flag sets it. */
function describeMs(ms: number): string {
  return `${ms / 1000} s`;
}

/**
 * Reads the request body whole into the context's `body`, within `maxBytes`, the shared `budget`
 * and `timeoutMs`, or answers with `reply` without handing on. A refusal before the whole body has
 * arrived closes the connection, so the unread rest is never parsed as the connection's next
 * request; its bytes go back to the budget as the refusal is sent.
 */
export function bufferBody<E extends Buffered>(limits: BodyLimits, reply: RefusalReply): MiddlewareHandler<E> {
  const { maxBytes, budget, timeoutMs } = limits;
  const busy = (needed: string): BodyRefusal => ({
    kind: 'busy',
    message: `server busy: ${budget.holds} being handled hold ${budget.held} of the ${describeBytes(budget.limitBytes)} allowed at once (--max-body-memory), and ${needed}; retry later`,
    data: { body_memory_bytes: budget.held, max_body_memory_bytes: budget.limitBytes },
  });
  const overMax: BodyRefusal = { kind: 'too large', message: `request body over ${maxBytes} bytes`, data: { max_body_bytes: maxBytes } };
  const refuse = (c: Context, refusal: BodyRefusal) =>
    reply(c, refusal, REFUSAL_STATUS[refusal.kind], { Connection: 'close', ...(refusal.kind === 'busy' ? { 'Retry-After': '1' } : {}) });
  const late = (received: number, declared: number | undefined): BodyRefusal => ({
    kind: 'late',
    message: `the request body did not arrive within ${describeMs(timeoutMs)} (--body-timeout): ${declared === undefined ? `${received} bytes of it had come` : `${received} of its ${declared} bytes had come`}`,
    data: { received_bytes: received, ...(declared !== undefined ? { body_bytes: declared } : {}), body_timeout_ms: timeoutMs },
  });

  return async (c, next) => {
    let taken = 0;
    const take = (bytes: number): boolean => {
      if (!budget.take(bytes)) return false;
      taken += bytes;
      return true;
    };
    try {
      const declared = declaredLength(c);
      if (declared === 0) {
        c.set('body', EMPTY);
        return await next();
      }
      if (declared !== undefined) {
        if (declared > maxBytes) return refuse(c, overMax);
        if (declared > budget.limitBytes) {
          return refuse(c, {
            kind: 'too large',
            message: `request body of ${declared} bytes is more than the ${describeBytes(budget.limitBytes)} the server holds for all request bodies at once (--max-body-memory)`,
            data: { body_bytes: declared, max_body_memory_bytes: budget.limitBytes },
          });
        }
        if (!take(declared)) return refuse(c, busy(`this one declares ${declared} bytes`));
      } else if (c.req.header('transfer-encoding') !== undefined && budget.held >= budget.limitBytes) {
        // Not a byte to spare: refuse before the stream is touched.
        return refuse(c, busy('none is left for this one'));
      }

      const stream = c.req.raw.body;
      const chunks: Uint8Array[] = [];
      let size = 0;
      if (stream !== null) {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), timeoutMs);
        });
        const reader = stream.getReader();
        try {
          for (;;) {
            let read: ReadableStreamReadResult<Uint8Array> | 'late';
            try {
              // The read left pending is rejected when the lock is released below (race has handled it).
              read = await Promise.race([reader.read(), deadline]);
            } catch (error) {
              return refuse(c, { kind: 'cut', message: `the request body did not arrive whole: ${error instanceof Error ? error.message : String(error)}`, data: { received_bytes: size } });
            }
            if (read === 'late') return refuse(c, late(size, declared));
            if (read.done) break;
            size += read.value.byteLength;
            if (size > maxBytes) return refuse(c, overMax);
            // A chunked body's bytes are taken as they arrive; a declared one's were taken up front.
            if (size > taken && !take(size - taken)) return refuse(c, busy('this one would pass it'));
            chunks.push(read.value);
          }
        } finally {
          // Released, not cancelled: cancelling would destroy the socket before the refusal is sent.
          reader.releaseLock();
          // The handler after may run long; the deadline was only the body's.
          clearTimeout(timer);
        }
      }
      c.set('body', chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      chunks.length = 0;
      await next();
    } finally {
      budget.give(taken);
    }
  };
}
