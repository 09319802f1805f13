// `/v1/completions`: raw prompts in, raw text out. Passed through with the capture fields added;
// recorded with the prompt in the wire record and the completion text as the answer, unparsed
// (the gateway does not know the model's chat or tool-call format; the engine's ids are the data).
import { InputError, type JsonObject, type JsonValue, type ModelResponse, type TokenTrace, type Usage } from '../../core/index.ts';
import type { ParseOutcome } from '../../model/index.ts';
import { isCount, mapFinishReason } from '../../model/openai-parse.ts';
import { dataEvent, PassthroughTranslator, type Assembly, type ClientApiHandler, type Prepared, type UpstreamKind } from './api.ts';
import { askedOfCompletion, completionCaptureFields, stripCompletion, toVllmShape } from './capture.ts';
import { neutralCompletionRequest } from './neutral.ts';

type JsonRecord = { [key: string]: JsonValue };

function isRecord(value: JsonValue | undefined): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Safe integers only, as the chat parser reads them: the stored record's schema rejects 1e20, and a record it rejects cannot be read back. */
function intArray(value: JsonValue | undefined): number[] | undefined {
  return Array.isArray(value) && value.every((item) => Number.isSafeInteger(item)) ? (value as number[]) : undefined;
}

/** Joins streamed completion chunks: text, ids and logprob lists concatenated; the rest first or last seen. */
class CompletionAssembly implements Assembly {
  private readonly top: JsonRecord = {};
  private readonly choice: JsonRecord = {};

  push(chunk: JsonRecord): void {
    for (const [key, value] of Object.entries(chunk)) {
      if (key === 'choices' && Array.isArray(value)) {
        const first = value.find((c) => isRecord(c) && (c.index ?? 0) === 0);
        if (isRecord(first)) this.merge(first);
        this.top.choices = [];
      } else if (key === 'usage') {
        if (value !== null || !('usage' in this.top)) this.top.usage = value;
      } else if (this.top[key] === undefined || this.top[key] === null) this.top[key] = value;
    }
  }

  private merge(chunk: JsonRecord): void {
    for (const [key, value] of Object.entries(chunk)) {
      const current = this.choice[key];
      if (key === 'text' && typeof value === 'string') this.choice.text = (typeof current === 'string' ? current : '') + value;
      else if (key === 'token_ids' && Array.isArray(value)) this.choice.token_ids = [...(Array.isArray(current) ? current : []), ...value];
      else if (key === 'logprobs' && isRecord(value)) {
        const merged: JsonRecord = isRecord(current) ? { ...current } : {};
        for (const [field, list] of Object.entries(value)) {
          const existing = merged[field];
          merged[field] = Array.isArray(existing) && Array.isArray(list) ? [...existing, ...list] : (existing ?? list);
        }
        this.choice.logprobs = merged;
      } else if (key === 'finish_reason' || key === 'stop_reason') {
        if (value !== null || !(key in this.choice)) this.choice[key] = value;
      } else if (current === undefined || current === null) this.choice[key] = value;
    }
  }

  body(): JsonRecord {
    return { ...this.top, choices: 'text' in this.choice || 'index' in this.choice ? [this.choice] : [] };
  }
}

function usageOf(raw: JsonValue | undefined): Usage {
  if (!isRecord(raw)) return {};
  const usage: Usage = {};
  if (isCount(raw.prompt_tokens)) usage.promptTokens = raw.prompt_tokens;
  if (isCount(raw.completion_tokens)) usage.completionTokens = raw.completion_tokens;
  return usage;
}

/** A completions body as a ModelResponse: the text as the answer, the engine's ids and logprobs as its tokens. */
export function parseCompletionBody(json: JsonValue): ParseOutcome {
  const fail = (message: string): ParseOutcome => ({ ok: false, failure: { kind: 'malformed_response', message, retryable: false } });
  if (!isRecord(json)) return fail('expected a JSON object');
  const choice = Array.isArray(json.choices) ? json.choices[0] : undefined;
  if (!isRecord(choice) || typeof choice.text !== 'string') return fail('expected choices[0].text to be a string');
  const logprobs = isRecord(choice.logprobs) && Array.isArray(choice.logprobs.token_logprobs) ? choice.logprobs.token_logprobs : undefined;
  const completionLogprobs = logprobs?.every((v) => typeof v === 'number') ? (logprobs as number[]) : undefined;
  const promptIds = intArray(json.prompt_token_ids) ?? intArray(choice.prompt_token_ids);
  const completionIds = intArray(choice.token_ids);
  const tokens: TokenTrace | undefined =
    promptIds || completionIds || completionLogprobs
      ? { source: 'engine', ...(promptIds ? { promptIds } : {}), ...(completionIds ? { completionIds } : {}), ...(completionLogprobs ? { completionLogprobs } : {}) }
      : undefined;
  const response: ModelResponse = {
    message: { role: 'assistant', content: choice.text, toolCalls: [], provider: { api: 'text-completion', message: { text: choice.text } } },
    finishReason: mapFinishReason(choice.finish_reason),
    usage: usageOf(json.usage),
    ...(typeof json.model === 'string' ? { model: json.model } : {}),
    ...(typeof json.id === 'string' ? { responseId: json.id } : {}),
    ...(tokens ? { tokens } : {}),
  };
  return { ok: true, response };
}

export const completionKind: UpstreamKind = {
  path: '/completions',
  captureFields: (engine, body) => completionCaptureFields(engine, body.logprobs),
  assembly: () => new CompletionAssembly(),
  parse: parseCompletionBody,
  // A completions chunk has the body's own shape: the whole answer is one chunk.
  chunksOf: (body) => [body],
};

class CompletionTranslator extends PassthroughTranslator {
  protected shape(body: JsonRecord): JsonRecord {
    return this.options.tokens === 'expose' ? toVllmShape(body) : stripCompletion(body, this.asked, this.options.engine);
  }

  chunk(json: JsonRecord, data: string): string {
    return dataEvent(this.untouched ? data : JSON.stringify(this.shape(json)));
  }
}

export const completionsApi: ClientApiHandler = {
  api: 'completions',
  prepare(body): Prepared {
    const prompt = body.prompt;
    const isIds = Array.isArray(prompt) && prompt.length > 0 && prompt.every((id) => Number.isInteger(id));
    if (typeof prompt !== 'string' && !isIds) throw new InputError('prompt', 'expected one prompt: a string or an array of token ids (the gateway records one prompt per request)');
    if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw new InputError('stream', `got ${JSON.stringify(body.stream)}`, 'true or false');
    const asked = askedOfCompletion(body);
    return {
      api: 'completions',
      kind: completionKind,
      upstream: body as JsonObject,
      stream: body.stream === true,
      asked,
      model: typeof body.model === 'string' ? body.model : undefined,
      translator: (options) => new CompletionTranslator(asked, options),
      neutral: (options) => neutralCompletionRequest(body as JsonObject, options),
    };
  },
};
