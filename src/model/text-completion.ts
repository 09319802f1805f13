import { InputError, type AssistantMessage, type FinishReason, type JsonObject, type JsonValue, type Message, type ModelClient, type ModelRequest, type TokenTrace, type ToolCall, type Usage } from '../core/index.ts';
import {
  getFormat,
  loneSurrogateIndex,
  thinkOptionsForPrompt,
  toChatMessages,
  toChatTools,
  type ChatTemplate,
  type FormatError,
  type FormatName,
  type ParsedCompletion,
  type Tokenizer,
  type ToolCallFormat,
} from '../formats/index.ts';
import { isObject, postJson, transportOf, type ParseOutcome, type TransportOptions } from './http.ts';
import { isCount, mapFinishReason, notALogprob } from './openai-parse.ts';
import { checkBaseUrl, endpointUrl, redactUrl } from './secrets.ts';

// A model behind a raw `/v1/completions` endpoint (vLLM, SGLang, llama.cpp server): Gauntlet
// renders the prompt with the model's own chat template and parses the completion text with the
// model's tool-call format, instead of letting the server do either. This is how a scaffold runs
// formats the server was not configured for, perturbs formats, and sees the exact text the model
// wrote.
//
// Token exactness. For turn k+1 to extend turn k's tokens (prompt k + completion k) — what lets
// the training export merge turns into one sequence — the prompt must hold the completion exactly
// as generated. Rebuilding an assistant turn from parsed fields (reasoning_content + tool_calls)
// re-serialises it: JSON spacing, key order and whitespace around tags can differ from what the
// model wrote. So by default earlier text-completion turns go back to the template as their stored
// raw completion text, and a template that splits `<think>`/tool-call text out of content itself
// (Qwen3-, MiniMax-M2-style) re-renders them byte for byte wherever it keeps them. What remains is
// the template's own choice (dropping reasoning of turns before the last user query) and
// retokenisation at the turn boundary; both show up as prefix mismatches of the engine's ids,
// which the training module detects (isTokenPrefix) and turns into a new segment, never a guess.

export interface TextCompletionOptions extends TransportOptions {
  /** Base URL ending in `/v1`. */
  baseURL: string;
  model: string;
  template: ChatTemplate;
  format: FormatName | ToolCallFormat;
  /** Needed for `sendTokenIds`; ids are computed locally and the engine's own ids are still recorded. */
  tokenizer?: Tokenizer;
  /** Send `prompt` as token ids (vLLM and SGLang accept them) instead of text. */
  sendTokenIds?: boolean;
  /** Template kwargs for every call (`enable_thinking`, …); `sampling.extra.chat_template_kwargs` adds to them per call. */
  templateVars?: Record<string, unknown>;
  /**
   * Resend earlier text-completion turns as their raw completion text. `auto` (the default) does
   * so when the template handles `</think>` inside content itself; otherwise the parsed fields go.
   */
  rawTurns?: 'auto' | boolean;
  spec?: string;
}

export function createTextCompletionModel(options: TextCompletionOptions): ModelClient {
  if (!options.baseURL.trim()) throw new InputError('createTextCompletionModel: baseURL', 'a base URL is required', 'e.g. http://localhost:8000/v1');
  const baseURL = checkBaseUrl(options.baseURL, { where: 'createTextCompletionModel: baseURL', envVar: 'OPENAI_API_KEY' });
  if (options.sendTokenIds && !options.tokenizer) throw new Error('createTextCompletionModel: sendTokenIds needs a tokenizer (expected options.tokenizer)');
  const format = typeof options.format === 'string' ? getFormat(options.format, 'createTextCompletionModel: format') : options.format;
  const url = endpointUrl(baseURL, '/completions');
  const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const rawTurns = options.rawTurns === undefined || options.rawTurns === 'auto' ? (options.template.source()?.includes('</think>') ?? false) : options.rawTurns;

  return {
    specificationVersion: 'v1',
    spec: options.spec ?? `text-completion:${redactUrl(baseURL)}#${options.model}`,
    async complete(request, call) {
      const { extra, kwargs } = splitExtra(request.sampling.extra);
      const rendered = options.template.render({
        messages: toChatMessages(request.messages, { rawCompletions: rawTurns }),
        tools: toChatTools(request.tools),
        addGenerationPrompt: true,
        vars: { ...options.templateVars, ...kwargs },
      });
      if (!rendered.ok) {
        // No request was sent; an engine rendering this itself would answer HTTP 400.
        return { ok: false, kind: 'http', message: `${redactUrl(url)}: the prompt could not be rendered, nothing was sent (${rendered.message})`, retryable: false, silentMs: 0 };
      }
      const lone = loneSurrogateIndex(rendered.text);
      if (lone >= 0) {
        // Half of a surrogate pair (text cut mid-emoji) has no UTF-8 encoding: an engine's
        // tokenizer refuses the prompt, or a lenient one sends other text than was rendered.
        const code = rendered.text.charCodeAt(lone).toString(16).toUpperCase();
        const where = request.messages.findIndex((message) => holdsLoneSurrogate(message));
        return {
          ok: false,
          kind: 'http',
          message: `${redactUrl(url)}: the prompt holds a lone surrogate U+${code} at character ${lone}${where >= 0 ? ` (from messages[${where}])` : ''}, which has no UTF-8 encoding; nothing was sent`,
          retryable: false,
          silentMs: 0,
        };
      }
      const sentIds = options.sendTokenIds && options.tokenizer ? options.tokenizer.encode(rendered.text, { addSpecialTokens: false }) : undefined;
      const body: JsonObject = { model: options.model, prompt: sentIds ?? rendered.text, ...samplingFields(request), return_token_ids: true, ...extra };
      const engineLimit = body.max_tokens === undefined;
      return postJson({
        url,
        body,
        headers,
        ...transportOf(options, call),
        parse: (json) => parseCompletionResponse(json, { request, format, think: thinkOptionsForPrompt(rendered.text), sentIds, engineLimit }),
      });
    },
  };
}

function holdsLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return loneSurrogateIndex(value) >= 0;
  if (Array.isArray(value)) return value.some(holdsLoneSurrogate);
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsLoneSurrogate);
  return false;
}

/** `chat_template_kwargs` are ours to apply when rendering; everything else in `extra` goes in the body. */
function splitExtra(extra: JsonObject | undefined): { extra: JsonObject; kwargs: JsonObject } {
  if (!extra) return { extra: {}, kwargs: {} };
  const { chat_template_kwargs: kwargs, ...rest } = extra;
  return { extra: rest, kwargs: isObject(kwargs) ? kwargs : {} };
}

function samplingFields(request: ModelRequest): JsonObject {
  const { sampling } = request;
  const body: JsonObject = {};
  if (sampling.maxTokens !== undefined) body.max_tokens = sampling.maxTokens;
  if (sampling.temperature !== undefined) body.temperature = sampling.temperature;
  if (sampling.topP !== undefined) body.top_p = sampling.topP;
  if (sampling.topK !== undefined) body.top_k = sampling.topK;
  if (sampling.seed !== undefined) body.seed = sampling.seed;
  if (sampling.stop !== undefined) body.stop = sampling.stop;
  return body;
}

export interface ParseContext {
  request: ModelRequest;
  format: ToolCallFormat;
  /** Whether the rendered prompt opened the think block (or switched thinking off): decides what is reasoning. */
  think: ReturnType<typeof thinkOptionsForPrompt>;
  sentIds: number[] | undefined;
  /**
   * The request set no `max_tokens`, so the engine applied its own: vLLM and SGLang stop
   * `/v1/completions` after 16 tokens then (chat completions default to the context left).
   */
  engineLimit?: boolean;
}

/** What vLLM and SGLang generate on `/v1/completions` when the request sets no `max_tokens`. */
export const ENGINE_DEFAULT_MAX_TOKENS = 16;

/** Reads `choices[0].text` of a completions response and parses it with the format. */
export function parseCompletionResponse(json: JsonValue, context: ParseContext): ParseOutcome {
  if (!isObject(json)) return malformed('expected a JSON object');
  const choice = Array.isArray(json.choices) ? json.choices[0] : undefined;
  if (!isObject(choice) || typeof choice.text !== 'string') return malformed('expected choices[0].text to be a string');
  const text = choice.text;
  const parsed = context.format.parse(text, { tools: context.request.tools, ...context.think });
  const message = assistantMessage(text, parsed, context);
  const tokens = engineTokens(json, choice, context.sentIds);
  if (typeof tokens === 'string') return malformed(tokens);
  // Cut at a limit nobody chose: the reply says nothing about the model, so it must not be scored
  // as output_truncated; the run's settings are at fault (an infra error naming the fix).
  if (context.engineLimit && mapFinishReason(choice.finish_reason) === 'length') return cutByEngineDefault(json, tokens);
  return {
    ok: true,
    response: {
      message,
      finishReason: finishReason(choice.finish_reason, message.toolCalls.length > 0),
      usage: usageOf(json.usage),
      ...(typeof json.model === 'string' ? { model: json.model } : {}),
      ...(typeof json.id === 'string' ? { responseId: json.id } : {}),
      ...(tokens ? { tokens } : {}),
    },
  };
}

function cutByEngineDefault(json: JsonObject, tokens: TokenTrace | undefined): ParseOutcome {
  const usage = usageOf(json.usage);
  const count = usage.completionTokens ?? tokens?.completionIds?.length;
  const cut = count === undefined ? 'the engine cut the completion short' : `the engine cut the completion at ${count} token${count === 1 ? '' : 's'}`;
  const usual = count === ENGINE_DEFAULT_MAX_TOKENS ? ', the default vLLM and SGLang apply' : '';
  return {
    ok: false,
    failure: {
      kind: 'http',
      message: `${cut} (finish_reason "length")${usual}: the request set no max_tokens, so the engine's own default limit stopped it, not the model; set a completion limit (--max-tokens N, sampling.maxTokens)`,
      retryable: false,
    },
  };
}

