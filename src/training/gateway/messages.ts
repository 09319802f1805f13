// `/v1/messages` (Anthropic's Messages API), served through the upstream's chat completions:
// system, turns and content blocks become chat messages (thinking as reasoning, tool_use as tool
// calls, tool_result as tool messages); answers come back as content blocks, streamed as
// message_start / content_block_* / message_delta / message_stop events.
import { InputError, type JsonObject, type JsonValue } from '../../core/index.ts';
import { namedEvent, upstreamErrorMessage, type ClientApiHandler, type Prepared, type Translator } from './api.ts';
import { ASKED_NOTHING } from './capture.ts';
import { chatKind } from './chat.ts';
import { errorBody } from './http.ts';
import { neutralChatRequest } from './neutral.ts';

type JsonRecord = { [key: string]: JsonValue };

function isRecord(value: JsonValue | undefined): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Tool arguments that are not a JSON object cannot be an Anthropic `input`; they travel under this key, visibly. */
export const UNPARSED_ARGUMENTS_KEY = '_gauntlet_unparsed_arguments';

function blocksOf(content: JsonValue | undefined, where: string): JsonRecord[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw new InputError(where, 'expected a string or an array of content blocks');
  return content.map((block, i) => {
    if (!isRecord(block) || typeof block.type !== 'string') throw new InputError(`${where}[${i}]`, 'expected a content block with a type');
    return block;
  });
}

function textOfBlocks(content: JsonValue | undefined, where: string): string {
  if (content === undefined || content === null) return '';
  return blocksOf(content, where)
    .map((block, i) => {
      if (block.type === 'text' && typeof block.text === 'string') return block.text;
      throw new InputError(`${where}[${i}].type`, `got ${JSON.stringify(block.type)}`, 'text blocks');
    })
    .join('\n');
}

function imagePart(block: JsonRecord, where: string): JsonObject {
  const source = isRecord(block.source) ? block.source : {};
  if (source.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string') return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  if (source.type === 'url' && typeof source.url === 'string') return { type: 'image_url', image_url: { url: source.url } };
  throw new InputError(`${where}.source`, 'expected a base64 or url image source');
}

function userMessages(content: JsonValue | undefined, where: string): JsonObject[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const out: JsonObject[] = [];
  const parts: JsonObject[] = [];
  blocksOf(content, where).forEach((block, i) => {
    const at = `${where}[${i}]`;
    if (block.type === 'tool_result') {
      if (typeof block.tool_use_id !== 'string') throw new InputError(`${at}.tool_use_id`, 'expected the id of the tool_use this result answers');
      out.push({ role: 'tool', tool_call_id: block.tool_use_id, content: typeof block.content === 'string' ? block.content : textOfBlocks(block.content, `${at}.content`) });
    } else if (block.type === 'text' && typeof block.text === 'string') parts.push({ type: 'text', text: block.text });
    else if (block.type === 'image') parts.push(imagePart(block, at));
    else throw new InputError(`${at}.type`, `got ${JSON.stringify(block.type)}`, 'text, image or tool_result in a user turn');
  });
  // Tool results answer the previous assistant turn, so they come first; the user's own words follow.
  if (parts.length > 0) out.push({ role: 'user', content: parts.length === 1 && parts[0]?.type === 'text' ? (parts[0].text as string) : parts });
  return out;
}

function assistantMessage(content: JsonValue | undefined, where: string): JsonObject {
  const text: string[] = [];
  const thinking: string[] = [];
  const calls: JsonObject[] = [];
  blocksOf(content, where).forEach((block, i) => {
    const at = `${where}[${i}]`;
    if (block.type === 'text' && typeof block.text === 'string') text.push(block.text);
    else if (block.type === 'thinking' && typeof block.thinking === 'string') thinking.push(block.thinking);
    else if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string' || !isRecord(block.input)) throw new InputError(at, 'expected a tool_use block with id, name and an input object');
      const raw = block.input[UNPARSED_ARGUMENTS_KEY];
      const args = typeof raw === 'string' && Object.keys(block.input).length === 1 ? raw : JSON.stringify(block.input);
      calls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: args } });
    } else throw new InputError(`${at}.type`, `got ${JSON.stringify(block.type)}`, 'text, thinking or tool_use in an assistant turn (redacted thinking needs Anthropic\'s servers)');
  });
  const message: JsonObject = { role: 'assistant', content: text.join('') };
  if (thinking.length > 0) message.reasoning_content = thinking.join('');
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

