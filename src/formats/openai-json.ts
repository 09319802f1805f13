import type { JsonObject, JsonValue } from '../core/index.ts';
import { readJson, readJsonObject } from './chat.ts';
import { toolSchemas } from './coerce.ts';
import type { AssistantTurn, FormatError, ParseOptions, ParsedCompletion, ParsedToolCall, StreamParser, ToolCallFormat } from './types.ts';

// The native API form: an OpenAI assistant message whose tool calls carry their arguments as a
// JSON *string*. "Completion text" here is that message as JSON (a whole chat.completion
// response is accepted too and its first choice read).

export interface OpenAIAssistantMessage {
  role: 'assistant';
  content: string | null;
  reasoning_content?: string;
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
}

/** The OpenAI message for a turn; call ids are `call_<n>` from `firstCallId` unless given. */
export function toOpenAIAssistantMessage(turn: AssistantTurn, options: { ids?: readonly string[]; firstCallId?: number } = {}): OpenAIAssistantMessage {
  const message: OpenAIAssistantMessage = {
    role: 'assistant',
    content: turn.content === '' && turn.toolCalls.length > 0 ? null : turn.content,
  };
  if (turn.reasoning !== undefined && turn.reasoning !== null) message.reasoning_content = turn.reasoning;
  if (turn.toolCalls.length > 0) {
    message.tool_calls = turn.toolCalls.map((call, i) => ({
      id: options.ids?.[i] ?? `call_${(options.firstCallId ?? 0) + i}`,
      type: 'function' as const,
      function: { name: call.name, arguments: JSON.stringify(call.arguments) },
    }));
  }
  return message;
}

/** Reads an OpenAI assistant message (or a chat.completion response holding one). */
export function fromOpenAIAssistantMessage(value: unknown, options: ParseOptions = {}): ParsedCompletion {
  const errors: FormatError[] = [];
  const message = unwrapResponse(value);
  if (!isObject(message)) {
    return { reasoning: null, content: '', toolCalls: [], errors: [{ kind: 'malformed_call', message: 'expected an assistant message object {"role": "assistant", "content": …, "tool_calls": […]}' }] };
  }
  const reasoning = typeof message.reasoning === 'string' ? message.reasoning : typeof message.reasoning_content === 'string' ? message.reasoning_content : null;
  const content = contentText(message.content, errors);
  const toolCalls: ParsedToolCall[] = [];
  const rawCalls = message.tool_calls;
  if (rawCalls !== undefined && rawCalls !== null && !Array.isArray(rawCalls)) {
    errors.push({ kind: 'malformed_call', message: 'tool_calls: expected an array' });
  }
  (Array.isArray(rawCalls) ? rawCalls : []).forEach((raw, i) => {
    const fn = isObject(raw) && isObject(raw.function) ? raw.function : undefined;
    const name = typeof fn?.name === 'string' ? fn.name : '';
    if (!fn || name === '') errors.push({ kind: 'malformed_call', message: `tool_calls.${i}.function.name: expected a string`, callIndex: i });
    const args = fn?.arguments;
    if (typeof args === 'string') {
      const read = args.trim() === '' ? { value: {} } : readJsonObject(args);
      if ('problem' in read) errors.push({ kind: 'bad_json', message: `tool_calls.${i}.function.arguments: not a JSON object (${read.problem}): ${JSON.stringify(args.slice(0, 80))}`, callIndex: i });
      toolCalls.push({ name, arguments: 'value' in read ? read.value : null, argumentsText: args });
    } else if (isObject(args)) {
      // Some servers send an object where the API says string; take it and keep it typed.
      toolCalls.push({ name, arguments: args, argumentsText: JSON.stringify(args) });
    } else {
      errors.push({ kind: 'malformed_call', message: `tool_calls.${i}.function.arguments: expected a JSON string`, callIndex: i });
      toolCalls.push({ name, arguments: null, argumentsText: args === undefined ? '' : JSON.stringify(args) });
    }
  });
  if (options.tools) {
    const schemas = toolSchemas(options.tools);
    toolCalls.forEach((call, i) => {
      if (call.name !== '' && !schemas.has(call.name)) errors.push({ kind: 'unknown_tool', message: `tool call ${i}: no tool named "${call.name}" was offered`, callIndex: i });
    });
  }
  return { reasoning, content: content.trim(), toolCalls, errors };
}

function unwrapResponse(value: unknown): unknown {
  if (isObject(value) && Array.isArray(value.choices)) {
    const first: unknown = value.choices[0];
    return isObject(first) ? first.message : undefined;
  }
  return value;
}

function contentText(content: JsonValue | undefined, errors: FormatError[]): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) {
    return content.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('');
  }
  errors.push({ kind: 'malformed_call', message: 'content: expected a string, null or a list of text parts' });
  return '';
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function parseOpenAIJson(text: string, options: ParseOptions = {}): ParsedCompletion {
  const read = readJson(text);
  if ('problem' in read) {
    return {
      reasoning: null,
      content: text.trim(),
      toolCalls: [],
      errors: [{ kind: 'bad_json', message: `the completion is not an OpenAI assistant message in JSON: ${read.problem}; kept as content` }],
    };
  }
  return fromOpenAIAssistantMessage(read.value, options);
}

/** JSON has no useful prefix to act on, so the stream parser collects and parses at the end. */
function createJsonStreamParser(options: ParseOptions = {}): StreamParser {
  let text = '';
  let result: ParsedCompletion | undefined;
  return {
    push(chunk) {
      if (result) throw new Error('stream parser: push() after finish()');
      text += chunk;
      return [];
    },
    finish() {
      result ??= parseOpenAIJson(text, options);
      return result;
    },
  };
}

export const openaiJson: ToolCallFormat = {
  name: 'openai-json',
  // Reasoning travels in its own field here; the think options have nothing to decide.
  thinkStart: 'model',
  render: (turn) => JSON.stringify(toOpenAIAssistantMessage(turn)),
  parse: parseOpenAIJson,
  createStreamParser: createJsonStreamParser,
};
