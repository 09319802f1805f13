// File reads on the sandbox server: the one reply whose size no request bounds (the agent decides
// how large a file grows). The Sandbox interface hands a file over whole, so a read is held to three
// things: files are read from the sandboxes one at a time (before it is read, nothing says how large
// a file is, and this keeps one such file in memory at once, not one per connection); a file over
// `maxReadBytes` is refused; and a reply takes its bytes from the server's body budget until it has
// been sent, streamed as base64 a chunk at a time rather than built whole as JSON text.
import { describeBytes, type BodyBudget } from '../body-budget.ts';

/** Runs tasks one after another, in the order they were given. */
export class OneAtATime {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after those before it; skipped (rejecting) when `signal` aborted while it waited. */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const turn = this.#tail.then(() => {
      // Its client went away while it waited: reading the file would be for nobody.
      signal?.throwIfAborted();
      return task();
    });
    this.#tail = turn.catch(() => undefined);
    return turn;
  }
}

export interface ReadLimits {
  /** One file's bytes (as UTF-8, as the reply carries them) at most. */
  maxReadBytes: number;
  /** Shared with request bodies: a reply holds its file's bytes here until it is sent. */
  budget: BodyBudget;
}

/** A file's bytes, taken from the budget; `release` gives them back (once, however often called). */
export interface HeldRead {
  bytes: Buffer;
  release: () => void;
}

/** Why a file read is not answered with the file: `too_large` can never be, `capacity` not now. */
export interface ReadRefusal {
  code: 'too_large' | 'capacity';
  message: string;
}

/**
 * The file's bytes held within `limits`, or why not. The size is that of the content as UTF-8, which
 * is what the reply carries (a byte that is not UTF-8 comes back as U+FFFD, three bytes).
 */
export function holdRead(path: string, content: string, limits: ReadLimits): HeldRead | ReadRefusal {
  const { maxReadBytes, budget } = limits;
  // Measured before converting: a file that cannot be sent is not copied once more.
  const size = Buffer.byteLength(content, 'utf8');
  const where = `sandbox readFile: ${JSON.stringify(path)}`;
  if (size > maxReadBytes) {
    return { code: 'too_large', message: `${where} is ${size} bytes, over this server's limit of ${describeBytes(maxReadBytes)} a read (--max-read-mb)` };
  }
  if (size > budget.limitBytes) {
    return { code: 'too_large', message: `${where} is ${size} bytes, more than the ${describeBytes(budget.limitBytes)} the server holds for ${budget.holds} at once (--max-body-memory)` };
  }
  if (!budget.take(size)) {
    return {
      code: 'capacity',
      message: `server busy: ${budget.holds} being handled hold ${budget.held} of the ${describeBytes(budget.limitBytes)} allowed at once (--max-body-memory), and this read's ${size} bytes would pass it; retry later`,
    };
  }
  let given = false;
  return {
    bytes: Buffer.from(content, 'utf8'),
    release: () => {
      if (given) return;
      given = true;
      budget.give(size);
    },
  };
}

const HEAD = Buffer.from('{"content":"');
const TAIL = Buffer.from('"}');
/** Whole groups of three bytes, so every chunk's base64 carries on from the last without padding. */
const CHUNK_BYTES = 3 * 64 * 1024;

/** The length of `{"content":"<base64>"}` for a file of `size` bytes: base64 needs no JSON escapes. */
export function readReplyLength(size: number): number {
  return HEAD.length + 4 * Math.ceil(size / 3) + TAIL.length;
}

/**
 * The reply to a read, `{"content":"<base64>"}` byte for byte as before, streamed: base64 is made a
 * chunk at a time as the connection takes it (Node's backpressure), so the server holds the file's
 * bytes and a chunk or two, not the file three more times over (base64, JSON text, encoded reply).
 * The bytes go back to the budget when the last chunk is handed on, or the reply is cancelled
 * (the client went away), or the request aborted before the reply was read at all.
 */
export function readReply(held: HeldRead, signal: AbortSignal): Response {
  let source: Buffer | undefined = held.bytes;
  const length = readReplyLength(source.length);
  let offset = 0;
  const release = () => {
    // Dropped here, so a stream the server keeps a reference to no longer keeps the file.
    source = undefined;
    signal.removeEventListener('abort', release);
    held.release();
  };
  signal.addEventListener('abort', release, { once: true });
  const body = new ReadableStream<Uint8Array>({
    start: (controller) => controller.enqueue(HEAD),
    pull: (controller) => {
      if (source === undefined) return controller.error(new Error('the read reply was cancelled'));
      if (offset >= source.length) {
        controller.enqueue(TAIL);
        controller.close();
        release();
        return;
      }
      const end = Math.min(source.length, offset + CHUNK_BYTES);
      controller.enqueue(Buffer.from(source.subarray(offset, end).toString('base64'), 'latin1'));
      offset = end;
    },
    cancel: release,
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json', 'content-length': String(length) } });
}
