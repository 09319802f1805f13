// A chat-completions body (the client's own, or the one translated from the Responses or
// Anthropic API) read into the provider-neutral ModelRequest that is stored with each call, and
// the message keys that decide `extendsParent`.
import { InputError, SamplingParams, ToolSpec, type JsonObject, type JsonValue, type Message, type ModelRequest, type ToolCall } from '../../core/index.ts';
import { parseOpenAIMessage } from '../../model/index.ts';

type JsonRecord = { [key: string]: JsonValue };

/** Body fields read into typed places; everything else a client sends is kept in `sampling.extra`. */
const MODELLED = new Set(['model', 'messages', 'tools', 'stream', 'stream_options', 'temperature', 'top_p', 'top_k', 'max_tokens', 'max_completion_tokens', 'seed', 'stop']);

/**
 * Neutral messages already built for this rollout, by their exact wire text: a resent message
 * becomes the same object again, so the store's delta encoding shares it. A client resends its conversation in order, so each message is first compared with the one at
 * its place in the previous request (no text to encode or hash); only the new ones, and any that
 * moved, are looked up by text.
 */
export class MessageCache {
  private readonly messages = new Map<string, Message>();
  private previous: { raw: JsonRecord; message: Message }[] = [];
  private current: { raw: JsonRecord; message: Message }[] = [];
  private toolsRaw: JsonValue | undefined;
  private tools: ToolSpec[] = [];

  /** Starts reading a request's messages. */
  begin(): void {
    this.current = [];
  }

  /** Done reading them: they are what the next request is compared with. */
  end(): void {
    this.previous = this.current;
    this.current = [];
  }

  /**
   * The message at `index` of the request being read. A tool message's name comes from the call it
   * answers, which its text alone does not fix: a known one whose name is now different is built anew.
   */
  message(index: number, raw: JsonRecord, build: () => Message, toolName?: string): Message {
    const before = this.previous[index];
    let message = before !== undefined && sameJson(before.raw, raw) ? before.message : this.byText(raw, build);
    if (message.role === 'tool' && toolName !== undefined && message.name !== toolName) message = build();
    this.current.push({ raw, message });
    return message;
  }

  private byText(raw: JsonRecord, build: () => Message): Message {
    const text = JSON.stringify(raw);
    const known = this.messages.get(text);
    if (known) return known;
    const fresh = build();
    this.messages.set(text, fresh);
    return fresh;
  }

  toolSpecs(raw: JsonValue | undefined, build: () => ToolSpec[]): ToolSpec[] {
    const value = raw ?? null;
    if (this.toolsRaw === undefined || !sameJson(value, this.toolsRaw)) {
      this.tools = build();
      this.toolsRaw = value;
    }
    return this.tools;
  }
}

/**
 * Whether two parsed JSON values have the same JSON text (keys in the same order), without
 * encoding either: what the message cache keys on.
 */
export function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  const keys = Object.keys(a);
  const others = Object.keys(b);
  if (keys.length !== others.length) return false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (key !== others[i] || !sameJson(a[key], b[key])) return false;
  }
  return true;
}

function textOf(content: JsonValue | undefined, where: string): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    // Engines join text parts with newlines before templating; other parts (images) live in the wire record.
    return content.flatMap((part) => (isRecord(part) && typeof part.text === 'string' ? [part.text] : [])).join('\n');
  }
  throw new InputError(where, 'expected a string, an array of content parts or null');
}

function isRecord(value: JsonValue | undefined): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The chat `messages` of a body as neutral messages; a message that cannot be read is a 400 naming it. */
export function neutralMessages(raw: readonly JsonValue[], cache: MessageCache): Message[] {
  const toolNames = new Map<string, string>();
  cache.begin();
  const messages = raw.map((item, i): Message => {
    const where = `messages[${i}]`;
    if (!isRecord(item)) throw new InputError(where, 'expected a message object');
    const role = item.role;
    if (role === 'assistant') {
      const message = cache.message(i, item, () => assistantMessage(item, where));
      if (message.role === 'assistant') for (const call of message.toolCalls) toolNames.set(call.id, call.name);
      return message;
    }
    const toolName = role === 'tool' && typeof item.tool_call_id === 'string' ? (toolNames.get(item.tool_call_id) ?? (typeof item.name === 'string' ? item.name : '')) : undefined;
    return cache.message(
      i,
      item,
      () => {
        switch (role) {
          case 'system':
          case 'developer':
            return { role: 'system', content: textOf(item.content, `${where}.content`) };
          case 'user':
            return { role: 'user', content: textOf(item.content, `${where}.content`) };
          case 'tool': {
            if (typeof item.tool_call_id !== 'string') throw new InputError(`${where}.tool_call_id`, 'a tool message needs the id of the call it answers');
            return { role: 'tool', toolCallId: item.tool_call_id, name: toolName ?? '', content: textOf(item.content, `${where}.content`), isError: false };
          }
          default:
            throw new InputError(`${where}.role`, `got ${JSON.stringify(role ?? null)}`, 'system, developer, user, assistant or tool');
        }
      },
      toolName,
    );
  });
  cache.end();
  return messages;
}

function assistantMessage(item: JsonRecord, where: string): Message {
  const parsed = parseOpenAIMessage(item);
  if (typeof parsed === 'string') throw new InputError(where, parsed);
  return {
    role: 'assistant',
    content: parsed.content,
    ...(parsed.reasoning ? { reasoning: parsed.reasoning } : {}),
    toolCalls: parsed.toolCalls,
    provider: { api: 'openai-chat', message: item },
  };
}

