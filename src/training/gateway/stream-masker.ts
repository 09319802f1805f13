// The gateway's key masked where a model spells it out a few characters per stream event: each
// streamed text (content, reasoning, a tool call's arguments) is masked across its events, holding
// back only a tail that could still begin the key. Whole texts and bodies are scrubbed in redact.ts.
import type { JsonValue } from '../../core/index.ts';

type JsonRecord = { [key: string]: JsonValue };

/** What a masked key becomes, as `scrub` writes it. */
const MASK = '***';

/**
 * One running text of a stream (a choice's content, its reasoning, one tool call's arguments),
 * relayed piece by piece, where a model may spell the key a few characters per event: each piece
 * goes out at once, except the shortest tail that could still begin the key, which waits for the
 * piece that completes it (then the mask goes out instead) or refutes it (then it goes out as it
 * was). Nothing is dropped or reordered: the pieces relayed, joined, are the text with the key
 * masked wherever it occurs.
 */
export class TextMasker {
  private held = '';

  constructor(private readonly key: string) {}

  get holding(): boolean {
    return this.held !== '';
  }

  /** What to relay now for the next piece of the text. */
  push(piece: string): string {
    const { key } = this;
    const text = this.held === '' ? piece : this.held + piece;
    let masked = '';
    let from = 0;
    for (let at = text.indexOf(key); at !== -1; at = text.indexOf(key, from)) {
      masked += text.slice(from, at) + MASK;
      from = at + key.length;
    }
    const keep = pendingTail(text, from, key);
    this.held = keep === 0 ? '' : text.slice(text.length - keep);
    // Nearly every piece: nothing masked, nothing held, the piece itself.
    if (from === 0) return keep === 0 ? text : text.slice(0, text.length - keep);
    return masked + text.slice(from, text.length - keep);
  }

  /** The end of the text: a held tail that never became the key goes out as it was. */
  flush(): string {
    const rest = this.held;
    this.held = '';
    return rest;
  }
}

/** The length of the longest end of `text` after `from` that is the start of `key` (whole keys are masked already, so shorter than it). */
function pendingTail(text: string, from: number, key: string): number {
  const first = key.charAt(0);
  outer: for (let at = text.indexOf(first, Math.max(from, text.length - key.length + 1)); at !== -1; at = text.indexOf(first, at + 1)) {
    for (let i = 1; at + i < text.length; i++) if (text.charCodeAt(at + i) !== key.charCodeAt(i)) continue outer;
    return text.length - at;
  }
  return 0;
}

function isRecord(value: JsonValue | undefined): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The fields of a chat delta that stream as text; each tool call's arguments are the others. */
const CHAT_TEXTS = ['content', 'refusal', 'reasoning_content', 'reasoning'];

/** In a translated stream, the reasoning, from whichever field carries it (as the translators read it). */
const REASONING = 'reasoning';

function reasoningOf(delta: JsonRecord): string {
  for (const key of ['reasoning_content', 'reasoning']) {
    const text = delta[key];
    if (typeof text === 'string' && text !== '') return text;
  }
  return '';
}

/** The running texts of one choice of a stream: by field, and by tool call index. */
class ChoiceTexts {
  readonly fields = new Map<string, TextMasker>();
  readonly calls = new Map<number, TextMasker>();

  constructor(private readonly key: string) {}

  field(name: string): TextMasker {
    let masker = this.fields.get(name);
    if (masker === undefined) this.fields.set(name, (masker = new TextMasker(this.key)));
    return masker;
  }

  call(index: number): TextMasker {
    let masker = this.calls.get(index);
    if (masker === undefined) this.calls.set(index, (masker = new TextMasker(this.key)));
    return masker;
  }

  holding(): boolean {
    for (const masker of this.fields.values()) if (masker.holding) return true;
    for (const masker of this.calls.values()) if (masker.holding) return true;
    return false;
  }
}

/** A copy of a chunk down to the objects that hold its texts; the token ids and logprobs are shared, never written. */
function copyTexts(chunk: JsonRecord): JsonRecord {
  const choices = (chunk.choices as JsonValue[]).map((choice) => {
    if (!isRecord(choice)) return choice;
    const copy = { ...choice };
    if (isRecord(choice.delta)) {
      const delta = { ...choice.delta };
      if (Array.isArray(delta.tool_calls)) delta.tool_calls = delta.tool_calls.map((call) => (isRecord(call) && isRecord(call.function) ? { ...call, function: { ...call.function } } : isRecord(call) ? { ...call } : call));
      copy.delta = delta;
    }
    return copy;
  });
  return { ...chunk, choices };
}

