// Chat-completion chunks (`data: {…choices[0].delta…}` … `data: [DONE]`) back into the body a
// non-streamed request would have returned, so the same parser reads both and the assistant
// message resent on later turns is the same either way.
//
// Merging rules. Every field a delta carries is kept, in the order it first appeared. The fields
// that stream as pieces of one string are concatenated: content, refusal, reasoning,
// reasoning_content, tool_calls[i].function.arguments and reasoning_details[i].text (incremental
// on MiniMax, whatever its docs show). List items are continued by their `index` (else their `id`)
// and keep it, as SGLang's and MiniMax's non-streamed messages do. Any other field keeps its first
// non-null value (MiniMax repeats `role` and `name` in every chunk). Engine token ids and logprobs
// are concatenated; `usage` and finish reasons take their last non-null value.
import type { JsonObject, JsonValue } from '../core/index.ts';
import { isObject } from './http.ts';
import { baseRespFailure, describe } from './openai-parse.ts';
import type { SseEvent } from './sse.ts';
import { errorEventFailure, eventJson, type StreamAssembler, type StreamStep } from './stream.ts';

/** Message fields whose deltas are pieces of one string. */
const MESSAGE_TEXT = new Set(['content', 'refusal', 'reasoning', 'reasoning_content']);
/** List fields of a message, and the paths inside an item that stream as string pieces. */
const MESSAGE_LISTS: Record<string, ReadonlySet<string>> = {
  tool_calls: new Set(['function.arguments']),
  reasoning_details: new Set(['text']),
};
/** Choice fields that take their last non-null value; other choice fields keep their first. */
const CHOICE_LAST = new Set(['finish_reason', 'stop_reason', 'matched_stop', 'meta_info']);

export function openAIChatStream(): StreamAssembler {
  return new ChatStream();
}

class ChatStream implements StreamAssembler {
  readonly terminal = 'data: [DONE]';
  private readonly top: JsonObject = {};
  private readonly choice: JsonObject = {};
  private readonly message: JsonObject = {};
  /** Streamed list items by their `index`, per list field: a find over every item per delta made 10,000 tool calls take seconds. */
  private lists: Map<string, Map<number, JsonObject>> | undefined;

  push(event: SseEvent): StreamStep {
    const data = event.data.trim();
    if (data === '[DONE]') return 'done';
    if (data === '') return 'more';
    const parsed = eventJson(event);
    if (!parsed.ok) return parsed.failure;
    const chunk = parsed.json;
    if (!isObject(chunk)) return malformed(`expected each event to be a JSON object, got ${describe(chunk)}`);
    if (event.event === 'error' || (chunk.error !== undefined && chunk.error !== null)) return errorEventFailure(chunk.error ?? chunk);
    const status = baseRespFailure(chunk);
    if (status) return status;
    for (const [key, value] of Object.entries(chunk)) {
      if (key === 'choices') {
        if (!Array.isArray(value)) return malformed(`expected choices to be an array, got ${describe(value)}`);
        this.top.choices ??= [];
        const first = value.find((choice) => isObject(choice) && (choice.index ?? 0) === 0);
        if (isObject(first)) this.mergeChoice(first);
      } else if (key === 'object') {
        this.top.object ??= value === 'chat.completion.chunk' ? 'chat.completion' : value;
      } else if (key === 'usage') {
        if (value !== null || !('usage' in this.top)) this.top.usage = value;
      } else if (this.top[key] === undefined || this.top[key] === null) {
        this.top[key] = value;
      }
    }
    return 'more';
  }

  body(): JsonObject {
    const body: JsonObject = { ...this.top };
    if ('choices' in body) body.choices = 'message' in this.choice ? [this.choice] : [];
    return body;
  }

  private mergeChoice(chunk: { [key: string]: JsonValue }): void {
    // A server that sends whole messages instead of deltas is read the same way.
    const delta = isObject(chunk.delta) ? chunk.delta : isObject(chunk.message) ? chunk.message : undefined;
    for (const [key, value] of Object.entries(chunk)) {
      if (key === 'delta' || key === 'message') {
        this.choice.message = this.message;
        if (delta && value === delta) this.mergeDelta(delta);
      } else if (key === 'token_ids') {
        // Appended in place: copying the list on every chunk made a long stream quadratic.
        const ids = Array.isArray(this.choice.token_ids) ? this.choice.token_ids : (this.choice.token_ids = []);
        if (Array.isArray(value)) append(ids, value);
      } else if (key === 'logprobs') {
        this.choice.logprobs = mergeLogprobs(this.choice.logprobs, value);
      } else if (CHOICE_LAST.has(key) ? value !== null || !(key in this.choice) : this.choice[key] === undefined || this.choice[key] === null) {
        this.choice[key] = value;
      }
    }
  }