function chatTools(raw: JsonValue | undefined): JsonObject[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw new InputError('tools', 'expected an array of tools');
  return raw.map((tool, i) => {
    if (!isRecord(tool) || typeof tool.name !== 'string' || !isRecord(tool.input_schema)) {
      throw new InputError(`tools[${i}]`, 'expected a client tool {name, description?, input_schema} (server tools need Anthropic\'s servers)');
    }
    return { type: 'function', function: { name: tool.name, ...(typeof tool.description === 'string' ? { description: tool.description } : {}), parameters: tool.input_schema } };
  });
}

function toolChoice(raw: JsonValue | undefined, chat: JsonObject): void {
  if (raw === undefined || raw === null) return;
  if (!isRecord(raw)) throw new InputError('tool_choice', 'expected {"type": "auto" | "any" | "tool" | "none"}');
  if (raw.type === 'auto') chat.tool_choice = 'auto';
  else if (raw.type === 'any') chat.tool_choice = 'required';
  else if (raw.type === 'none') chat.tool_choice = 'none';
  else if (raw.type === 'tool' && typeof raw.name === 'string') chat.tool_choice = { type: 'function', function: { name: raw.name } };
  else throw new InputError('tool_choice.type', `got ${JSON.stringify(raw.type ?? null)}`, 'auto, any, tool (with a name) or none');
  if (raw.disable_parallel_tool_use === true) chat.parallel_tool_calls = false;
}

/** An Anthropic Messages body as the chat-completions body sent upstream. */
export function messagesToChat(body: JsonRecord): JsonObject {
  if (typeof body.model !== 'string') throw new InputError('model', 'expected the model name');
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) throw new InputError('max_tokens', `got ${JSON.stringify(body.max_tokens ?? null)}`, 'a positive integer (the Messages API requires it)');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw new InputError('messages', 'expected a non-empty array of turns');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw new InputError('stream', `got ${JSON.stringify(body.stream)}`, 'true or false');
  const messages: JsonObject[] = [];
  if (body.system !== undefined && body.system !== null) {
    const system = typeof body.system === 'string' ? body.system : textOfBlocks(body.system, 'system');
    if (system !== '') messages.push({ role: 'system', content: system });
  }
  body.messages.forEach((turn, i) => {
    const where = `messages[${i}]`;
    if (!isRecord(turn)) throw new InputError(where, 'expected a turn {role, content}');
    if (turn.role === 'user') messages.push(...userMessages(turn.content, `${where}.content`));
    else if (turn.role === 'assistant') messages.push(assistantMessage(turn.content, `${where}.content`));
    else throw new InputError(`${where}.role`, `got ${JSON.stringify(turn.role ?? null)}`, 'user or assistant');
  });
  const chat: JsonObject = { model: body.model, messages, max_tokens: body.max_tokens };
  const tools = chatTools(body.tools);
  if (tools) chat.tools = tools;
  toolChoice(body.tool_choice, chat);
  for (const [from, to] of [['temperature', 'temperature'], ['top_p', 'top_p'], ['top_k', 'top_k'], ['stop_sequences', 'stop']] as const) {
    if (body[from] !== undefined && body[from] !== null) chat[to] = body[from] as JsonValue;
  }
  // Chat templates that can think (Qwen3, DeepSeek, GLM) read this switch; thinking is their default.
  if (isRecord(body.thinking) && body.thinking.type === 'disabled') chat.chat_template_kwargs = { enable_thinking: false };
  if (body.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return chat;
}

