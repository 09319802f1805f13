// Messages API events (message_start, content_block_start/delta/stop, message_delta, message_stop)
// back into the message a non-streamed request returns: the same content blocks, in the same key
// order, thinking with its signature, tool_use with its input parsed from the streamed JSON text.
import type { JsonObject, JsonValue } from '../core/index.ts';
import { isObject } from './http.ts';
import { describe } from './openai-parse.ts';
import type { SseEvent } from './sse.ts';
import { errorEventFailure, eventJson, type StreamAssembler, type StreamStep } from './stream.ts';

type Block = { [key: string]: JsonValue };

/** The block field each text-like delta extends (the delta carries it under the same name). */
const DELTA_FIELDS: Record<string, string> = { text_delta: 'text', thinking_delta: 'thinking', signature_delta: 'signature' };

export function anthropicMessagesStream(): StreamAssembler {
  return new MessagesStream();
}

class MessagesStream implements StreamAssembler {
  readonly terminal = 'event: message_stop';
  private message: JsonObject = {};
  /**
   * Blocks by their index. A Map, not an array: an index of 4e9 made an array that body() walked
   * for minutes, and one past 2^32 was no array index at all, so its block was silently dropped.
   */
  private readonly blocks = new Map<number, Block>();
  /** Whether blocks started out of index order, so body() must sort them. */
  private unordered = false;
  private highest = -1;
  /** Streamed `input` JSON text per block index, parsed when the block stops. */
  private readonly inputText = new Map<number, string>();

  push(event: SseEvent): StreamStep {
    if (event.data.trim() === '') return 'more';
    const parsed = eventJson(event);
    if (!parsed.ok) return parsed.failure;
    const data = parsed.json;
    if (!isObject(data)) return malformed(`expected each event to be a JSON object, got ${describe(data)}`);
    const type = typeof data.type === 'string' ? data.type : event.event;
    switch (type) {
      case 'message_start':
        if (!isObject(data.message)) return malformed(`message_start: expected a message object, got ${describe(data.message)}`);
        this.message = { ...data.message };
        for (const [index, block] of (Array.isArray(data.message.content) ? data.message.content : []).entries()) if (isObject(block)) this.setBlock(index, { ...block });
        return 'more';
      case 'content_block_start':
        return this.start(data);
      case 'content_block_delta':
        return this.delta(data);
      case 'content_block_stop':
        return this.stop(data.index);
      case 'message_delta':
        if (isObject(data.delta)) Object.assign(this.message, data.delta);
        if (isObject(data.usage)) this.message.usage = { ...(isObject(this.message.usage) ? this.message.usage : {}), ...data.usage };
        return 'more';
      case 'message_stop':
        return this.finish();
      case 'error':
        return errorEventFailure(data.error ?? data);
      default:
        // `ping`, and event types added later: the API's versioning policy says to skip them.
        return 'more';
    }
  }

  body(): JsonObject {
    const body: JsonObject = { ...this.message };
    body.content = this.unordered ? [...this.blocks.entries()].sort((a, b) => a[0] - b[0]).map((entry) => entry[1]) : [...this.blocks.values()];
    return body;
  }

  private setBlock(index: number, block: Block): void {
    if (!this.blocks.has(index)) {
      if (index < this.highest) this.unordered = true;
      else this.highest = index;
    }
    this.blocks.set(index, block);
  }

  private start(data: Block): StreamStep {
    const index = data.index;
    if (!isIndex(index) || !isObject(data.content_block)) return malformed(`content_block_start: expected an index and a content_block, got ${JSON.stringify(data).slice(0, 200)}`);
    this.setBlock(index, { ...data.content_block });
    return 'more';
  }

  private delta(data: Block): StreamStep {
    const index = data.index;
    const block = isIndex(index) ? this.blocks.get(index) : undefined;
    if (!isIndex(index) || !block) return malformed(`content_block_delta for block ${JSON.stringify(index)}, which has not started`);
    const delta = data.delta;
    if (!isObject(delta) || typeof delta.type !== 'string') return malformed(`content_block_delta ${index}: expected a typed delta, got ${describe(delta)}`);
    const field = DELTA_FIELDS[delta.type];
    if (field) {
      const piece = delta[field];
      if (typeof piece !== 'string') return malformed(`content_block_delta ${index}: ${delta.type} without a ${field} string`);
      const current = block[field];
      block[field] = typeof current === 'string' ? current + piece : piece;
    } else if (delta.type === 'input_json_delta') {
      if (typeof delta.partial_json !== 'string') return malformed(`content_block_delta ${index}: input_json_delta without a partial_json string`);
      this.inputText.set(index, (this.inputText.get(index) ?? '') + delta.partial_json);
    } else if (delta.type === 'citations_delta') {
      block.citations = [...(Array.isArray(block.citations) ? block.citations : []), delta.citation ?? null];
    } else {
      // Dropping a delta would silently lose part of the turn; better to fail loudly and be taught it.
      return malformed(`content_block_delta ${index}: unknown delta type '${delta.type}'`);
    }
    return 'more';
  }

  private stop(index: JsonValue | undefined): StreamStep {
    if (!isIndex(index)) return malformed(`content_block_stop: expected an index, got ${describe(index)}`);
    const text = this.inputText.get(index);
    const block = this.blocks.get(index);
    if (text === undefined || !block) return 'more';
    this.inputText.delete(index);
    // An empty stream of input JSON means the `input` of content_block_start ({}) stands.
    if (text.trim() === '') return 'more';
    // The input is the model's own text, passed through: one that is not a JSON object is the
    // model's mistake, and since the API would refuse the turn sent back, it ends the rollout.
    let input: JsonValue;
    try {
      input = JSON.parse(text) as JsonValue;
    } catch (_error) {
      return unusable(`content block ${index} (${String(block.type)}): the model's streamed tool input is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
    }
    if (!isObject(input)) return unusable(`content block ${index} (${String(block.type)}): the model's streamed tool input is ${describe(input)}, not a JSON object`);
    block.input = input;
    return 'more';
  }

  private finish(): StreamStep {
    for (const index of [...this.inputText.keys()]) {
      const step = this.stop(index);
      if (step !== 'more') return step;
    }
    return 'done';
  }
}

function isIndex(value: JsonValue | undefined): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function unusable(message: string): StreamStep {
  return { kind: 'unusable_output', message, retryable: false };
}

function malformed(message: string): StreamStep {
  return { kind: 'malformed_response', message, retryable: false };
}
