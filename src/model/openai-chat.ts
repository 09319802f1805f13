import { InputError, type JsonValue, type ModelClient } from '../core/index.ts';
import { postJson, transportOf, type ParseOutcome, type TransportOptions } from './http.ts';
import { baseRespFailure, parseChatCompletion } from './openai-parse.ts';
import { openAIChatStream } from './openai-stream.ts';
import { buildChatBody, type OpenAIFlavor } from './openai-wire.ts';
import { checkBaseUrl, endpointUrl, redactUrl } from './secrets.ts';

export const MINIMAX_BASE_URL = 'https://api.minimax.io/v1';

export interface OpenAIChatOptions extends TransportOptions {
  /** Base URL ending in `/v1` (vLLM, SGLang, llama.cpp server, OpenRouter); MiniMax's by default for that flavor. */
  baseURL?: string;
  model: string;
  flavor?: OpenAIFlavor;
  /** What `client.spec` reports; derived from the URL and model when left out. */
  spec?: string;
  /** Ask for an SSE stream (the default), so silence, not length, times a request out. A plain JSON answer is accepted too. */
  stream?: boolean;
}

/** A ModelClient for any OpenAI-compatible `/chat/completions` endpoint. */
export function createOpenAIChat(options: OpenAIChatOptions): ModelClient {
  const flavor = options.flavor ?? 'generic';
  const given = options.baseURL ?? (flavor === 'minimax' ? MINIMAX_BASE_URL : '');
  if (!given.trim()) throw new InputError('createOpenAIChat: baseURL', 'a base URL is required for the generic flavor', 'e.g. http://localhost:8000/v1');
  const baseURL = checkBaseUrl(given, { where: 'createOpenAIChat: baseURL', envVar: flavor === 'minimax' ? 'MINIMAX_API_KEY' : 'OPENAI_API_KEY' });
  const url = endpointUrl(baseURL, '/chat/completions');
  const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const parse = flavor === 'minimax' ? parseMiniMax : parseChatCompletion;
  const stream = options.stream ?? true;
  return {
    specificationVersion: 'v1',
    spec: options.spec ?? (flavor === 'minimax' ? `minimax:${options.model}` : `openai:${redactUrl(baseURL)}#${options.model}`),
    complete(request, call) {
      return postJson({
        url,
        body: buildChatBody(request, { model: options.model, flavor, stream }),
        headers,
        ...transportOf(options, call),
        parse,
        ...(stream ? { stream: openAIChatStream } : {}),
      });
    },
  };
}

/** MiniMax reports some errors as HTTP 200 with `base_resp.status_code` ≠ 0. */
function parseMiniMax(json: JsonValue): ParseOutcome {
  const failure = baseRespFailure(json);
  return failure ? { ok: false, failure } : parseChatCompletion(json);
}