/** A chunk copied on its first change only: the engine's chunk is what is recorded, and stays as it came. */
class Draft {
  private copy: JsonRecord | null = null;

  constructor(private readonly chunk: JsonRecord) {}

  choice(i: number): JsonRecord {
    this.copy ??= copyTexts(this.chunk);
    return (this.copy.choices as JsonRecord[])[i] as JsonRecord;
  }

  delta(i: number): JsonRecord {
    const choice = this.choice(i);
    return isRecord(choice.delta) ? choice.delta : (choice.delta = {});
  }

  /** The function of the tool call at `j` in the delta of choice `i`. */
  function(i: number, j: number): JsonRecord {
    const call = (this.delta(i).tool_calls as JsonRecord[])[j] as JsonRecord;
    return isRecord(call.function) ? call.function : (call.function = {});
  }

  get result(): JsonRecord {
    return this.copy ?? this.chunk;
  }
}

export interface ChunkMaskerOptions {
  /** `/v1/completions` chunks (each choice's `text`) rather than chat chunks (each choice's `delta`). */
  completions: boolean;
  /**
   * The chunks are translated into content blocks (Responses items, Anthropic blocks): a block
   * ends where text of another field begins, so what it holds goes out before that, and only the
   * first choice counts, as the translators read them. Without (chat and completions clients),
   * each text field of each choice runs to the choice's finish, as the client joins it.
   */
  blocks: boolean;
}

/**
 * The gateway's key masked in a streamed answer's texts across its events (`scrubRelayed` masks
 * it within each event): every text of every choice has its own TextMasker, and held text moves
 * to the chunk that completes or refutes it, to the choice's finish chunk, or, at the stream's
 * end, to a chunk of its own (`end`). Token ids and logprobs are never changed.
 */
export class ChunkMasker {
  private readonly choices = new Map<number, ChoiceTexts>();
  /** In blocks mode, the text the translator has open: a field, or a tool call's index. */
  private open: string | number | null = null;
  /** The last chunk seen, whose id, object, created and model a chunk of held text repeats. */
  private last: JsonRecord | null = null;

  constructor(
    private readonly key: string,
    private readonly options: ChunkMaskerOptions,
  ) {}

  /** What to relay in place of an upstream chunk: nearly always the chunk itself; a changed copy where text is held, released or masked. */
  mask(chunk: JsonRecord): JsonRecord[] {
    this.last = chunk;
    const choices = chunk.choices;
    if (!Array.isArray(choices) || choices.length === 0) return [chunk];
    return this.options.blocks ? this.maskBlocks(chunk, choices) : [this.maskTexts(chunk, choices)];
  }

  /** At the stream's end, however it ends: a chunk carrying whatever is still held, or null. */
  end(): JsonRecord | null {
    this.open = null;
    const choices: JsonRecord[] = [];
    for (const [index, texts] of this.choices) {
      if (!texts.holding()) continue;
      const choice: JsonRecord = this.options.completions ? { index, text: '', logprobs: null, finish_reason: null } : { index, delta: {}, logprobs: null, finish_reason: null };
      this.release(texts, this.options.completions ? choice : (choice.delta as JsonRecord));
      choices.push(choice);
    }
    if (choices.length === 0) return null;
    const chunk: JsonRecord = {};
    for (const key of ['id', 'object', 'created', 'model']) {
      const value = this.last?.[key];
      if (value !== undefined) chunk[key] = value;
    }
    chunk.choices = choices;
    return chunk;
  }

  private textsOf(index: number): ChoiceTexts {
    let texts = this.choices.get(index);
    if (texts === undefined) this.choices.set(index, (texts = new ChoiceTexts(this.key)));
    return texts;
  }