function assistantMessage(text: string, parsed: ParsedCompletion, context: ParseContext): AssistantMessage {
  // Ids continue across the conversation, so a replayed rollout gets the same ids.
  const firstId = previousCallCount(context.request.messages);
  const toolCalls: ToolCall[] = parsed.toolCalls.map((call, i) => {
    const problems = parsed.errors.filter((error) => error.callIndex === i);
    const unusable = call.arguments === null || call.name === '';
    return {
      // The model's own id where its format has one (Kimi-K2 refers back to it); else positional.
      id: call.id ?? `call_${firstId + i}`,
      name: call.name,
      arguments: call.arguments,
      argumentsText: call.argumentsText,
      ...(unusable ? { parseError: problems.map((p) => p.message).join('; ') || `tool call ${i} could not be parsed` } : {}),
    };
  });
  const stored: JsonObject = { text, format: context.format.name };
  // Every problem also travels with the turn (unknown tools, coercions, unclosed blocks), so the
  // agent loop can tell the model and reports can count them.
  if (parsed.errors.length > 0) stored.parseErrors = parsed.errors.map(errorJson);
  return {
    role: 'assistant',
    content: parsed.content,
    ...(parsed.reasoning !== null ? { reasoning: { text: parsed.reasoning, source: 'text_format' as const } } : {}),
    toolCalls,
    provider: { api: 'text-completion', message: stored },
  };
}

function errorJson(error: FormatError): JsonObject {
  return { kind: error.kind, message: error.message, ...(error.callIndex !== undefined ? { callIndex: error.callIndex } : {}) };
}

function previousCallCount(messages: readonly Message[]): number {
  return messages.reduce((n, m) => n + (m.role === 'assistant' ? m.toolCalls.length : 0), 0);
}

function finishReason(value: JsonValue | undefined, hasCalls: boolean): FinishReason {
  const mapped = mapFinishReason(value);
  // Completions endpoints never say "tool_calls": the calls are our parse of the text.
  return mapped === 'stop' && hasCalls ? 'tool_calls' : mapped;
}

/**
 * Engine ids: vLLM puts prompt ids top-level or per choice; `return_tokens_as_token_ids` writes
 * `token_id:N`. A string says why the logprobs cannot be used.
 */
function engineTokens(json: JsonObject, choice: JsonObject, sentIds: number[] | undefined): TokenTrace | undefined | string {
  const logprobs = isObject(choice.logprobs) ? choice.logprobs : undefined;
  const completionIds = intArray(choice.token_ids) ?? idsFromTokenStrings(logprobs?.tokens);
  const values = Array.isArray(logprobs?.token_logprobs) ? logprobs.token_logprobs : undefined;
  const completionLogprobs = values?.every((v) => typeof v === 'number') ? (values as number[]) : undefined;
  const impossible = completionLogprobs ? notALogprob(completionLogprobs, (i) => `choices[0].logprobs.token_logprobs[${i}]`) : null;
  if (impossible !== null) return impossible;
  // Ids we sent are exactly what the engine consumed, so they stand in when it echoes none.
  const promptIds = intArray(json.prompt_token_ids) ?? intArray(choice.prompt_token_ids) ?? sentIds;
  if (!completionIds && !completionLogprobs) return sentIds ? { source: 'tokenizer', promptIds: sentIds } : undefined;
  return {
    source: 'engine',
    ...(promptIds ? { promptIds } : {}),
    ...(completionIds ? { completionIds } : {}),
    ...(completionLogprobs ? { completionLogprobs } : {}),
  };
}

function idsFromTokenStrings(tokens: JsonValue | undefined): number[] | undefined {
  if (!Array.isArray(tokens) || tokens.length === 0) return undefined;
  const ids: number[] = [];
  for (const token of tokens) {
    const match = typeof token === 'string' ? /^token_id:(\d+)$/.exec(token) : null;
    const id = match ? Number(match[1]) : Number.NaN;
    if (!Number.isSafeInteger(id)) return undefined;
    ids.push(id);
  }
  return ids;
}

function intArray(value: JsonValue | undefined): number[] | undefined {
  return Array.isArray(value) && value.every((item) => Number.isSafeInteger(item)) ? (value as number[]) : undefined;
}

function usageOf(raw: JsonValue | undefined): Usage {
  if (!isObject(raw)) return {};
  const usage: Usage = {};
  if (isCount(raw.prompt_tokens)) usage.promptTokens = raw.prompt_tokens;
  if (isCount(raw.completion_tokens)) usage.completionTokens = raw.completion_tokens;
  return usage;
}

function malformed(message: string): ParseOutcome {
  return { ok: false, failure: { kind: 'malformed_response', message, retryable: false } };
}

