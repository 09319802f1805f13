// File reads on the sandbox server: the one reply whose size no request bounds (the agent decides
// how large a file grows). A read is held to four things: the sandbox is asked for no more than the
// largest file the server answers (ReadFileOptions.maxBytes), so a larger one is refused without
// being read whole; a read first reserves `SIDE_BY_SIDE_READ_BYTES` of the body budget and asks for
// at most that much, so small files (most of them) are read side by side, each counted before it is
// read, while a larger one is read again on its own, one at a time (until it is read nothing counts
// it, and this keeps one such file in memory at once, not one per connection); a file over
// `maxReadBytes` is refused; and a reply takes its bytes from the server's body budget until it has
// been sent, streamed as base64 a chunk at a time rather than built whole as JSON text.
import { FileTooLargeError } from '../../sandbox/index.ts';
import { describeBytes, type BodyBudget } from '../body-budget.ts';
import { BudgetShare, busyMessage, streamReply, type ReplyRefusal } from './held-reply.ts';

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
  /** Shared with request bodies and other replies: a reply holds its file's bytes here until it is sent. */
  budget: BodyBudget;
}

/** The most bytes of a file a read asks its sandbox for: more could never be answered. */
export function readBound(limits: ReadLimits): number {
  return Math.min(limits.maxReadBytes, limits.budget.limitBytes);
}

/**
 * Why a file of `size` bytes (undefined: more than `readBound`, its exact size unknown because the
 * read stopped there) cannot be answered, naming the limit it passes and its flag.
 */
export function tooLargeMessage(path: string, size: number | undefined, limits: ReadLimits): string {
  const { maxReadBytes, budget } = limits;
  const where = `sandbox readFile: ${JSON.stringify(path)}`;
  const overRead = size === undefined ? maxReadBytes <= budget.limitBytes : size > maxReadBytes;
  const is = size === undefined ? `is more than ${readBound(limits)} bytes` : `is ${size} bytes`;
  if (overRead) return `${where} ${is}, over this server's limit of ${describeBytes(maxReadBytes)} a read (--max-read-mb)`;
  return `${where} ${is}, more than the ${describeBytes(budget.limitBytes)} the server holds for ${budget.holds} at once (--max-body-memory)`;
}

/** A file's bytes, with their share of the budget. */
export interface HeldRead {
  bytes: Buffer;
  share: BudgetShare;
}

/** Files up to this size are read side by side, their bound reserved first; a larger one waits its turn. */
export const SIDE_BY_SIDE_READ_BYTES = 1024 * 1024;

/**
 * A read with its bound (`SIDE_BY_SIDE_READ_BYTES`, or less where the limits are lower) reserved
 * before the sandbox is asked, so it needs no turn: the file held, null for no file, a refusal, or
 * undefined where it must be read on its own (the file is larger than that bound and may be read
 * whole, or the budget cannot reserve the bound now).
 */
export async function readSideBySide(path: string, read: (maxBytes: number) => Promise<string | null>, limits: ReadLimits): Promise<HeldRead | ReplyRefusal | null | undefined> {
  const whole = readBound(limits);
  const bound = Math.min(whole, SIDE_BY_SIDE_READ_BYTES);
  const share = BudgetShare.take(limits.budget, bound);
  if (!share) return undefined;
  let content: string | null;
  try {
    content = await read(bound);
  } catch (error) {
    share.release();
    // Larger than the reservation but perhaps not than the limit: read again in its turn.
    if (error instanceof FileTooLargeError && bound < whole) return undefined;
    throw error;
  }
  // The reservation becomes the file's own share, in the same turn: nothing else takes from the
  // budget between (as UTF-8 the file may need more than was reserved: a byte that is not UTF-8 is three).
  share.release();
  return content === null ? null : holdRead(path, content, limits);
}

/**
 * The file's bytes held within `limits`, or why not. The size is that of the content as UTF-8, which
 * is what the reply carries (a byte that is not UTF-8 comes back as U+FFFD, three bytes).
 */
export function holdRead(path: string, content: string, limits: ReadLimits): HeldRead | ReplyRefusal {
  // Measured before converting: a file that cannot be sent is not copied once more.
  const size = Buffer.byteLength(content, 'utf8');
  if (size > readBound(limits)) return { code: 'too_large', message: tooLargeMessage(path, size, limits) };
  const share = BudgetShare.take(limits.budget, size);
  if (!share) return { code: 'capacity', message: busyMessage(limits.budget, `this read's ${size} bytes`) };
  return { bytes: Buffer.from(content, 'utf8'), share };
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
 * The reply to a read, `{"content":"<base64>"}` byte for byte as before, streamed (held-reply.ts):
 * base64 is made a chunk at a time as the connection takes it, so the server holds the file's bytes
 * and a chunk or two, not the file three more times over (base64, JSON text, encoded reply).
 */
export function readReply(held: HeldRead, signal: AbortSignal): Response {
  const { bytes } = held;
  // -1 before HEAD; past the file's length once TAIL has gone.
  let offset = -1;
  const next = () => {
    if (offset < 0) {
      offset = 0;
      return HEAD;
    }
    if (offset === bytes.length) {
      offset++;
      return TAIL;
    }
    const end = Math.min(bytes.length, offset + CHUNK_BYTES);
    const chunk = Buffer.from(bytes.subarray(offset, end).toString('base64'), 'latin1');
    offset = end;
    return chunk;
  };
  return streamReply({ length: readReplyLength(bytes.length), next, done: () => offset > bytes.length }, held.share, signal);
}
