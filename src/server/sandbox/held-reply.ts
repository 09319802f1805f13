// Replies the sandbox server holds in memory while it sends them (file reads, exec results,
// listings): each takes its bytes from the body budget before it is made, streams a chunk at a time
// as the connection takes it (Node's backpressure), and gives its bytes back when the last chunk has
// been handed on, the client stops reading, or the request aborts.
import { describeBytes, type BodyBudget } from '../body-budget.ts';

/** Bytes taken from the budget for one reply; given back once, however often `release` is called. */
export class BudgetShare {
  #bytes: number;
  #released = false;

  private constructor(
    private readonly budget: BodyBudget,
    bytes: number,
  ) {
    this.#bytes = bytes;
  }

  /** `bytes` taken from `budget`; null, taking nothing, when they would pass its limit. */
  static take(budget: BodyBudget, bytes: number): BudgetShare | null {
    return budget.take(bytes) ? new BudgetShare(budget, bytes) : null;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Holds `bytes` from now on: fewer gives the rest back; more takes the difference where the budget
   * has it, else keeps what it holds and answers false (the reply goes out anyway: what it answers
   * has already happened).
   */
  resize(bytes: number): boolean {
    if (this.#released || bytes === this.#bytes) return true;
    if (bytes < this.#bytes) {
      this.budget.give(this.#bytes - bytes);
      this.#bytes = bytes;
      return true;
    }
    if (!this.budget.take(bytes - this.#bytes)) return false;
    this.#bytes = bytes;
    return true;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.budget.give(this.#bytes);
  }
}

/** Why a reply is not sent: `too_large` can never be, `capacity` not now (the client sends the request again after Retry-After). */
export interface ReplyRefusal {
  code: 'too_large' | 'capacity';
  message: string;
}

/** A busy budget, as a refusal says it: what holds how much of it, and what `needed` would take. */
export function busyMessage(budget: BodyBudget, needed: string): string {
  return `server busy: ${budget.holds} being handled hold ${budget.held} of the ${describeBytes(budget.limitBytes)} allowed at once (--max-body-memory), and ${needed} would pass it; retry later`;
}

/** A reply of `length` bytes, made a chunk at a time by `next` until `done`. */
export interface ReplyBody {
  length: number;
  next: () => Uint8Array;
  /** Whether the last chunk has been made. */
  done: () => boolean;
}

/**
 * A 200 JSON reply of `body.length` bytes, each chunk made as the connection asks for it. `share`
 * goes back when the last chunk has been handed on, the reply is cancelled (its client stopped
 * reading), or the request aborts; at once when it already has: the client left while the reply
 * was being made, and nothing will ask for it.
 */
export function streamReply(body: ReplyBody, share: BudgetShare, signal: AbortSignal): Response {
  let source: ReplyBody | undefined = body;
  const release = () => {
    // Dropped here, so a stream the server keeps a reference to no longer keeps what it would send.
    source = undefined;
    signal.removeEventListener('abort', release);
    share.release();
  };
  if (signal.aborted) {
    release();
    return new Response(null, { status: 200 });
  }
  signal.addEventListener('abort', release, { once: true });
  // Nothing made ahead (high-water mark 0): a chunk is made when the connection asks for it, so what
  // is held is counted until it is handed on.
  const stream = new ReadableStream<Uint8Array>(
    {
      pull: (controller) => {
        if (source === undefined) return controller.error(new Error('the reply was cancelled'));
        controller.enqueue(source.next());
        if (!source.done()) return;
        // Handed on whole: what is left to send is the connection's.
        controller.close();
        release();
      },
      cancel: release,
    },
    { highWaterMark: 0 },
  );
  return new Response(stream, { status: 200, headers: { 'content-type': 'application/json', 'content-length': String(body.length) } });
}

/** What one chunk of a reply made from bytes already in memory hands on. */
const CHUNK_BYTES = 64 * 1024;

/** `bytes` (a JSON text made whole) sent as `streamReply` sends, releasing `share` alike. */
export function bytesReply(bytes: Buffer, share: BudgetShare, signal: AbortSignal): Response {
  let offset = 0;
  const next = () => {
    const chunk = bytes.subarray(offset, offset + CHUNK_BYTES);
    offset += chunk.length;
    return chunk;
  };
  return streamReply({ length: bytes.length, next, done: () => offset >= bytes.length }, share, signal);
}