  /** Chat and completions clients: each field of each choice, and each tool call's arguments, is one text until the choice finishes. */
  private maskTexts(chunk: JsonRecord, choices: JsonValue[]): JsonRecord {
    const draft = new Draft(chunk);
    for (let i = 0; i < choices.length; i++) {
      const choice = choices[i];
      if (!isRecord(choice)) continue;
      const texts = this.textsOf(typeof choice.index === 'number' ? choice.index : i);
      if (this.options.completions) {
        const text = choice.text;
        if (typeof text === 'string' && text !== '') {
          const out = texts.field('text').push(text);
          if (out !== text) draft.choice(i).text = out;
        }
      } else if (isRecord(choice.delta)) {
        const delta = choice.delta;
        for (const field of CHAT_TEXTS) {
          const text = delta[field];
          if (typeof text !== 'string' || text === '') continue;
          const out = texts.field(field).push(text);
          if (out !== text) draft.delta(i)[field] = out;
        }
        const calls = delta.tool_calls;
        if (Array.isArray(calls)) {
          for (let j = 0; j < calls.length; j++) {
            const call = calls[j];
            if (!isRecord(call) || !isRecord(call.function)) continue;
            const text = call.function.arguments;
            if (typeof text !== 'string' || text === '') continue;
            const out = texts.call(typeof call.index === 'number' ? call.index : j).push(text);
            if (out !== text) draft.function(i, j).arguments = out;
          }
        }
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined && texts.holding()) this.release(texts, this.options.completions ? draft.choice(i) : draft.delta(i));
    }
    return draft.result;
  }

  /**
   * Responses and Anthropic clients: the translators read the first choice's reasoning, then its
   * text, then each tool call, and open a new block wherever the kind (or the call) changes. A
   * text held at such a change goes out first, in a chunk of its own, so each block keeps its own
   * text and the blocks their order.
   */
  private maskBlocks(chunk: JsonRecord, choices: JsonValue[]): JsonRecord[] {
    const choice = choices[0];
    if (!isRecord(choice)) return [chunk];
    const texts = this.textsOf(0);
    const delta = isRecord(choice.delta) ? choice.delta : {};
    const pieces: { key: string | number; text: string; at: number }[] = [];
    const reasoning = reasoningOf(delta);
    if (reasoning !== '') pieces.push({ key: REASONING, text: reasoning, at: -1 });
    if (typeof delta.content === 'string' && delta.content !== '') pieces.push({ key: 'content', text: delta.content, at: -1 });
    if (Array.isArray(delta.tool_calls)) {
      delta.tool_calls.forEach((call, at) => {
        if (!isRecord(call)) return;
        const text = isRecord(call.function) && typeof call.function.arguments === 'string' ? call.function.arguments : '';
        pieces.push({ key: typeof call.index === 'number' ? call.index : 0, text, at });
      });
    }
    const draft = new Draft(chunk);
    let before: JsonRecord | null = null;
    for (let n = 0; n < pieces.length; n++) {
      const { key, text, at } = pieces[n] as (typeof pieces)[number];
      if (key !== this.open) {
        // The translator closes the open block here: what it held goes out just before.
        if (n === 0 && texts.holding()) before = this.end();
        this.open = key;
      }
      const masker = typeof key === 'number' ? texts.call(key) : texts.field(key);
      let out = masker.push(text);
      // Another piece follows in this chunk: this block ends within it.
      if (n < pieces.length - 1) out += masker.flush();
      if (out === text) continue;
      if (typeof key === 'number') draft.function(0, at).arguments = out;
      else this.write(draft.delta(0), key, out);
    }
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
      if (texts.holding()) this.release(texts, draft.delta(0));
      this.open = null;
    }
    return before === null ? [draft.result] : [before, draft.result];
  }

  /** Appends every text `texts` holds to where it belongs in `target` (a delta, or a completions choice). */
  private release(texts: ChoiceTexts, target: JsonRecord): void {
    for (const [field, masker] of texts.fields) {
      const held = masker.flush();
      if (held !== '') this.write(target, field, this.read(target, field) + held);
    }
    for (const [index, masker] of texts.calls) {
      const held = masker.flush();
      if (held === '') continue;
      const calls = Array.isArray(target.tool_calls) ? target.tool_calls : (target.tool_calls = []);
      const call = calls.find((item) => isRecord(item) && item.index === index);
      if (!isRecord(call)) {
        calls.push({ index, function: { arguments: held } });
        continue;
      }
      const fn = isRecord(call.function) ? call.function : (call.function = {});
      fn.arguments = (typeof fn.arguments === 'string' ? fn.arguments : '') + held;
    }
  }

  private read(target: JsonRecord, field: string): string {
    if (this.options.blocks && field === REASONING) return reasoningOf(target);
    const text = target[field];
    return typeof text === 'string' ? text : '';
  }

  private write(target: JsonRecord, field: string, text: string): void {
    if (this.options.blocks && field === REASONING) {
      // One field, so that an emptied one does not let the translator read the other.
      target.reasoning_content = text;
      delete target.reasoning;
    } else target[field] = text;
  }
}
