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
 * becomes the same object again, so the store's delta encoding shares it and keys are computed once.
 */
export class MessageCache {
  private readonly messages = new Map<string, Message>();
  private toolsText: string | undefined;
  private tools: ToolSpec[] = [];

  message(raw: JsonRecord, build: () => Message): Message {
    const text = JSON.stringify(raw);
    const known = this.messages.get(text);
    const fresh = known ?? build();
    if (known && fresh.role === 'tool') {
      // A tool message's name comes from the call it answers, which the text alone does not fix.
      const rebuilt = build();
      if (rebuilt.role === 'tool' && rebuilt.name !== fresh.name) return rebuilt;
    }
    if (!known) this.messages.set(text, fresh);
    return fresh;
  }

  toolSpecs(raw: JsonValue | undefined, build: () => ToolSpec[]): ToolSpec[] {
    const text = raw === undefined || raw === null ? '' : JSON.stringify(raw);
    if (text !== this.toolsText) {
      this.tools = build();
      this.toolsText = text;
    }
    return this.tools;
  }
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
  return raw.map((item, i): Message => {
    const where = `messages[${i}]`;
    if (!isRecord(item)) throw new InputError(where, 'expected a message object');
    const role = item.role;
    if (role === 'assistant') {
      const message = cache.message(item, () => assistantMessage(item, where));
      if (message.role === 'assistant') for (const call of message.toolCalls) toolNames.set(call.id, call.name);
      return message;
    }
    return cache.message(item, () => {
      switch (role) {
        case 'system':
        case 'developer':
          return { role: 'system', content: textOf(item.content, `${where}.content`) };
        case 'user':
          return { role: 'user', content: textOf(item.content, `${where}.content`) };
        case 'tool': {
          if (typeof item.tool_call_id !== 'string') throw new InputError(`${where}.tool_call_id`, 'a tool message needs the id of the call it answers');
          const name = toolNames.get(item.tool_call_id) ?? (typeof item.name === 'string' ? item.name : '');
          return { role: 'tool', toolCallId: item.tool_call_id, name, content: textOf(item.content, `${where}.content`), isError: false };
        }
        default:
          throw new InputError(`${where}.role`, `got ${JSON.stringify(role ?? null)}`, 'system, developer, user, assistant or tool');
      }
    });
  });
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

const keys = new WeakMap<Message, string>();

function argumentsKey(call: ToolCall): string {
  // Engines parse JSON arguments before templating, so the object (in key order), not its spacing, is what the model sees.
  return call.arguments === null ? `text:${call.argumentsText}` : JSON.stringify(call.arguments);
}

/** What a message contributes to a prompt: the same key means the same rendered turn, whatever the API it came through. */
export function messageKey(message: Message): string {
  const known = keys.get(message);
  if (known !== undefined) return known;
  let key: string;
  switch (message.role) {
    case 'system':
    case 'user':
      key = JSON.stringify([message.role, message.content]);
      break;
    case 'tool':
      key = JSON.stringify(['tool', message.toolCallId, message.content]);
      break;
    case 'assistant': {
      const reasoning = message.reasoningDropped ? null : (message.reasoning?.text ?? null);
      key = JSON.stringify(['assistant', message.content, reasoning, message.toolCalls.map((call) => [call.id, call.name, argumentsKey(call)])]);
      break;
    }
  }
  keys.set(message, key);
  return key;
}

/** Whether `messages` is exactly the parent's messages, then the parent's answer, then new ones. */
export function extendsMessages(messages: readonly Message[], parent: { messages: readonly Message[]; answer: Message }): boolean {
  const prefix = [...parent.messages, parent.answer];
  if (messages.length < prefix.length) return false;
  return prefix.every((message, i) => messages[i] === message || messageKey(messages[i] as Message) === messageKey(message));
}
