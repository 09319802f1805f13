import { z } from 'zod';
import {
  InputError,
  JsonObject,
  MAX_JSON_DEPTH,
  describeZodIssues,
  nestsDeeperThan,
  type AssistantMessage,
  type JsonValue,
  type Message,
  type ToolSpec,
} from '../core/index.ts';
import { rememberJsonSource } from './json-source.ts';

// The OpenAI / Hugging Face chat format: what chat templates iterate over. Loose objects, because
// templates may read fields we do not know about and HF passes messages through unchanged.

// `developer` is OpenAI's newer name for system instructions; templates such as gpt-oss's read it.
const ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;

export const ChatToolCall = z.looseObject({
  id: z.string().optional(),
  type: z.literal('function').optional(),
  function: z.looseObject({
    name: z.string({ error: 'expected the tool name as a string' }),
    arguments: z.union([JsonObject, z.string()], { error: 'expected an object or a JSON string' }),
  }),
});
export type ChatToolCall = z.infer<typeof ChatToolCall>;

export const ChatMessage = z.looseObject({
  role: z.enum(ROLES, { error: `expected one of ${ROLES.join('|')}` }),
  content: z.union([z.string(), z.array(JsonObject), z.null()], { error: 'expected a string, a list of content parts or null' }).optional(),
  reasoning_content: z.string().optional(),
  tool_calls: z.array(ChatToolCall).optional(),
  tool_call_id: z.string().optional(),
  name: z.string().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ChatTool = z.looseObject({
  type: z.literal('function', { error: 'expected "function"' }),
  function: z.looseObject({
    name: z.string({ error: 'expected the tool name as a string' }),
    description: z.string().optional(),
    parameters: JsonObject.optional(),
  }),
});
export type ChatTool = z.infer<typeof ChatTool>;

/**
 * Validates messages in the chat format (a file, an HTTP body) and parses assistant
 * `function.arguments` JSON strings into objects, as vLLM and SGLang do before templating, so
 * templates see the same mapping HF's examples pass. Errors name the field: `messages.3.role: …`.
 */
export function parseChatMessages(value: unknown, where: string): ChatMessage[] {
  const result = z.array(ChatMessage, { error: 'expected an array of messages' }).safeParse(value);
  if (!result.success) throw new InputError(where, describeZodIssues(result.error.issues, 'messages'));
  return result.data.map(argumentsAsObjects);
}

export function parseChatTools(value: unknown, where: string): ChatTool[] {
  const result = z.array(ChatTool, { error: 'expected an array of {"type":"function","function":{…}} tools' }).safeParse(value);
  if (!result.success) throw new InputError(where, describeZodIssues(result.error.issues, 'tools'));
  return result.data;
}

function argumentsAsObjects(message: ChatMessage): ChatMessage {
  if (!message.tool_calls) return message;
  const toolCalls = message.tool_calls.map((call) => {
    const args = call.function.arguments;
    if (typeof args !== 'string') return call;
    const parsed = tryParseObject(args);
    // Unparseable strings stay as written: templates print a string argument verbatim.
    if (!parsed) return call;
    rememberJsonSource(parsed, args);
    return { ...call, function: { ...call.function, arguments: parsed } };
  });
  return { ...message, tool_calls: toolCalls };
}

export function tryParseObject(text: string): JsonObject | null {
  const read = readJsonObject(text);
  return 'value' in read ? read.value : null;
}

export type JsonRead<T> = { value: T } | { problem: string };

export const TOO_DEEP = `nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`;

/**
 * JSON a model wrote. JSON.parse reads any depth, but stringifying, storing and resending the value
 * overflow the stack a few thousand levels down, and a model stuck repeating `[` gets there: so
 * anything nested deeper than MAX_JSON_DEPTH is refused here, where it is still the model's error.
 */
export function readJson(text: string): JsonRead<JsonValue> {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (error) {
    return { problem: `not valid JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  if (parsedTooDeep(text, value)) return { problem: TOO_DEEP };
  return { value };
}

/** Whether `value`, parsed from the model's `text`, nests past MAX_JSON_DEPTH (the text is checked first: most cannot). */
export function parsedTooDeep(text: string, value: unknown): boolean {
  return mayNestDeeperThan(text, MAX_JSON_DEPTH) && nestsDeeperThan(value, MAX_JSON_DEPTH);
}

/** Nesting `max` levels takes `max` opening brackets: text with fewer needs no walk of its value. */
function mayNestDeeperThan(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let openers = 0;
  for (const bracket of ['[', '{']) {
    for (let at = text.indexOf(bracket); at >= 0; at = text.indexOf(bracket, at + 1)) {
      if (++openers > max) return true;
    }
  }
  return false;
}

/** A JSON object a model wrote, or what is wrong with the text. */
export function readJsonObject(text: string): JsonRead<JsonObject> {
  const read = readJson(text);
  if (!('value' in read)) return read;
  const { value } = read;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return { value };
  return { problem: `a JSON ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}, not an object` };
}

export function toChatTools(tools: readonly ToolSpec[]): ChatTool[] {
  return tools.map((tool) => ({
    type: 'function' as const,
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
}

export interface ToChatOptions {
  /**
   * Send assistant turns that came from a raw completion (`provider.api === 'text-completion'`)
   * back as that exact text in `content`, for templates that split `<think>` and tool-call text
   * out of content themselves. The next prompt then holds what the model wrote, byte for byte,
   * wherever the template keeps it (see src/model/text-completion.ts).
   */
  rawCompletions?: boolean;
}

/**
 * Gauntlet's neutral messages in the chat format. Reasoning always travels as `reasoning_content`
 * (unless a scaffold dropped it): the template, not Gauntlet, decides which turns keep it.
 */
export function toChatMessages(messages: readonly Message[], options: ToChatOptions = {}): ChatMessage[] {
  return messages.map((message) => {
    switch (message.role) {
      case 'system':
      case 'user':
        return { role: message.role, content: message.content };
      case 'tool':
        return { role: 'tool', content: message.content, tool_call_id: message.toolCallId, name: message.name };
      case 'assistant':
        return assistantToChat(message, options);
    }
  });
}

function assistantToChat(message: AssistantMessage, options: ToChatOptions): ChatMessage {
  const raw = options.rawCompletions && !message.reasoningDropped ? rawCompletionText(message) : undefined;
  if (raw !== undefined) return { role: 'assistant', content: raw };
  const out: ChatMessage = { role: 'assistant', content: message.content };
  if (message.reasoning && !message.reasoningDropped) out.reasoning_content = message.reasoning.text;
  if (message.toolCalls.length > 0) {
    out.tool_calls = message.toolCalls.map((call) => {
      // The text the model wrote says which whole numbers are floats (json-source.ts).
      if (call.arguments) rememberJsonSource(call.arguments, call.argumentsText);
      // Unparseable arguments go as the text the model wrote; templates print strings verbatim.
      return { id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments ?? call.argumentsText } };
    });
  }
  return out;
}

/** The raw completion text stored on a text-completion turn, if there is one. */
export function rawCompletionText(message: AssistantMessage): string | undefined {
  const provider = message.provider;
  if (provider?.api !== 'text-completion') return undefined;
  const stored = provider.message;
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return undefined;
  return typeof stored.text === 'string' ? stored.text : undefined;
}
