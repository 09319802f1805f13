// What every client API plugs into the one exchange: how its body becomes an upstream chat or
// completions request, and how the upstream's answers become its own again.
import type { JsonObject, JsonValue, ModelRequest } from '../../core/index.ts';
import type { ParseOutcome } from '../../model/index.ts';
import type { Asked, EngineKind } from './capture.ts';
import type { ClientApi } from './http.ts';
import type { MessageCache } from './neutral.ts';

type JsonRecord = { [key: string]: JsonValue };

/** One streamed answer assembled into the body a non-streamed request would have returned. */
export interface Assembly {
  /** A stream chunk, parsed (error chunks and bad data are the exchange's to judge, before this). */
  push(chunk: JsonRecord): void;
  body(): JsonRecord;
}

/** The upstream route a client API is served through: chat completions, or raw completions. */
export interface UpstreamKind {
  readonly path: '/chat/completions' | '/completions';
  /** The fields that make the engine report prompt and completion ids and logprobs. */
  captureFields(engine: EngineKind, body: JsonObject): JsonObject;
  assembly(): Assembly;
  /** A whole body into a ModelResponse with the engine's tokens. */
  parse(json: JsonValue): ParseOutcome;
  /** A whole body replayed as the stream chunks that carry it (engines that give ids only without streaming). */
  chunksOf(body: JsonRecord): JsonRecord[];
}

/** Turns the upstream's answers into what this client's API says, and remembers what the client got. */
export interface Translator {
  /** Chat and completions clients get the upstream's own bodies (errors included); translated APIs get new ones. */
  readonly passthrough: boolean;
  /** A whole 2xx upstream body (parsed, and its exact text) into the client's body text. */
  body(json: JsonRecord, text: string): string;
  /** One upstream stream chunk (parsed, and its exact data) into SSE text for the client ('' for nothing). */
  chunk(json: JsonRecord, data: string): string;
  /** After the upstream's terminal event: the client's closing events. */
  done(): string;
  /** The upstream stream broke or carried an error: the text that tells this client, or null to cut its connection as the upstream cut ours. */
  broken(message: string): string | null;
  /** An upstream error status and body (JSON, or its text) in the client's API. */
  error(status: number, body: JsonValue | undefined, text: string): string;
  /** What the client received, as one body, for the wire record; `upstream` is the assembled upstream body. */
  received(upstream: JsonRecord): JsonValue;
}

export interface TranslatorOptions {
  engine: EngineKind;
  /**
   * What becomes of the token fields in a chat or completions answer: `strip` what the gateway
   * added, `expose` them in vLLM's shape (the client records them itself), or leave the answer
   * `untouched` (nothing was added). Translated APIs have no place for them either way.
   */
  tokens: 'strip' | 'expose' | 'untouched';
}

/** A client request read and checked: the upstream body (without capture fields) and how to answer. */
export interface Prepared {
  api: ClientApi;
  kind: UpstreamKind;
  upstream: JsonObject;
  stream: boolean;
  /** The token fields the client asked for itself; translated APIs can ask for none. */
  asked: Asked;
  model: string | undefined;
  translator(options: TranslatorOptions): Translator;
  /** The provider-neutral request to record. */
  neutral(options: { cache: MessageCache; policyVersion?: string | undefined }): ModelRequest;
}

/** A client API: reads its body into a Prepared request, or throws InputError naming the field. */
export interface ClientApiHandler {
  readonly api: ClientApi;
  prepare(body: JsonRecord): Prepared;
}

/**
 * Answers in the upstream's own API (chat, completions): the upstream's bytes when nothing needs
 * removing, else its bodies and chunks as `shape` leaves them (the gateway's token fields stripped,
 * or exposed in vLLM's shape). Errors and a cut stream reach the client as the upstream sent them.
 */
export abstract class PassthroughTranslator implements Translator {
  readonly passthrough = true;
  protected readonly untouched: boolean;
  constructor(
    protected readonly asked: Asked,
    protected readonly options: TranslatorOptions,
  ) {
    this.untouched = options.tokens === 'untouched' || (options.tokens === 'expose' ? options.engine === 'vllm' : asked.logprobs && asked.tokenIds);
  }

  /** An upstream body or chunk as the client gets it; null for a chunk with nothing left to send. */
  protected abstract shape(body: JsonRecord): JsonRecord | null;

  abstract chunk(json: JsonRecord, data: string): string;

  body(json: JsonRecord, text: string): string {
    return this.untouched ? text : JSON.stringify(this.shape(json));
  }

  done(): string {
    return dataEvent('[DONE]');
  }

  broken(): string | null {
    // These clients read a cut stream as one: cutting their connection tells them exactly what happened upstream.
    return null;
  }

  error(_status: number, _body: JsonValue | undefined, text: string): string {
    return text;
  }

  received(upstream: JsonRecord): JsonValue {
    return this.shape(upstream) ?? upstream;
  }
}

/** SSE `data:` framing, as OpenAI-style servers write it. */
export function dataEvent(data: string): string {
  return `data: ${data}\n\n`;
}

/** A named SSE event, as the Responses and Anthropic APIs write them. */
export function namedEvent(name: string, data: JsonValue): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The error message an OpenAI-, vLLM- or Anthropic-style error body carries, else its text. */
export function upstreamErrorMessage(body: JsonValue | undefined, text: string): string {
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const error = body.error;
    if (typeof error === 'string') return error;
    if (error !== null && typeof error === 'object' && !Array.isArray(error) && typeof error.message === 'string') return error.message;
    if (typeof body.message === 'string') return body.message;
    if (typeof body.detail === 'string') return body.detail;
  }
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}