function stopOf(finish: JsonValue | undefined, stopReason: JsonValue | undefined): { stop_reason: string; stop_sequence: string | null } {
  if (finish === 'tool_calls') return { stop_reason: 'tool_use', stop_sequence: null };
  if (finish === 'length') return { stop_reason: 'max_tokens', stop_sequence: null };
  if (finish === 'content_filter') return { stop_reason: 'refusal', stop_sequence: null };
  // vLLM's `stop_reason` names the stop string that ended the answer (an id when it was a stop token).
  if (typeof stopReason === 'string') return { stop_reason: 'stop_sequence', stop_sequence: stopReason };
  return { stop_reason: 'end_turn', stop_sequence: null };
}

function inputOf(args: string): JsonRecord {
  try {
    const parsed = JSON.parse(args) as JsonValue;
    if (isRecord(parsed)) return parsed;
  } catch (_error) {
    // falls through: kept as text
  }
  return { [UNPARSED_ARGUMENTS_KEY]: args };
}

function usageOf(raw: JsonValue | undefined): JsonRecord {
  const usage = isRecord(raw) ? raw : {};
  return { input_tokens: typeof usage.prompt_tokens === 'number' ? usage.prompt_tokens : 0, output_tokens: typeof usage.completion_tokens === 'number' ? usage.completion_tokens : 0 };
}

interface OpenBlock {
  index: number;
  kind: 'thinking' | 'text' | 'tool_use';
  callIndex?: number;
  arguments: string;
}

export class MessagesTranslator implements Translator {
  readonly passthrough = false;
  private readonly content: JsonRecord[] = [];
  private open: OpenBlock | null = null;
  private started = false;
  private id = 'msg_gateway';
  private model: JsonValue;
  private finish: JsonValue = null;
  private stopReason: JsonValue = null;
  private usage: JsonValue = null;

  constructor(request: JsonRecord) {
    this.model = request.model ?? null;
  }

  private identify(json: JsonRecord): void {
    if (typeof json.id === 'string') this.id = `msg_${json.id.replace(/^chatcmpl-/, '')}`;
    if (typeof json.model === 'string') this.model = json.model;
  }

  private message(final: boolean): JsonRecord {
    const stop = final ? stopOf(this.finish, this.stopReason) : { stop_reason: null, stop_sequence: null };
    return { id: this.id, type: 'message', role: 'assistant', model: this.model, content: this.content.map((block) => ({ ...block })), ...stop, usage: usageOf(this.usage) };
  }

