// Chat-completion stream chunks, already parsed (the gateway parses each once, to answer the
// client), joined into the body a non-streamed request would have returned, by the rules of the
// model module's stream reader (src/model/openai-stream.ts), which reads event text instead: the
// message's text fields concatenated, list items continued by their index, token ids and logprob
// lists joined, finish and stop reasons and usage the last non-null, everything else the first.
import type { JsonObject, JsonValue } from '../../core/index.ts';
import type { Assembly } from './api.ts';

type JsonRecord = { [key: string]: JsonValue };

const MESSAGE_TEXT = new Set(['content', 'refusal', 'reasoning', 'reasoning_content']);
/** List fields of a message, and the item field that streams as string pieces. */
const MESSAGE_LISTS: Record<string, string[]> = { tool_calls: ['function', 'arguments'], reasoning_details: ['text'] };
const CHOICE_LAST = new Set(['finish_reason', 'stop_reason', 'matched_stop', 'meta_info']);

function isRecord(value: JsonValue | undefined): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * JSON.parse makes `"__proto__"` an own key; merging it would read `Object.prototype` as the
 * current value and write the upstream's fields into it, for the whole process. It is left out.
 */
const PROTO = '__proto__';

export class ChatAssembly implements Assembly {
  private readonly top: JsonObject = {};
  private readonly choice: JsonObject = {};
  private readonly message: JsonObject = {};

  push(chunk: JsonRecord): void {
    for (const key in chunk) {
      if (key === PROTO) continue;
      const value = chunk[key] as JsonValue;
      if (key === 'choices') {
        this.top.choices ??= [];
        if (!Array.isArray(value)) continue;
        for (const choice of value) if (isRecord(choice) && (choice.index ?? 0) === 0) this.mergeChoice(choice);
      } else if (key === 'object') this.top.object ??= value === 'chat.completion.chunk' ? 'chat.completion' : value;
      else if (key === 'usage') {
        if (value !== null || !('usage' in this.top)) this.top.usage = value;
      } else if (this.top[key] === undefined || this.top[key] === null) this.top[key] = value;
    }
  }

  body(): JsonRecord {
    const body: JsonRecord = { ...this.top };
    if ('choices' in body) body.choices = 'message' in this.choice ? [this.choice] : [];
    return body;
  }

  private mergeChoice(chunk: JsonRecord): void {
    for (const key in chunk) {
      if (key === PROTO) continue;
      const value = chunk[key] as JsonValue;
      if (key === 'delta' || key === 'message') {
        this.choice.message = this.message;
        if (isRecord(value)) this.mergeDelta(value);
      } else if (key === 'token_ids') {
        const ids = this.choice.token_ids;
        if (Array.isArray(value)) {
          if (Array.isArray(ids)) for (const id of value) ids.push(id);
          else this.choice.token_ids = [...value];
        } else if (!('token_ids' in this.choice)) this.choice.token_ids = value;
      } else if (key === 'logprobs') {
        this.joinLogprobs(value);
      } else if (CHOICE_LAST.has(key) ? value !== null || !(key in this.choice) : this.choice[key] === undefined || this.choice[key] === null) {
        this.choice[key] = value;
      }
    }
  }

  /** Per-token logprob entries arrive with their tokens; the lists (owned copies) are extended in place. */
  private joinLogprobs(next: JsonValue): void {
    if (!isRecord(next)) {
      if (this.choice.logprobs === undefined) this.choice.logprobs = next;
      return;
    }
    let current = this.choice.logprobs;
    if (!isRecord(current)) this.choice.logprobs = current = {};
    for (const key in next) {
      if (key === PROTO) continue;
      const value = next[key] as JsonValue;
      const existing = current[key];
      if (Array.isArray(value) && Array.isArray(existing)) for (const entry of value) existing.push(entry);
      else if (existing === undefined || existing === null) current[key] = Array.isArray(value) ? [...value] : value;
    }
  }

  private mergeDelta(delta: JsonRecord): void {
    const message = this.message;
    for (const key in delta) {
      if (key === PROTO) continue;
      const value = delta[key] as JsonValue;
      const current = message[key];
      const path = MESSAGE_LISTS[key];
      if (path && Array.isArray(value)) message[key] = mergeItems(Array.isArray(current) ? current : [], value, path);
      else if (MESSAGE_TEXT.has(key) && typeof value === 'string') message[key] = typeof current === 'string' ? current + value : value;
      else if (isRecord(value) && isRecord(current)) mergeFields(current, value, []);
      else if (current === undefined || current === null) message[key] = isRecord(value) ? structuredCopy(value) : value;
    }
  }
}

/** Continues each delta item into the item with its `index` (else `id`), or appends a copy. */
function mergeItems(items: JsonValue[], deltas: readonly JsonValue[], textPath: readonly string[]): JsonValue[] {
  for (const [position, delta] of deltas.entries()) {
    if (!isRecord(delta)) continue;
    const target = items.find((item) => isRecord(item) && sameItem(item, delta)) ?? (delta.index === undefined && delta.id === undefined ? items[position] : undefined);
    if (isRecord(target)) mergeFields(target, delta, textPath);
    else items.push(structuredCopy(delta));
  }
  return items;
}

function sameItem(item: JsonRecord, delta: JsonRecord): boolean {
  if (typeof delta.index === 'number') return item.index === delta.index;
  return typeof delta.id === 'string' && delta.id !== '' && item.id === delta.id;
}

function mergeFields(target: JsonRecord, delta: JsonRecord, textPath: readonly string[]): void {
  for (const key in delta) {
    if (key === PROTO) continue;
    const value = delta[key] as JsonValue;
    const current = target[key];
    const here = textPath[0] === key;
    if (here && textPath.length === 1 && typeof value === 'string') target[key] = typeof current === 'string' ? current + value : value;
    else if (isRecord(value) && isRecord(current)) mergeFields(current, value, here ? textPath.slice(1) : []);
    else if (current === undefined || current === null || current === '') target[key] = isRecord(value) ? structuredCopy(value) : value;
  }
}

function structuredCopy(value: JsonRecord): JsonRecord {
  const copy: JsonRecord = {};
  for (const key in value) {
    if (key === PROTO) continue;
    const item = value[key] as JsonValue;
    copy[key] = isRecord(item) ? structuredCopy(item) : item;
  }
  return copy;
}
