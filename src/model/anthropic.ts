import type { AssistantMessage, FinishReason, JsonObject, JsonValue, Message, ModelClient, ModelRequest, Reasoning, ToolCall, Usage } from '../core/index.ts';
import { anthropicMessagesStream } from './anthropic-stream.ts';
import { isObject, postJson, transportOf, type ParseOutcome, type TransportOptions } from './http.ts';
import { describe, isCount } from './openai-parse.ts';
import { checkBaseUrl, endpointUrl, redactUrl } from './secrets.ts';

export const ANTHROPIC_VERSION = '2023-06-01';
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

export interface AnthropicMessagesOptions extends TransportOptions {
  /** Without `/v1`: `https://api.anthropic.com`, `https://api.minimax.io/anthropic`. */
  baseURL: string;
  model: string;
  spec?: string;
  /** Ask for an SSE stream (the default), so silence, not length, times a request out. A plain JSON answer is accepted too. */
  stream?: boolean;
}

/** A ModelClient for Anthropic's Messages API and compatible endpoints (MiniMax's Anthropic route). */
export function createAnthropicMessages(options: AnthropicMessagesOptions): ModelClient {
  const baseURL = checkBaseUrl(options.baseURL, { where: 'createAnthropicMessages: baseURL', envVar: 'ANTHROPIC_API_KEY' });
  const url = endpointUrl(baseURL, '/v1/messages');
  const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION, ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}) };
  const stream = options.stream ?? true;
  return {
    specificationVersion: 'v1',
    spec: options.spec ?? `anthropic:${redactUrl(baseURL)}#${options.model}`,
    complete(request, call) {
      return postJson({
        url,
        body: buildMessagesBody(request, { model: options.model, stream }),
        headers,
        ...transportOf(options, call),
        parse: parseMessagesResponse,
        ...(stream ? { stream: anthropicMessagesStream } : {}),
      });
    },
  };
}

export function buildMessagesBody(request: ModelRequest, options: { model: string; stream?: boolean }): JsonObject {
  const system = request.messages.filter((m) => m.role === 'system').map((m) => m.content);
  const body: JsonObject = {
    model: options.model,
    max_tokens: request.sampling.maxTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
    ...(system.length > 0 ? { system: system.join('\n\n') } : {}),
    messages: toAnthropicMessages(request.messages),
  };
  if (request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.parameters }));
  }
  if (request.toolChoice) body.tool_choice = { type: request.toolChoice === 'required' ? 'any' : request.toolChoice };
  const { sampling } = request;
  if (sampling.temperature !== undefined) body.temperature = sampling.temperature;
  if (sampling.topP !== undefined) body.top_p = sampling.topP;
  if (sampling.topK !== undefined) body.top_k = sampling.topK;
  if (sampling.stop !== undefined) body.stop_sequences = sampling.stop;
  if (options.stream) body.stream = true;
  // `thinking: {type: 'enabled', budget_tokens}` and the like arrive here.
  if (sampling.extra) Object.assign(body, sampling.extra);
  return body;
}

/**
 * Neutral messages to Anthropic turns. Tool results become `tool_result` blocks of a user turn;
 * adjacent user turns are merged, since the API wants roles to alternate.
 */
export function toAnthropicMessages(messages: readonly Message[]): JsonObject[] {
  const out: JsonObject[] = [];
  const appendUser = (blocks: JsonObject[], plain?: string): void => {
    const last = out.at(-1);
    if (last && last.role === 'user') {
      const existing = typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : (last.content as JsonValue[]);
      last.content = [...existing, ...blocks];
      return;
    }
    out.push({ role: 'user', content: plain ?? blocks });
  };
  for (const message of messages) {
    if (message.role === 'system') continue;
    if (message.role === 'user') appendUser([{ type: 'text', text: message.content }], message.content);
    else if (message.role === 'tool') appendUser([{ type: 'tool_result', tool_use_id: message.toolCallId, content: message.content, is_error: message.isError }]);
    else out.push({ role: 'assistant', content: assistantContent(message) });
  }
  return out;
}

