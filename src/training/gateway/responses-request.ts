// The OpenAI Responses API (what codex speaks, and only it) read into a chat-completions request:
// `instructions` and input items become chat messages, with reasoning, function calls and their
// outputs folded into the assistant turns they belong to; function and custom (free-form) tools
// become chat functions. What the engine never sees (store, include, metadata…) stays in the wire
// record; what a chat engine cannot serve (previous_response_id, hosted tools) is a 400 naming it.
import { InputError, type JsonObject, type JsonValue } from '../../core/index.ts';

type JsonRecord = { [key: string]: JsonValue };

function isRecord(value: JsonValue | undefined): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Reasoning the gateway hands out as `encrypted_content` (when asked to) carries the text itself, so it survives any client. */
export const REASONING_TOKEN_PREFIX = 'gauntlet-reasoning:';

export function encodeReasoning(text: string): string {
  return `${REASONING_TOKEN_PREFIX}${Buffer.from(text, 'utf8').toString('base64')}`;
}

function decodeReasoning(value: JsonValue | undefined): string | null {
  if (typeof value !== 'string' || !value.startsWith(REASONING_TOKEN_PREFIX)) return null;
  return Buffer.from(value.slice(REASONING_TOKEN_PREFIX.length), 'base64').toString('utf8');
}

/** Free-form (custom) tools take one string; the chat engine sees them as a function of one `input` argument. */
const CUSTOM_PARAMETERS: JsonObject = { type: 'object', properties: { input: { type: 'string', description: 'The raw input for the tool.' } }, required: ['input'] };

export interface ResponsesChat {
  chat: JsonObject;
  /** Names of the free-form tools, whose calls go back as `custom_tool_call` items. */
  customTools: ReadonlySet<string>;
  /** The client asked for `reasoning.encrypted_content`. */
  encryptedReasoning: boolean;
}

function partsText(content: JsonValue | undefined, where: string, allowed: ReadonlySet<string>): { text: string; parts: JsonValue[] } {
  if (typeof content === 'string') return { text: content, parts: [content] };
  if (!Array.isArray(content)) throw new InputError(where, 'expected a string or an array of content parts');
  const parts: JsonValue[] = [];
  const texts: string[] = [];
  content.forEach((part, i) => {
    const at = `${where}[${i}]`;
    if (!isRecord(part) || typeof part.type !== 'string') throw new InputError(at, 'expected a content part with a type');
    if (allowed.has(part.type) && typeof part.text === 'string') {
      texts.push(part.text);
      parts.push({ type: 'text', text: part.text });
    } else if (part.type === 'input_image' && allowed.has('input_image')) {
      const url = typeof part.image_url === 'string' ? part.image_url : undefined;
      if (!url) throw new InputError(`${at}.image_url`, 'an image must be given by URL (data: URLs included); file ids need the OpenAI file store');
      parts.push({ type: 'image_url', image_url: { url } });
    } else {
      throw new InputError(`${at}.type`, `got ${JSON.stringify(part.type)}`, [...allowed].join(', '));
    }
  });
  return { text: texts.join(''), parts };
}

const USER_PARTS = new Set(['input_text', 'input_image', 'text']);
const ASSISTANT_PARTS = new Set(['output_text', 'text', 'input_text']);
const OUTPUT_PARTS = new Set(['input_text', 'output_text', 'text']);

/** One assistant turn being gathered from consecutive reasoning, message and call items. */
class AssistantTurn {
  reasoning: string[] = [];
  content: string[] = [];
  calls: JsonRecord[] = [];
  get empty(): boolean {
    return this.reasoning.length === 0 && this.content.length === 0 && this.calls.length === 0;
  }
  message(): JsonObject {
    const message: JsonObject = { role: 'assistant', content: this.content.join('') };
    if (this.reasoning.length > 0) message.reasoning_content = this.reasoning.join('');
    if (this.calls.length > 0) message.tool_calls = this.calls;
    return message;
  }
}

