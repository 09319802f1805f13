// How the mock model server streams: a finished response cut into the SSE events a real server
// would send. Strings go out in small pieces (tool arguments split mid-token, MiniMax
// reasoning_details text incrementally), so clients are tested on real reassembly. The first
// delta names every field of the message in its order, which lets a faithful client rebuild the
// non-streamed message byte for byte.
import type { JsonObject, JsonValue } from '../core/index.ts';
import { isObject } from './http.ts';

/** Code points per streamed piece. */
const PIECE = 12;
const CHAT_TEXT = new Set(['content', 'refusal', 'reasoning', 'reasoning_content']);

/** `text` in pieces of PIECE code points; '' stays one empty piece. */
export function pieces(text: string): string[] {
  const points = Array.from(text);
  if (points.length === 0) return [''];
  const out: string[] = [];
  for (let i = 0; i < points.length; i += PIECE) out.push(points.slice(i, i + PIECE).join(''));
  return out;
}

export function sse(data: JsonValue | string, event?: string): string {
  return `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

/** A chat completion as `chat.completion.chunk` events, a usage chunk when asked for, then `[DONE]`. */
export function chatCompletionEvents(completion: JsonObject, options: { includeUsage: boolean }): string[] {
  const { choices, usage, ...top } = completion;
  const choice = Array.isArray(choices) && isObject(choices[0]) ? choices[0] : {};
  const head: JsonObject = { ...top, object: 'chat.completion.chunk' };
  const chunk = (delta: JsonObject, finish: JsonValue = null): string =>
    sse({ ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  const events = messageDeltas(isObject(choice.message) ? choice.message : {}).map((delta) => chunk(delta));
  events.push(chunk({}, choice.finish_reason ?? 'stop'));
  if (options.includeUsage && usage !== undefined) events.push(sse({ ...head, choices: [], usage }));
  events.push(sse('[DONE]'));
  return events;
}

/** The deltas of one assistant message: every field in the first (strings as their first piece), the rest piece by piece. */
function messageDeltas(message: JsonObject): JsonObject[] {
  const first: JsonObject = {};
  const rest = new Map<string, JsonObject[]>();
  for (const [key, value] of Object.entries(message)) {
    if (CHAT_TEXT.has(key) && typeof value === 'string') {
      const [head = '', ...tail] = pieces(value);
      first[key] = head;
      rest.set(key, tail.map((piece) => ({ [key]: piece })));
    } else if ((key === 'tool_calls' || key === 'reasoning_details') && Array.isArray(value)) {
      const path = key === 'tool_calls' ? ['function', 'arguments'] : ['text'];
      const continued: JsonObject[] = [];
      first[key] = value.map((item) => {
        const split = splitItem(item, path);
        continued.push(...split.tail.map((piece): JsonObject => ({ [key]: [{ ...split.key, ...(replaceAt({}, path, piece) as JsonObject) }] })));
        return split.head;
      });
      rest.set(key, continued);
    } else {
      first[key] = value;
    }
  }
  // Thinking streams before the answer, and tool calls come last, as a model writes them.
  const order = ['reasoning_details', 'reasoning_content', 'reasoning', 'content', 'refusal', 'tool_calls'];
  return [first, ...order.flatMap((key) => rest.get(key) ?? [])];
}

/** An item with the string at `path` cut to its first piece; the rest is continued under the item's `index` or `id`. */
function splitItem(item: JsonValue, path: string[]): { head: JsonValue; tail: string[]; key: JsonObject | null } {
  let key: JsonObject | null = null;
  if (isObject(item) && typeof item.index === 'number') key = { index: item.index };
  else if (isObject(item) && typeof item.id === 'string') key = { id: item.id };
  const text = valueAt(item, path);
  if (!key || typeof text !== 'string') return { head: item, tail: [], key: null };
  const [head = '', ...tail] = pieces(text);
  return { head: replaceAt(item, path, head), tail, key };
}

function valueAt(value: JsonValue, path: string[]): JsonValue | undefined {
  let current: JsonValue | undefined = value;
  for (const step of path) current = isObject(current) ? current[step] : undefined;
  return current;
}

function replaceAt(value: JsonValue, path: string[], replacement: JsonValue): JsonValue {
  const [step, ...rest] = path;
  if (step === undefined) return replacement;
  const record = isObject(value) ? value : {};
  return { ...record, [step]: replaceAt(record[step] ?? {}, rest, replacement) };
}

const BLOCK_TEXT: Record<string, string> = { text: 'text_delta', thinking: 'thinking_delta', signature: 'signature_delta' };

/** An Anthropic message as message_start, a ping, each block's start/deltas/stop, message_delta and message_stop. */
export function messageEvents(message: JsonObject): string[] {
  const usage = isObject(message.usage) ? message.usage : {};
  const start: JsonObject = {};
  for (const [key, value] of Object.entries(message)) {
    if (key === 'content') start[key] = [];
    else if (key === 'stop_reason' || key === 'stop_sequence') start[key] = null;
    else if (key === 'usage') start[key] = { ...usage, output_tokens: 0 };
    else start[key] = value;
  }
  const events = [sse({ type: 'message_start', message: start }, 'message_start'), sse({ type: 'ping' }, 'ping')];
  const blocks = Array.isArray(message.content) ? message.content : [];
  for (const [index, block] of blocks.entries()) events.push(...blockEvents(index, isObject(block) ? block : {}));
  const delta = { stop_reason: message.stop_reason ?? null, stop_sequence: message.stop_sequence ?? null };
  events.push(sse({ type: 'message_delta', delta, usage: { output_tokens: usage.output_tokens ?? 0 } }, 'message_delta'));
  events.push(sse({ type: 'message_stop' }, 'message_stop'));
  return events;
}

function blockEvents(index: number, block: JsonObject): string[] {
  const start: JsonObject = {};
  const deltas: JsonObject[] = [];
  for (const [key, value] of Object.entries(block)) {
    const type = BLOCK_TEXT[key];
    if (type && typeof value === 'string' && block.type !== 'redacted_thinking') {
      start[key] = '';
      // A signature arrives whole, just before the block stops.
      const parts = key === 'signature' ? [value] : pieces(value).filter((piece) => piece !== '');
      deltas.push(...parts.map((piece) => ({ type, [key]: piece })));
    } else if (key === 'input' && block.type === 'tool_use') {
      start[key] = {};
      deltas.push(...pieces(JSON.stringify(value)).map((piece) => ({ type: 'input_json_delta', partial_json: piece })));
    } else {
      start[key] = value;
    }
  }
  return [
    sse({ type: 'content_block_start', index, content_block: start }, 'content_block_start'),
    ...deltas.map((delta) => sse({ type: 'content_block_delta', index, delta }, 'content_block_delta')),
    sse({ type: 'content_block_stop', index }, 'content_block_stop'),
  ];
}
