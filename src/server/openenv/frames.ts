// WebSocket messages while they arrive. `ws` keeps a message's frames in memory until the last one
// is in (up to its maxPayload per socket) and gives no hook into that, so many sockets each
// sending most of a large message would hold memory no budget saw. The meter reads the same bytes
// off the raw socket just before `ws` does, parses only frame headers, and takes each data frame's
// declared length from the body budget before its payload is held, as an HTTP body takes its
// Content-Length. The whole message's bytes are handed on to whoever `claim`s it when `ws` emits it.
import type { Duplex } from 'node:stream';
import type { BodyBudget } from './body.ts';

/**
 * Why the meter stopped a socket: `too large` declares more than one message may hold (`ws` closes
 * it with 1009 itself), `busy` does not fit beside what the budget holds and had not arrived whole
 * in one read, `late` had not arrived whole within the deadline. Byte counts are the message's.
 */
export type FrameRefusal =
  | { kind: 'too large'; declared: number; maxBytes: number }
  | { kind: 'busy'; declared: number }
  | { kind: 'late'; received: number; declared: number; timeoutMs: number };

export interface FrameLimits {
  /** Shared with the HTTP bodies and the whole messages waiting for replies. */
  budget: BodyBudget;
  /** One message's bytes at most: `ws`'s maxPayload. */
  maxMessageBytes: number;
  /** A message must have arrived whole this long after its first frame's header. */
  timeoutMs: number;
}

const PING = 0x9;
const PONG = 0xa;

/** Bytes of the header that starts with `header` (its first two bytes): 2, plus the extended length, plus the mask. */
function headerSize(header: Buffer): number {
  const length = header[1]! & 0x7f;
  return 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + (header[1]! & 0x80 ? 4 : 0);
}

export class FrameMeter {
  /** Told once when the meter stops a socket; by default it is hung up on. Set by the session that owns the socket. */
  onRefusal: (refusal: FrameRefusal) => void = () => this.hangUp();

  readonly #raw: Duplex;
  readonly #limits: FrameLimits;
  readonly #onData = (chunk: Buffer) => this.#read(chunk);
  readonly #header = Buffer.alloc(14);
  #headerBytes = 0;
  /** Payload bytes of the current frame still to come; -1 while reading a header. */
  #payloadLeft = -1;
  #frameIsData = false;
  #frameIsFinal = false;
  /** The message being assembled: a data frame has begun it and its final frame has not ended. */
  #inMessage = false;
  #declared = 0;
  #received = 0;
  /** Taken from the budget for the message being assembled. */
  #reserved = 0;
  /** Declared bytes the budget could not cover. */
  #shortfall = 0;
  /** What each message assembled and not yet claimed holds of the budget, oldest first. */
  #whole: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(raw: Duplex, limits: FrameLimits) {
    this.#raw = raw;
    this.#limits = limits;
    // First in line: a frame's bytes are taken before `ws` holds them.
    raw.prependListener('data', this.#onData);
    raw.once('close', () => this.#release());
  }

  /** Bytes of the budget the meter holds now (frames arriving and messages not yet claimed). */
  get held(): number {
    return this.#reserved + this.#whole.reduce((sum, bytes) => sum + bytes, 0);
  }

  /**
   * The budget bytes taken for the oldest message `ws` has assembled, now the caller's to give back.
   * Less than the message's size when its frames arrived whole while the budget was short.
   */
  claim(): number {
    return this.#whole.shift() ?? 0;
  }

  /** Reserves nothing more (the socket is closing, or `ws` refused what it read). What is held stays held until the socket closes. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /**
   * Ends the connection after what has been sent (an error, a close frame) without reading on into
   * `ws`: the rest of the client's frame is read and dropped, as `ws` itself does after a protocol
   * error, so nothing more is held and the replies are not lost to a reset.
   */
  hangUp(): void {
    this.stop();
    for (const listener of this.#raw.listeners('data')) {
      if (listener !== this.#onData) this.#raw.off('data', listener as (chunk: Buffer) => void);
    }
    this.#raw.end();
  }

  #read(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.#stopped) {
      if (this.#payloadLeft < 0) {
        const want = this.#headerBytes < 2 ? 2 : headerSize(this.#header);
        const n = Math.min(want - this.#headerBytes, chunk.length - at);
        chunk.copy(this.#header, this.#headerBytes, at, at + n);
        this.#headerBytes += n;
        at += n;
        if (this.#headerBytes < 2 || this.#headerBytes < headerSize(this.#header)) continue;
        this.#headerBytes = 0;
        this.#frameBegins();
      } else {
        const n = Math.min(this.#payloadLeft, chunk.length - at);
        this.#payloadLeft -= n;
        at += n;
        if (this.#frameIsData) this.#received += n;
      }
      if (this.#payloadLeft === 0) this.#frameEnds();
    }
    if (this.#stopped || !this.#inMessage) return;
    // Still arriving after this read: it must be covered from here on, and not take forever.
    if (this.#shortfall > 0) return this.#refuse({ kind: 'busy', declared: this.#declared });
    this.#timer ??= setTimeout(() => this.#refuse({ kind: 'late', received: this.#received, declared: this.#declared, timeoutMs: this.#limits.timeoutMs }), this.#limits.timeoutMs);
  }

  #frameBegins(): void {
    const header = this.#header;
    const opcode = header[0]! & 0x0f;
    let length = header[1]! & 0x7f;
    if (length === 126) length = header.readUInt16BE(2);
    else if (length === 127) length = header.readUInt32BE(2) * 2 ** 32 + header.readUInt32BE(6);
    if (opcode > 2) {
      // Ping and pong are short and `ws` answers them; a close frame ends what the client may send,
      // and any other opcode is a protocol error `ws` closes the socket on.
      if (opcode !== PING && opcode !== PONG) this.stop();
      this.#frameIsData = false;
      this.#payloadLeft = length;
      return;
    }
    this.#inMessage = true;
    const declared = this.#declared + length;
    if (declared > this.#limits.maxMessageBytes) return this.#refuse({ kind: 'too large', declared, maxBytes: this.#limits.maxMessageBytes });
    this.#declared = declared;
    // Once a frame of the message is short, the message is: it is refused whole either way.
    if (this.#shortfall === 0 && this.#limits.budget.take(length)) this.#reserved += length;
    else this.#shortfall += length;
    this.#frameIsData = true;
    this.#frameIsFinal = (header[0]! & 0x80) !== 0;
    this.#payloadLeft = length;
  }

  #frameEnds(): void {
    this.#payloadLeft = -1;
    if (!this.#frameIsData || !this.#frameIsFinal) return;
    this.#whole.push(this.#reserved);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#inMessage = false;
    this.#declared = this.#received = this.#reserved = this.#shortfall = 0;
  }

  #refuse(refusal: FrameRefusal): void {
    if (this.#stopped) return;
    this.stop();
    this.onRefusal(refusal);
  }

  #release(): void {
    this.stop();
    this.#limits.budget.give(this.held);
    this.#reserved = 0;
    this.#whole = [];
    this.#raw.off('data', this.#onData);
  }
}
