// The gateway's own upstream key must never reach its clients (agent programs), yet an upstream
// may echo it: in an error ("invalid key sk-…"), in a body, in a stream. What the gateway relays
// is scrubbed with the key it sent, as what it records is (`scrubResult`). Upstream text is
// scrubbed before anything quotes or cuts it, so no quote can keep part of the key. A model may
// also write the key itself, a few characters per stream event: streamed texts are masked across
// their events (`ChunkMasker`, stream-masker.ts), each text holding back only a tail that could still begin the key.
import { isScrubbed, scrub } from '../../model/index.ts';

/** The key as it appears in raw text and, where JSON escapes some of its characters, inside a JSON string. */
function formsOf(key: string): string[] {
  const escaped = JSON.stringify(key).slice(1, -1);
  return escaped === key ? [key] : [key, escaped];
}

/** Scrubs upstream text before it is relayed; `key` undefined (or too short to be a key) leaves text as it is. */
export function scrubRelayed(text: string, key: string | undefined): string {
  if (!isScrubbed(key)) return text;
  for (const form of formsOf(key)) text = scrub(text, form);
  return text;
}

/**
 * Scrubs a byte stream relayed as it arrives (forwarded routes), where the key may straddle two
 * network reads: the tail of each piece that could begin the key waits for the next piece.
 */
export class StreamScrubber {
  private readonly needles: Buffer[];
  private readonly mask = Buffer.from('***');
  private held: Buffer = Buffer.alloc(0);

  constructor(key: string) {
    this.needles = formsOf(key).map((form) => Buffer.from(form, 'utf8'));
  }

  push(piece: Uint8Array): Buffer {
    let buffer = this.replace(this.held.length === 0 ? Buffer.from(piece) : Buffer.concat([this.held, piece]));
    const keep = this.pendingTail(buffer);
    this.held = Buffer.from(buffer.subarray(buffer.length - keep));
    buffer = buffer.subarray(0, buffer.length - keep);
    return buffer;
  }

  /** At the end of the body: a held tail that never became the key goes out as it was. */
  end(): Buffer {
    const rest = this.held;
    this.held = Buffer.alloc(0);
    return rest;
  }

  private replace(buffer: Buffer): Buffer {
    for (const needle of this.needles) {
      let at = buffer.indexOf(needle);
      if (at === -1) continue;
      const parts: Buffer[] = [];
      let from = 0;
      for (; at !== -1; at = buffer.indexOf(needle, from)) {
        parts.push(buffer.subarray(from, at), this.mask);
        from = at + needle.length;
      }
      parts.push(buffer.subarray(from));
      buffer = Buffer.concat(parts);
    }
    return buffer;
  }

  /** The length of the longest end of `buffer` that is the start of a form of the key. */
  private pendingTail(buffer: Buffer): number {
    let longest = 0;
    for (const needle of this.needles) {
      for (let length = Math.min(needle.length - 1, buffer.length); length > longest; length--) {
        if (buffer.compare(needle, 0, length, buffer.length - length) === 0) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