  body(json: JsonRecord): string {
    this.identify(json);
    const choice = Array.isArray(json.choices) && isRecord(json.choices[0]) ? json.choices[0] : {};
    const message = isRecord(choice.message) ? choice.message : {};
    const reasoning = [message.reasoning_content, message.reasoning].find((v): v is string => typeof v === 'string' && v !== '');
    if (reasoning) this.content.push({ type: 'thinking', thinking: reasoning, signature: '' });
    if (typeof message.content === 'string' && message.content !== '') this.content.push({ type: 'text', text: message.content });
    for (const call of Array.isArray(message.tool_calls) ? message.tool_calls.filter(isRecord) : []) {
      const fn = isRecord(call.function) ? call.function : {};
      this.content.push({ type: 'tool_use', id: call.id ?? '', name: fn.name ?? '', input: inputOf(typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {})) });
    }
    this.finish = choice.finish_reason ?? null;
    this.stopReason = choice.stop_reason ?? null;
    this.usage = json.usage ?? null;
    return JSON.stringify(this.message(true));
  }

  error(status: number, body: JsonValue | undefined, text: string): string {
    return JSON.stringify(errorBody('messages', status, upstreamErrorMessage(body, text)));
  }

  received(): JsonValue {
    return this.message(this.finish !== null);
  }

  chunk(json: JsonRecord): string {
    let out = this.start(json);
    if (isRecord(json.usage)) this.usage = json.usage;
    const choice = Array.isArray(json.choices) && isRecord(json.choices[0]) ? json.choices[0] : undefined;
    if (!choice) return out;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    const reasoning = [delta.reasoning_content, delta.reasoning].find((v): v is string => typeof v === 'string' && v !== '');
    if (reasoning) out += this.text('thinking', reasoning);
    if (typeof delta.content === 'string' && delta.content !== '') out += this.text('text', delta.content);
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls.filter(isRecord) : []) out += this.call(call);
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) this.finish = choice.finish_reason;
    if (choice.stop_reason !== null && choice.stop_reason !== undefined) this.stopReason = choice.stop_reason;
    return out;
  }

  done(): string {
    const out = this.start({}) + this.close();
    const stop = stopOf(this.finish, this.stopReason);
    return out + namedEvent('message_delta', { type: 'message_delta', delta: stop, usage: usageOf(this.usage) }) + namedEvent('message_stop', { type: 'message_stop' });
  }

  broken(message: string): string {
    return this.start({}) + namedEvent('error', { type: 'error', error: { type: 'api_error', message } });
  }

  private start(json: JsonRecord): string {
    if (this.started) return '';
    this.started = true;
    this.identify(json);
    return namedEvent('message_start', { type: 'message_start', message: this.message(false) }) + namedEvent('ping', { type: 'ping' });
  }

  private text(kind: 'thinking' | 'text', piece: string): string {
    let out = '';
    if (this.open?.kind !== kind) {
      out += this.close();
      const block: JsonRecord = kind === 'thinking' ? { type: 'thinking', thinking: '', signature: '' } : { type: 'text', text: '' };
      this.open = { index: this.content.length, kind, arguments: '' };
      this.content.push(block);
      out += namedEvent('content_block_start', { type: 'content_block_start', index: this.open.index, content_block: block });
    }
    const open = this.open as OpenBlock;
    const block = this.content[open.index] as JsonRecord;
    block[kind] = `${block[kind] as string}${piece}`;
    const delta: JsonRecord = kind === 'thinking' ? { type: 'thinking_delta', thinking: piece } : { type: 'text_delta', text: piece };
    return out + namedEvent('content_block_delta', { type: 'content_block_delta', index: open.index, delta });
  }

  /** Tool calls open a block per index; arguments are gathered and sent as one JSON delta when the block closes (an `input` must be an object). */
  private call(call: JsonRecord): string {
    const callIndex = typeof call.index === 'number' ? call.index : 0;
    const fn = isRecord(call.function) ? call.function : {};
    let out = '';
    if (this.open?.kind !== 'tool_use' || this.open.callIndex !== callIndex) {
      out += this.close();
      const block = { type: 'tool_use', id: call.id ?? '', name: fn.name ?? '', input: {} };
      this.open = { index: this.content.length, kind: 'tool_use', callIndex, arguments: '' };
      this.content.push(block);
      out += namedEvent('content_block_start', { type: 'content_block_start', index: this.open.index, content_block: block });
    }
    if (typeof fn.arguments === 'string') (this.open as OpenBlock).arguments += fn.arguments;
    return out;
  }

  private close(): string {
    const open = this.open;
    if (!open) return '';
    this.open = null;
    let out = '';
    if (open.kind === 'tool_use') {
      const input = inputOf(open.arguments === '' ? '{}' : open.arguments);
      (this.content[open.index] as JsonRecord).input = input;
      out += namedEvent('content_block_delta', { type: 'content_block_delta', index: open.index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(input) } });
    } else if (open.kind === 'thinking') {
      out += namedEvent('content_block_delta', { type: 'content_block_delta', index: open.index, delta: { type: 'signature_delta', signature: '' } });
    }
    return out + namedEvent('content_block_stop', { type: 'content_block_stop', index: open.index });
  }
}

export const messagesApi: ClientApiHandler = {
  api: 'messages',
  prepare(body): Prepared {
    const chat = messagesToChat(body);
    return {
      api: 'messages',
      kind: chatKind,
      upstream: chat,
      stream: body.stream === true,
      asked: ASKED_NOTHING,
      model: typeof body.model === 'string' ? body.model : undefined,
      translator: () => new MessagesTranslator(body),
      neutral: (options) => neutralChatRequest(chat, options),
    };
  },
};
