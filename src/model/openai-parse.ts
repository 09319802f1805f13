import type { FinishReason, JsonObject, JsonValue, Reasoning, TokenTrace, ToolCall, Usage } from '../core/index.ts';
import { parsedTooDeep, TOO_DEEP } from '../formats/index.ts';
import { isObject, type Failure, type ParseOutcome } from './http.ts';
import { splitInlineThink } from './think.ts';

type JsonRecord = { [key: string]: JsonValue };

/** The neutral parts of one OpenAI-style assistant message. */
export interface ParsedOpenAIMessage {
  content: string;
  reasoning?: Reasoning;
  toolCalls: ToolCall[];
}

/** Reads `choices[0].message` and the rest of a chat completion into a ModelResponse. */
export function parseChatCompletion(json: JsonValue): ParseOutcome {
  if (!isObject(json)) return malformed(`expected a JSON object, got ${describe(json)}`);
  const choices = json.choices;
  const choice = Array.isArray(choices) ? choices[0] : undefined;
  if (!isObject(choice) || !isObject(choice.message)) return malformed('expected choices[0].message in the response');
  const received = choice.message;
  const parsed = parseOpenAIMessage(received);
  if (typeof parsed === 'string') return malformed(`choices[0].message: ${parsed}`);
  const tokens = engineTokens(json, choice);
  if (typeof tokens === 'string') return malformed(tokens);
  return {
    ok: true,
    response: {
      message: {
        role: 'assistant',
        content: parsed.content,
        ...(parsed.reasoning ? { reasoning: parsed.reasoning } : {}),
        toolCalls: parsed.toolCalls,
        provider: { api: 'openai-chat', message: received },
      },
      finishReason: mapFinishReason(choice.finish_reason),
      usage: parseUsage(json.usage),
      ...(typeof json.model === 'string' ? { model: json.model } : {}),
      ...(typeof json.id === 'string' ? { responseId: json.id } : {}),
      ...(tokens ? { tokens } : {}),
    },
  };
}

/** Content, reasoning and tool calls of an assistant message; a string says what was wrong. */
export function parseOpenAIMessage(message: JsonRecord): ParsedOpenAIMessage | string {
  const rawContent = message.content;
  let content: string;
  if (rawContent === null || rawContent === undefined) content = '';
  else if (typeof rawContent === 'string') content = rawContent;
  else if (Array.isArray(rawContent)) content = rawContent.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('');
  else return `expected content to be a string, an array of parts or null, got ${describe(rawContent)}`;

  let reasoning: Reasoning | undefined;
  const details = Array.isArray(message.reasoning_details) ? message.reasoning_details : undefined;
  const withDetails = details ? { details } : {};
  if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '') {
    reasoning = { text: message.reasoning_content, source: 'reasoning_content_field', ...withDetails };
  } else if (typeof message.reasoning === 'string' && message.reasoning !== '') {
    reasoning = { text: message.reasoning, source: 'reasoning_field', ...withDetails };
  } else if (details && details.length > 0) {
    const text = details.map((item) => (isObject(item) && typeof item.text === 'string' ? item.text : '')).join('');
    reasoning = { text, source: 'reasoning_details', details };
  } else {
    const split = splitInlineThink(content);
    if (split.reasoning !== null) {
      reasoning = { text: split.reasoning, source: 'inline_think' };
      content = split.visible;
    }
  }

  const rawCalls = message.tool_calls;
  if (rawCalls !== undefined && rawCalls !== null && !Array.isArray(rawCalls)) return `expected tool_calls to be an array, got ${describe(rawCalls)}`;
  const toolCalls: ToolCall[] = [];
  for (const [index, raw] of (rawCalls ?? []).entries()) {
    const call = parseToolCall(raw, index);
    if (typeof call === 'string') return `tool_calls[${index}]: ${call}`;
    toolCalls.push(call);
  }
  return { content, ...(reasoning ? { reasoning } : {}), toolCalls };
}

function parseToolCall(raw: JsonValue, index: number): ToolCall | string {
  if (!isObject(raw) || !isObject(raw.function)) return `expected {id, type: 'function', function: {name, arguments}}, got ${describe(raw)}`;
  const fn = raw.function;
  if (typeof fn.name !== 'string') return `expected function.name to be a string, got ${describe(fn.name)}`;
  // Some servers send parsed objects; the text is then our serialisation of them.
  const argumentsText = typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {});
  return {
    // Provider ids are kept as received; only a server that sends none gets a positional one.
    id: typeof raw.id === 'string' ? raw.id : `call_${index}`,
    name: fn.name,
    ...parseArguments(argumentsText),
  };
}