const THINKING_TYPES = new Set(['thinking', 'redacted_thinking']);

/** The content array exactly as received (signatures and all), unless reasoning is dropped. */
function assistantContent(message: AssistantMessage): JsonValue[] {
  const received = message.provider?.api === 'anthropic-messages' && Array.isArray(message.provider.message) ? message.provider.message : undefined;
  if (received) {
    if (!message.reasoningDropped) return received;
    return received.filter((block) => !(isObject(block) && typeof block.type === 'string' && THINKING_TYPES.has(block.type)));
  }
  // Without a signature a thinking block would be rejected, so a rebuilt turn carries none.
  const blocks: JsonValue[] = [];
  if (message.content !== '') blocks.push({ type: 'text', text: message.content });
  for (const call of message.toolCalls) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: call.arguments ?? {} });
  return blocks;
}

export function parseMessagesResponse(json: JsonValue): ParseOutcome {
  if (!isObject(json)) return malformed(`expected a JSON object, got ${describe(json)}`);
  const content = json.content;
  if (!Array.isArray(content)) return malformed(`expected a content array in the response, got ${describe(content)}`);
  const texts: string[] = [];
  const thinking: string[] = [];
  const signatures: string[] = [];
  const redacted: JsonValue[] = [];
  const toolCalls: ToolCall[] = [];
  for (const [index, block] of content.entries()) {
    if (!isObject(block) || typeof block.type !== 'string') return malformed(`content[${index}]: expected a block with a type, got ${describe(block)}`);
    if (block.type === 'text' && typeof block.text === 'string') texts.push(block.text);
    else if (block.type === 'thinking' && typeof block.thinking === 'string') {
      thinking.push(block.thinking);
      if (typeof block.signature === 'string') signatures.push(block.signature);
    } else if (block.type === 'redacted_thinking') redacted.push(block);
    else if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string' || !isObject(block.input)) {
        return malformed(`content[${index}]: expected a tool_use block with id, name and an input object`);
      }
      toolCalls.push({ id: block.id, name: block.name, arguments: block.input, argumentsText: JSON.stringify(block.input) });
    }
    // Other block types (server tools, citations…) stay in the provider message untouched.
  }
  let reasoning: Reasoning | undefined;
  if (thinking.length > 0 || redacted.length > 0) {
    reasoning = {
      text: thinking.join('\n\n'),
      source: 'thinking_blocks',
      ...(signatures.length > 0 ? { signatures } : {}),
      ...(redacted.length > 0 ? { details: redacted } : {}),
    };
  }
  return {
    ok: true,
    response: {
      message: {
        role: 'assistant',
        content: texts.join(''),
        ...(reasoning ? { reasoning } : {}),
        toolCalls,
        provider: { api: 'anthropic-messages', message: content },
      },
      finishReason: mapStopReason(json.stop_reason),
      usage: parseUsage(json.usage),
      ...(typeof json.model === 'string' ? { model: json.model } : {}),
      ...(typeof json.id === 'string' ? { responseId: json.id } : {}),
    },
  };
}

function mapStopReason(value: JsonValue | undefined): FinishReason {
  switch (value) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
      return 'length';
    case 'refusal':
      return 'content_filter';
    default:
      return 'other';
  }
}

function parseUsage(raw: JsonValue | undefined): Usage {
  if (!isObject(raw)) return {};
  const usage: Usage = {};
  // Counts the record's schema rejects (-5, 1.5) would make the stored call unreadable.
  if (isCount(raw.input_tokens)) usage.promptTokens = raw.input_tokens;
  if (isCount(raw.output_tokens)) usage.completionTokens = raw.output_tokens;
  if (isCount(raw.cache_read_input_tokens)) usage.cachedPromptTokens = raw.cache_read_input_tokens;
  return usage;
}

function malformed(message: string): ParseOutcome {
  return { ok: false, failure: { kind: 'malformed_response', message, retryable: false } };
}
