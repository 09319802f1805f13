// `/v1/chat/completions`: passed through to the upstream with the capture fields added, answered
// with what the upstream said minus what the gateway added.
import { InputError, type JsonObject, type JsonValue } from '../../core/index.ts';
import { parseChatCompletion } from '../../model/index.ts';
import { dataEvent, PassthroughTranslator, type ClientApiHandler, type Prepared, type UpstreamKind } from './api.ts';
import { ChatAssembly } from './chat-assembly.ts';
import { askedOfChat, chatCaptureFields, stripChat, toVllmShape } from './capture.ts';
import { neutralChatRequest } from './neutral.ts';

type JsonRecord = { [key: string]: JsonValue };

function isRecord(value: JsonValue | undefined): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The chat-completions upstream route, whatever API the client spoke. */
export const chatKind: UpstreamKind = {
  path: '/chat/completions',
  captureFields: (engine) => chatCaptureFields(engine),
  assembly: () => new ChatAssembly(),
  parse: parseChatCompletion,
  chunksOf: chatChunksOf,
};

const REASONING_FIRST = ['reasoning_content', 'reasoning', 'reasoning_details'];

/**
 * A whole chat completion as the chunks a stream would have carried: the role (with the prompt
 * ids), then the message's fields as one delta each, the finish reason with the completion ids and
 * logprobs, then usage. For engines that report ids only without streaming (SGLang's chat).
 */
export function chatChunksOf(body: JsonRecord): JsonRecord[] {
  const base: JsonRecord = { id: body.id ?? null, object: 'chat.completion.chunk', created: body.created ?? null, model: body.model ?? null };
  const choice = Array.isArray(body.choices) && isRecord(body.choices[0]) ? body.choices[0] : {};
  const message = isRecord(choice.message) ? choice.message : {};
  const index = choice.index ?? 0;
  const chunks: JsonRecord[] = [];
  const first: JsonRecord = { ...base, choices: [{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] };
  if (body.prompt_token_ids !== undefined) first.prompt_token_ids = body.prompt_token_ids;
  const firstChoice = (first.choices as JsonRecord[])[0] as JsonRecord;
  if (choice.prompt_token_ids !== undefined) firstChoice.prompt_token_ids = choice.prompt_token_ids;
  chunks.push(first);
  // In the order a model writes them: reasoning, then text, then tool calls.
  const order = (key: string): number => (REASONING_FIRST.includes(key) ? 0 : key === 'tool_calls' ? 2 : 1);
  const fields = Object.entries(message).sort(([a], [b]) => order(a) - order(b));
  for (const [key, value] of fields) {
    if (key === 'role' || value === null || value === '' || (Array.isArray(value) && value.length === 0)) continue;
    const delta = key === 'tool_calls' && Array.isArray(value) ? value.map((call, i) => (isRecord(call) ? { index: i, ...call } : call)) : value;
    chunks.push({ ...base, choices: [{ index, delta: { [key]: delta }, logprobs: null, finish_reason: null }] });
  }
  const last: JsonRecord = { index, delta: {}, logprobs: choice.logprobs ?? null, finish_reason: choice.finish_reason ?? null };
  for (const key of ['stop_reason', 'token_ids', 'matched_stop', 'meta_info']) if (choice[key] !== undefined) last[key] = choice[key] as JsonValue;
  chunks.push({ ...base, choices: [last] });
  if (body.usage !== undefined && body.usage !== null) chunks.push({ ...base, choices: [], usage: body.usage });
  return chunks;
}

/**
 * JSON.stringify for the chunks of one stream, which repeat their id, object, created time and
 * model in every chunk: a member whose value is the same as in the chunk before keeps the text it
 * was written as (most of the cost of writing a stripped chunk).
 */
export class ChunkWriter {
  private readonly members = new Map<string, { value: JsonValue; text: string }>();

  write(chunk: JsonRecord): string {
    let out = '';
    for (const key in chunk) {
      const value = chunk[key];
      // As JSON.stringify leaves it out (JSON.parse never makes one).
      if (value === undefined) continue;
      let text: string;
      const known = value === null || typeof value !== 'object' ? this.members.get(key) : undefined;
      if (known !== undefined && known.value === value) text = known.text;
      else {
        text = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
        if (value === null || typeof value !== 'object') this.members.set(key, { value, text });
      }
      out = out === '' ? text : `${out},${text}`;
    }
    return `{${out}}`;
  }
}

/** Answers in the chat API: the upstream's own bytes when nothing needs removing. */
class ChatTranslator extends PassthroughTranslator {
  private readonly writer = new ChunkWriter();
  /** The last body shaped and its shape: the record of a whole answer reuses what the client was sent. */
  private shapedFrom: JsonRecord | null = null;
  private shapedTo: JsonRecord | null = null;

  protected shape(body: JsonRecord): JsonRecord | null {
    if (body === this.shapedFrom) return this.shapedTo;
    this.shapedFrom = body;
    this.shapedTo = this.options.tokens === 'expose' ? toVllmShape(body) : stripChat(body, this.asked, this.options.engine);
    return this.shapedTo;
  }

  chunk(json: JsonRecord, data: string): string {
    if (this.untouched) return dataEvent(data);
    const shaped = this.shape(json);
    return shaped ? dataEvent(this.writer.write(shaped)) : '';
  }
}

/** The client's chat body, checked where the gateway reads it (the upstream checks the rest). */
function checkChat(body: JsonRecord): void {
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw new InputError('messages', 'expected a non-empty array of messages');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw new InputError('stream', `got ${JSON.stringify(body.stream)}`, 'true or false');
  if (body.model !== undefined && typeof body.model !== 'string') throw new InputError('model', `got ${JSON.stringify(body.model)}`, 'a model name');
}

export const chatApi: ClientApiHandler = {
  api: 'chat',
  prepare(body): Prepared {
    checkChat(body);
    const asked = askedOfChat(body);
    return {
      api: 'chat',
      kind: chatKind,
      upstream: body as JsonObject,
      stream: body.stream === true,
      asked,
      model: typeof body.model === 'string' ? body.model : undefined,
      translator: (options) => new ChatTranslator(asked, options),
      neutral: (options) => neutralChatRequest(body as JsonObject, options),
    };
  },
};