function toolSpecs(raw: JsonValue | undefined): ToolSpec[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new InputError('tools', 'expected an array of tools');
  return raw.map((tool, i) => {
    const where = `tools[${i}]`;
    const fn = isRecord(tool) ? tool.function : undefined;
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(fn)) throw new InputError(where, 'expected {"type": "function", "function": {name, description?, parameters?}}');
    const spec = ToolSpec.safeParse({ name: fn.name, description: typeof fn.description === 'string' ? fn.description : '', parameters: isRecord(fn.parameters) ? fn.parameters : {} });
    if (!spec.success) throw new InputError(`${where}.function.name`, `got ${JSON.stringify(fn.name ?? null)}`, 'a tool name of letters, digits, _ . - (at most 64)');
    return spec.data;
  });
}

/** Sampling fields in their typed places when they fit the schema; anything else stays in `extra`, verbatim. */
function sampling(body: JsonObject, skip: ReadonlySet<string> = MODELLED): SamplingParams {
  const typed: Record<string, unknown> = {};
  const extra: JsonObject = {};
  const fit = (key: keyof SamplingParams, value: unknown, from: string): void => {
    const check = SamplingParams.shape[key].safeParse(value);
    if (check.success && value !== undefined) typed[key] = value;
    else if (body[from] !== undefined) extra[from] = body[from] as JsonValue;
  };
  if (body.temperature !== undefined && body.temperature !== null) fit('temperature', body.temperature, 'temperature');
  if (body.top_p !== undefined && body.top_p !== null) fit('topP', body.top_p, 'top_p');
  if (body.top_k !== undefined && body.top_k !== null) fit('topK', body.top_k, 'top_k');
  const maxKey = body.max_completion_tokens !== undefined && body.max_completion_tokens !== null ? 'max_completion_tokens' : 'max_tokens';
  if (body[maxKey] !== undefined && body[maxKey] !== null) fit('maxTokens', body[maxKey], maxKey);
  if (maxKey === 'max_completion_tokens' && body.max_tokens !== undefined) extra.max_tokens = body.max_tokens as JsonValue;
  if (body.seed !== undefined && body.seed !== null) fit('seed', body.seed, 'seed');
  if (body.stop !== undefined && body.stop !== null) fit('stop', typeof body.stop === 'string' ? [body.stop] : body.stop, 'stop');
  for (const [key, value] of Object.entries(body)) {
    if (skip.has(key) || value === undefined) continue;
    if (key === 'tool_choice' && (value === 'auto' || value === 'none' || value === 'required')) continue;
    extra[key] = value;
  }
  return { ...(typed as SamplingParams), ...(Object.keys(extra).length > 0 ? { extra } : {}) };
}

export interface NeutralOptions {
  cache: MessageCache;
  policyVersion?: string | undefined;
}

/** A chat body as the provider-neutral request stored with the call. */
export function neutralChatRequest(body: JsonObject, options: NeutralOptions): ModelRequest {
  if (!Array.isArray(body.messages)) throw new InputError('messages', 'expected an array of messages');
  const choice = body.tool_choice;
  return {
    messages: neutralMessages(body.messages, options.cache),
    tools: options.cache.toolSpecs(body.tools, () => toolSpecs(body.tools)),
    ...(choice === 'auto' || choice === 'none' || choice === 'required' ? { toolChoice: choice } : {}),
    sampling: sampling(body),
    ...(options.policyVersion ? { policyVersion: options.policyVersion } : {}),
  };
}

/** A raw `/v1/completions` prompt has no messages: the prompt itself is in the wire record. */
export function neutralCompletionRequest(body: JsonObject, options: Omit<NeutralOptions, 'cache'>): ModelRequest {
  return { messages: [], tools: [], sampling: sampling(body, new Set([...MODELLED, 'prompt'])), ...(options.policyVersion ? { policyVersion: options.policyVersion } : {}) };
}

/** The reasoning a message puts in the prompt (none when a scaffold dropped it). */
function reasoningOf(message: Extract<Message, { role: 'assistant' }>): string | null {
  return message.reasoningDropped ? null : (message.reasoning?.text ?? null);
}

/**
 * Engines parse JSON arguments before templating, so the object (in key order), not its spacing,
 * is what the model sees; arguments that are no JSON object are compared as text.
 */
function sameArguments(a: ToolCall, b: ToolCall): boolean {
  if (a.arguments === null || b.arguments === null) return a.arguments === b.arguments && a.argumentsText === b.argumentsText;
  return sameJson(a.arguments, b.arguments);
}

/**
 * Whether two messages contribute the same to a prompt (role, text, reasoning unless dropped, tool
 * call ids, names and arguments): the same rendered turn, whatever the API each came through.
 * Compared field by field: most turns differ or match within a few fields, with nothing to encode.
 */
export function sameTurn(a: Message, b: Message): boolean {
  if (a === b) return true;
  switch (a.role) {
    case 'system':
    case 'user':
      return b.role === a.role && b.content === a.content;
    case 'tool':
      return b.role === 'tool' && b.toolCallId === a.toolCallId && b.content === a.content;
    case 'assistant': {
      if (b.role !== 'assistant' || b.content !== a.content || reasoningOf(b) !== reasoningOf(a) || b.toolCalls.length !== a.toolCalls.length) return false;
      return a.toolCalls.every((call, i) => {
        const other = b.toolCalls[i] as ToolCall;
        return other.id === call.id && other.name === call.name && sameArguments(call, other);
      });
    }
  }
}

/** Whether `messages` is exactly the parent's messages, then the parent's answer, then new ones. */
export function extendsMessages(messages: readonly Message[], parent: { messages: readonly Message[]; answer: Message }): boolean {
  const count = parent.messages.length;
  if (messages.length < count + 1) return false;
  for (let i = 0; i < count; i++) if (!sameTurn(messages[i] as Message, parent.messages[i] as Message)) return false;
  return sameTurn(messages[count] as Message, parent.answer);
}
