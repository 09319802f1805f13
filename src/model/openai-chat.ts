import type { JsonValue, ModelClient } from '../core/index.ts';
import { isObject, postJson, redactUrl, transportOf, type ParseOutcome, type TransportOptions } from './http.ts';
import { parseChatCompletion } from './openai-parse.ts';
import { buildChatBody, type OpenAIFlavor } from './openai-wire.ts';

export const MINIMAX_BASE_URL = 'https://api.minimax.io/v1';

export interface OpenAIChatOptions extends TransportOptions {
  /** Base URL ending in `/v1` (vLLM, SGLang, llama.cpp server, OpenRouter); MiniMax's by default for that flavor. */
  baseURL?: string;
  model: string;
  flavor?: OpenAIFlavor;
  /** What `client.spec` reports; derived from the URL and model when left out. */
  spec?: string;
}

/** A ModelClient for any OpenAI-compatible `/chat/completions` endpoint. */
export function createOpenAIChat(options: OpenAIChatOptions): ModelClient {
  const flavor = options.flavor ?? 'generic';
  const baseURL = (options.baseURL ?? (flavor === 'minimax' ? MINIMAX_BASE_URL : '')).replace(/\/+$/, '');
  if (!baseURL) throw new Error('createOpenAIChat: baseURL is required for the generic flavor (expected e.g. http://localhost:8000/v1)');
  const url = `${baseURL}/chat/completions`;
  const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const parse = flavor === 'minimax' ? parseMiniMax : parseChatCompletion;
  return {
    specificationVersion: 'v1',
    spec: options.spec ?? (flavor === 'minimax' ? `minimax:${options.model}` : `openai:${redactUrl(baseURL)}#${options.model}`),
    complete(request, { signal }) {
      return postJson({
        url,
        body: buildChatBody(request, { model: options.model, flavor }),
        headers,
        ...transportOf(options),
        signal,
        parse,
      });
    },
  };
}

const MINIMAX_RATE_LIMIT = 1002;

/** MiniMax reports some errors as HTTP 200 with `base_resp.status_code` ≠ 0. */
function parseMiniMax(json: JsonValue): ParseOutcome {
  if (isObject(json) && isObject(json.base_resp)) {
    const code = json.base_resp.status_code;
    if (typeof code === 'number' && code !== 0) {
      const text = typeof json.base_resp.status_msg === 'string' ? json.base_resp.status_msg : 'no status_msg';
      return { ok: false, failure: { kind: 'http', message: `MiniMax base_resp.status_code ${code}: ${text}`, retryable: code === MINIMAX_RATE_LIMIT } };
    }
  }
  return parseChatCompletion(json);
}