/** The model's argument text, parsed when it is a JSON object; otherwise null and the reason. */
export function parseArguments(argumentsText: string): Pick<ToolCall, 'arguments' | 'argumentsText' | 'parseError'> {
  let value: unknown;
  try {
    value = JSON.parse(argumentsText);
  } catch (error) {
    return { arguments: null, argumentsText, parseError: `arguments are not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { arguments: null, argumentsText, parseError: `arguments must be a JSON object, got ${describe(value as JsonValue)}` };
  }
  // Deeper values overflow the stack where the call is validated, stored and read back: a model
  // that wrote one made a malformed call (its text is kept), as the text formats already say.
  if (parsedTooDeep(argumentsText, value)) return { arguments: null, argumentsText, parseError: `arguments ${TOO_DEEP}` };
  return { arguments: value as JsonObject, argumentsText };
}

export function mapFinishReason(value: JsonValue | undefined): FinishReason {
  switch (value) {
    case 'stop':
      return 'stop';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'other';
  }
}

function parseUsage(raw: JsonValue | undefined): Usage {
  if (!isObject(raw)) return {};
  const usage: Usage = {};
  if (isCount(raw.prompt_tokens)) usage.promptTokens = raw.prompt_tokens;
  if (isCount(raw.completion_tokens)) usage.completionTokens = raw.completion_tokens;
  const completion = raw.completion_tokens_details;
  if (isObject(completion) && isCount(completion.reasoning_tokens)) usage.reasoningTokens = completion.reasoning_tokens;
  const prompt = raw.prompt_tokens_details;
  if (isObject(prompt) && isCount(prompt.cached_tokens)) usage.cachedPromptTokens = prompt.cached_tokens;
  return usage;
}

/**
 * Token ids and logprobs the engine returned: vLLM puts prompt ids top-level, SGLang per choice.
 * A string says why the logprobs cannot be used.
 */
function engineTokens(json: JsonRecord, choice: JsonRecord): TokenTrace | undefined | string {
  const promptIds = intArray(json.prompt_token_ids) ?? intArray(choice.prompt_token_ids);
  const completionIds = intArray(choice.token_ids);
  const logprobContent = isObject(choice.logprobs) && Array.isArray(choice.logprobs.content) ? choice.logprobs.content : undefined;
  const logprobs = logprobContent?.map((entry) => (isObject(entry) && typeof entry.logprob === 'number' ? entry.logprob : Number.NaN));
  const completionLogprobs = logprobs && !logprobs.some(Number.isNaN) ? logprobs : undefined;
  const impossible = completionLogprobs ? notALogprob(completionLogprobs, (i) => `choices[0].logprobs.content[${i}].logprob`) : null;
  if (impossible !== null) return impossible;
  if (!promptIds && !completionIds && !completionLogprobs) return undefined;
  return {
    source: 'engine',
    ...(promptIds ? { promptIds } : {}),
    ...(completionIds ? { completionIds } : {}),
    ...(completionLogprobs ? { completionLogprobs } : {}),
  };
}

/**
 * Where a list of logprobs holds +∞ (JSON.parse reads `1e999` so), which no probability has, or
 * null. −∞ is a token of probability 0 and is kept: the store keeps it exactly (store/non-finite.ts).
 */
export function notALogprob(logprobs: readonly number[], where: (index: number) => string): string | null {
  const i = logprobs.findIndex((lp) => lp === Number.POSITIVE_INFINITY);
  return i < 0 ? null : `${where(i)} is Infinity (expected a logprob: a number ≤ 0, or -Infinity for a token of probability 0)`;
}

/** Safe integers only: the stored record's schema rejects 1e300, and a record it rejects cannot be read back. */
function intArray(value: JsonValue | undefined): number[] | undefined {
  return Array.isArray(value) && value.every((item) => Number.isSafeInteger(item)) ? (value as number[]) : undefined;
}

/** A token count as the stored record's schema accepts it; anything else an endpoint sends is left out. */
export function isCount(value: JsonValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

const MINIMAX_RATE_LIMIT = 1002;

/** MiniMax's error inside an HTTP 200 body or stream chunk (`base_resp.status_code` ≠ 0); null when there is none. */
export function baseRespFailure(json: JsonValue): Failure | null {
  if (!isObject(json) || !isObject(json.base_resp)) return null;
  const code = json.base_resp.status_code;
  if (typeof code !== 'number' || code === 0) return null;
  const text = typeof json.base_resp.status_msg === 'string' ? json.base_resp.status_msg : 'no status_msg';
  return { kind: 'http', message: `MiniMax base_resp.status_code ${code}: ${text}`, retryable: code === MINIMAX_RATE_LIMIT };
}

function malformed(message: string): ParseOutcome {
  return { ok: false, failure: { kind: 'malformed_response', message, retryable: false } };
}

export function describe(value: JsonValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 60)}…` : text}`;
}