function inputMessages(input: JsonValue | undefined, instructions: JsonValue | undefined): JsonObject[] {
  const messages: JsonObject[] = [];
  if (typeof instructions === 'string' && instructions !== '') messages.push({ role: 'system', content: instructions });
  else if (instructions !== undefined && instructions !== null && typeof instructions !== 'string') throw new InputError('instructions', 'expected a string');
  if (typeof input === 'string') {
    messages.push({ role: 'user', content: input });
    return messages;
  }
  if (!Array.isArray(input)) throw new InputError('input', 'expected a string or an array of input items');
  let turn = new AssistantTurn();
  const flush = (): void => {
    if (!turn.empty) messages.push(turn.message());
    turn = new AssistantTurn();
  };
  input.forEach((item, i) => {
    const where = `input[${i}]`;
    if (!isRecord(item)) throw new InputError(where, 'expected an input item object');
    const type = item.type ?? (typeof item.role === 'string' ? 'message' : undefined);
    switch (type) {
      case 'message': {
        const role = item.role;
        if (role === 'assistant') {
          turn.content.push(partsText(item.content, `${where}.content`, ASSISTANT_PARTS).text);
          return;
        }
        flush();
        if (role === 'user') {
          const { parts } = partsText(item.content, `${where}.content`, USER_PARTS);
          messages.push({ role: 'user', content: parts.length === 1 && typeof parts[0] === 'string' ? parts[0] : parts.map((p) => (typeof p === 'string' ? { type: 'text', text: p } : p)) });
        } else if (role === 'system' || role === 'developer') {
          messages.push({ role: 'system', content: partsText(item.content, `${where}.content`, OUTPUT_PARTS).text });
        } else throw new InputError(`${where}.role`, `got ${JSON.stringify(role ?? null)}`, 'user, assistant, system or developer');
        return;
      }
      case 'reasoning': {
        // A new reasoning item after calls or text starts the next assistant turn (the previous one had no tool output).
        if (turn.calls.length > 0 || turn.content.length > 0) flush();
        turn.reasoning.push(reasoningText(item));
        return;
      }
      case 'function_call':
      case 'custom_tool_call': {
        const callId = item.call_id;
        if (typeof callId !== 'string' || typeof item.name !== 'string') throw new InputError(where, `a ${type} item needs call_id and name strings`);
        let args: string;
        if (type === 'function_call') {
          if (typeof item.arguments !== 'string') throw new InputError(`${where}.arguments`, 'expected the arguments as a JSON string');
          args = item.arguments;
        } else {
          if (typeof item.input !== 'string') throw new InputError(`${where}.input`, 'expected the tool input as a string');
          args = JSON.stringify({ input: item.input });
        }
        turn.calls.push({ id: callId, type: 'function', function: { name: item.name, arguments: args } });
        return;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        flush();
        if (typeof item.call_id !== 'string') throw new InputError(`${where}.call_id`, 'expected the id of the call this output answers');
        const output = typeof item.output === 'string' ? item.output : partsText(item.output, `${where}.output`, OUTPUT_PARTS).text;
        messages.push({ role: 'tool', tool_call_id: item.call_id, content: output });
        return;
      }
      default:
        throw new InputError(`${where}.type`, `got ${JSON.stringify(type ?? null)}`, 'message, reasoning, function_call, function_call_output, custom_tool_call or custom_tool_call_output (a chat engine serves no hosted tools)');
    }
  });
  flush();
  return messages;
}

function reasoningText(item: JsonRecord): string {
  const texts = (list: JsonValue | undefined, type: string): string[] =>
    Array.isArray(list) ? list.flatMap((part) => (isRecord(part) && part.type === type && typeof part.text === 'string' ? [part.text] : [])) : [];
  const content = texts(item.content, 'reasoning_text');
  if (content.length > 0) return content.join('');
  const decoded = decodeReasoning(item.encrypted_content);
  if (decoded !== null) return decoded;
  return texts(item.summary, 'summary_text').join('\n\n');
}