  private mergeDelta(delta: { [key: string]: JsonValue }): void {
    const message = this.message;
    for (const [key, value] of Object.entries(delta)) {
      const current = message[key];
      const list = MESSAGE_LISTS[key];
      if (list && Array.isArray(value)) message[key] = mergeItems(Array.isArray(current) ? current : [], value, list, this.indexOf(key));
      else if (MESSAGE_TEXT.has(key) && typeof value === 'string') message[key] = typeof current === 'string' ? current + value : value;
      else if (isObject(value) && isObject(current)) mergeFields(current, value, new Set());
      else if (current === undefined || current === null) message[key] = value;
    }
  }

  private indexOf(list: string): Map<number, JsonObject> {
    this.lists ??= new Map();
    let index = this.lists.get(list);
    if (!index) this.lists.set(list, (index = new Map()));
    return index;
  }
}

/**
 * Continues each delta item into the item with its `index` (else `id`, else position), or appends
 * it. `byIndex` holds the first item of each numeric index, so the usual delta costs one lookup.
 */
function mergeItems(items: JsonValue[], deltas: JsonValue[], texts: ReadonlySet<string>, byIndex: Map<number, JsonObject>): JsonValue[] {
  for (const [position, delta] of deltas.entries()) {
    if (!isObject(delta)) continue;
    const target =
      typeof delta.index === 'number'
        ? byIndex.get(delta.index)
        : (items.find((item) => isObject(item) && sameItem(item, delta)) ?? (delta.index === undefined && delta.id === undefined ? items[position] : undefined));
    let merged: JsonObject;
    if (isObject(target)) {
      mergeFields(target, delta, texts);
      merged = target;
    } else {
      merged = { ...delta };
      items.push(merged);
    }
    // An item found by id or position may only now have learnt its index.
    if (typeof merged.index === 'number' && !byIndex.has(merged.index)) byIndex.set(merged.index, merged);
  }
  return items;
}

function sameItem(item: { [key: string]: JsonValue }, delta: { [key: string]: JsonValue }): boolean {
  if (typeof delta.index === 'number') return item.index === delta.index;
  return typeof delta.id === 'string' && delta.id !== '' && item.id === delta.id;
}

function mergeFields(target: { [key: string]: JsonValue }, delta: { [key: string]: JsonValue }, texts: ReadonlySet<string>, path = ''): void {
  for (const [key, value] of Object.entries(delta)) {
    const here = path ? `${path}.${key}` : key;
    const current = target[key];
    if (texts.has(here) && typeof value === 'string') target[key] = typeof current === 'string' ? current + value : value;
    else if (isObject(value) && isObject(current)) mergeFields(current, value, texts, here);
    else if (current === undefined || current === null || current === '') target[key] = isObject(value) ? { ...value } : value;
  }
}

/**
 * Per-token logprob entries arrive with their tokens; the lists are joined in place (the first
 * chunk's object and lists are copies of our own, so nothing received is changed).
 */
function mergeLogprobs(current: JsonValue | undefined, next: JsonValue): JsonValue {
  if (!isObject(next)) return current ?? next;
  if (!isObject(current)) {
    const copy: JsonObject = {};
    for (const [key, value] of Object.entries(next)) copy[key] = Array.isArray(value) ? value.slice() : value;
    return copy;
  }
  for (const [key, value] of Object.entries(next)) {
    const existing = current[key];
    if (Array.isArray(existing) && Array.isArray(value)) append(existing, value);
    else current[key] = existing ?? value;
  }
  return current;
}

/** Appends one by one: `push(...items)` overflows the stack on a long enough list. */
function append(target: JsonValue[], items: readonly JsonValue[]): void {
  for (const item of items) target.push(item);
}

function malformed(message: string): StreamStep {
  return { kind: 'malformed_response', message, retryable: false };
}