function chatTools(raw: JsonValue | undefined): { tools: JsonObject[]; custom: Set<string> } {
  const custom = new Set<string>();
  if (raw === undefined || raw === null) return { tools: [], custom };
  if (!Array.isArray(raw)) throw new InputError('tools', 'expected an array of tools');
  const tools = raw.map((tool, i): JsonObject => {
    const where = `tools[${i}]`;
    if (!isRecord(tool) || typeof tool.name !== 'string') throw new InputError(where, 'expected a tool with a type and a name');
    const description: JsonObject = typeof tool.description === 'string' ? { description: tool.description } : {};
    if (tool.type === 'function') {
      return { type: 'function', function: { name: tool.name, ...description, parameters: isRecord(tool.parameters) ? tool.parameters : { type: 'object', properties: {} }, ...(typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}) } };
    }
    if (tool.type === 'custom') {
      custom.add(tool.name);
      return { type: 'function', function: { name: tool.name, ...description, parameters: CUSTOM_PARAMETERS } };
    }
    throw new InputError(`${where}.type`, `got ${JSON.stringify(tool.type ?? null)}`, 'function or custom (hosted tools need OpenAI\'s servers)');
  });
  return { tools, custom };
}

function chatToolChoice(choice: JsonValue | undefined): JsonValue | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (isRecord(choice) && (choice.type === 'function' || choice.type === 'custom') && typeof choice.name === 'string') return { type: 'function', function: { name: choice.name } };
  throw new InputError('tool_choice', `got ${JSON.stringify(choice)}`, '"auto", "none", "required" or {"type": "function", "name": …}');
}

function responseFormat(text: JsonValue | undefined): JsonValue | undefined {
  const format = isRecord(text) ? text.format : undefined;
  if (!isRecord(format) || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') return { type: 'json_schema', json_schema: { name: format.name ?? 'response', schema: format.schema ?? {}, ...(typeof format.strict === 'boolean' ? { strict: format.strict } : {}) } };
  throw new InputError('text.format.type', `got ${JSON.stringify(format.type)}`, 'text, json_object or json_schema');
}

/** A Responses API body as the chat-completions body sent upstream. */
export function responsesToChat(body: JsonRecord): ResponsesChat {
  if (typeof body.model !== 'string') throw new InputError('model', 'expected the model name');
  if (body.previous_response_id !== undefined && body.previous_response_id !== null) {
    throw new InputError('previous_response_id', 'the gateway keeps no responses to continue from', 'the whole conversation in input (store: false), as codex sends it');
  }
  if (body.conversation !== undefined && body.conversation !== null) throw new InputError('conversation', 'the gateway keeps no conversations', 'the whole conversation in input');
  if (body.background === true) throw new InputError('background', 'background responses are not served', 'false');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw new InputError('stream', `got ${JSON.stringify(body.stream)}`, 'true or false');
  const { tools, custom } = chatTools(body.tools);
  const chat: JsonObject = { model: body.model, messages: inputMessages(body.input, body.instructions) };
  if (tools.length > 0) chat.tools = tools;
  const toolChoice = chatToolChoice(body.tool_choice);
  if (toolChoice !== undefined) chat.tool_choice = toolChoice;
  if (typeof body.parallel_tool_calls === 'boolean') chat.parallel_tool_calls = body.parallel_tool_calls;
  if (body.temperature !== undefined && body.temperature !== null) chat.temperature = body.temperature;
  if (body.top_p !== undefined && body.top_p !== null) chat.top_p = body.top_p;
  if (body.max_output_tokens !== undefined && body.max_output_tokens !== null) chat.max_tokens = body.max_output_tokens;
  const effort = isRecord(body.reasoning) ? body.reasoning.effort : undefined;
  if (typeof effort === 'string') chat.reasoning_effort = effort;
  const format = responseFormat(body.text);
  if (format !== undefined) chat.response_format = format;
  if (body.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  const include = Array.isArray(body.include) ? body.include : [];
  return { chat, customTools: custom, encryptedReasoning: include.includes('reasoning.encrypted_content') };
}
