// One client request through the gateway: the upstream is asked with the capture fields added,
// the client is answered (in its own API, without what the gateway added) as the upstream's bytes
// arrive, and only then is the call recorded, so recording adds nothing to the client's latency.
// The gateway never invents an answer: upstream errors go back as the upstream sent them, a cut
// stream is cut for the client too (or told in the client API's own failure event), and each is
// recorded as a failed call with its kind.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonObject, JsonValue, ModelResult, WireExchange } from '../../core/index.ts';
import { scrub, scrubResult } from '../../model/index.ts';
import { upstreamErrorMessage, type Prepared, type Translator } from './api.ts';
import { cut, errorBody, GatewayError, RECORDED_HEADER, sendError, startEventStream, write } from './http.ts';
import { scrubRelayed } from './redact.ts';
import type { CallSlot, PromptOf, RolloutTrack } from './recording.ts';
import { isRecord, parseJson, relayStream, withStreamRecord } from './stream-relay.ts';
import { AnswerTooLarge, type UpstreamResponse } from './transport.ts';
import { describeFetchError, UpstreamSilent, type Upstream } from './upstream.ts';

type JsonRecord = { [key: string]: JsonValue };
type Failure = Extract<ModelResult, { ok: false }>;

/** Who records this call: the gateway (into a rollout), the client itself (Gauntlet's runner), or nobody. */
export type Recording = { kind: 'gateway'; track: RolloutTrack } | { kind: 'client' } | { kind: 'none' };

export interface ExchangeInput {
  req: IncomingMessage;
  res: ServerResponse;
  /** The path the client called, for the wire record. */
  path: string;
  /** The client's body exactly as parsed. */
  body: JsonRecord;
  /** The JSON text it was parsed from. */
  bodyText: string;
  prepared: Prepared;
  upstream: Upstream;
  recording: Recording;
  now: () => number;
}

export interface ExchangeOutcome {
  ok: boolean;
  recorded: boolean;
}

/**
 * The client's own JSON text with `fields` added at its end: what JSON.stringify({...body,
 * ...fields}) would send, without encoding the whole conversation again. Null when a field is
 * already in the body, which the spread would replace where it stands.
 */
function appendFields(text: string, body: JsonRecord, fields: JsonObject): string | null {
  let added = '';
  for (const key in fields) {
    if (Object.hasOwn(body, key)) return null;
    added += `,${JSON.stringify(key)}:${JSON.stringify(fields[key])}`;
  }
  if (added === '') return text;
  const head = text.slice(0, text.lastIndexOf('}'));
  // An empty object takes the fields without a leading comma.
  return /^\s*\{\s*$/.test(head) ? `{${added.slice(1)}}` : `${head}${added}}`;
}

function promptOf(prepared: Prepared): PromptOf {
  const prompt = prepared.upstream.prompt;
  if (prepared.kind.path === '/completions' && (typeof prompt === 'string' || Array.isArray(prompt))) return { kind: 'text', prompt: prompt as string | number[] };
  return { kind: 'messages' };
}

class Exchange {
  private readonly slot: CallSlot | null;
  private readonly track: RolloutTrack | null;
  private readonly controller = new AbortController();
  private readonly headers: Record<string, string>;
  private readonly wireBase: WireExchange;
  /** The key sent upstream: an upstream that echoes it (in an answer, in an error) must not put it in the record. */
  private readonly secret: string | undefined;
  /** The gateway's own key, when it sent one: scrubbed from everything relayed, so the client never learns it. */
  private readonly hidden: string | undefined;
  private translator!: Translator;
  private model: string;

  constructor(private readonly input: ExchangeInput) {
    const { recording, prepared } = input;
    this.track = recording.kind === 'gateway' ? recording.track : null;
    // Read into the neutral request before anything is sent: a body the gateway cannot record is refused (400), not forwarded unrecorded.
    this.slot = this.track
      ? this.track.begin({ request: prepared.neutral({ cache: this.track.cache, policyVersion: this.track.policyVersion() }), prompt: promptOf(prepared), startedAt: input.now() })
      : null;
    this.headers = { [RECORDED_HEADER]: recording.kind === 'gateway' ? 'true' : recording.kind === 'client' ? 'client' : 'false' };
    this.wireBase = { url: input.path, request: input.body };
    this.model = prepared.model ?? 'unknown';
    this.secret = input.upstream.credential(input.req);
    this.hidden = input.upstream.hiddenKey();
  }

  async run(): Promise<ExchangeOutcome> {
    const { res } = this.input;
    const onClose = (): void => {
      if (!res.writableFinished) this.controller.abort(new Error('the client closed the connection'));
    };
    res.on('close', onClose);
    try {
      return await this.exchange();
    } finally {
      res.off('close', onClose);
    }
  }

  private finish(received: ModelResult): ExchangeOutcome {
    const result = scrubResult(received, this.secret);
    if (result.ok && result.response.model && this.model === 'unknown') this.model = result.response.model;
    if (this.track && this.slot) this.track.finish(this.slot, { result, model: this.model, endedAt: this.input.now() });
    return { ok: result.ok, recorded: this.track !== null };
  }

  private fail(kind: Failure['kind'], message: string, wire: Partial<WireExchange> = {}): ExchangeOutcome {
    return this.finish({ ok: false, kind, message, retryable: kind !== 'malformed_response' && kind !== 'aborted', wire: { ...this.wireBase, ...wire } });
  }

  /** An answer the gateway writes itself (the upstream gave none it could pass on), recorded as the failure it is. */
  private refuse(kind: Failure['kind'], status: number, message: string): ExchangeOutcome {
    const error = new GatewayError(status, message);
    sendError(this.input.res, this.input.prepared.api, error, this.headers);
    return this.fail(kind, message, { status, response: errorBody(this.input.prepared.api, status, message) });
  }

  private aborted(wire: Partial<WireExchange> = {}): ExchangeOutcome {
    return this.fail('aborted', 'the client closed the connection before the answer was complete', wire);
  }

  private async exchange(): Promise<ExchangeOutcome> {
    const { prepared, upstream, recording, req } = this.input;
    let engine;
    try {
      engine = await upstream.engine();
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      return this.refuse('connection', error.status, error.message);
    }
    const capture = recording.kind === 'none' ? {} : prepared.kind.captureFields(engine, prepared.upstream);
    // SGLang reports chat token ids only without streaming: ask for the whole answer and replay it as a stream.
    const replay = prepared.stream && recording.kind !== 'none' && engine === 'sglang' && prepared.kind.path === '/chat/completions';
    let payload: string | null = null;
    if (prepared.upstream === this.input.body && !replay) payload = appendFields(this.input.bodyText, this.input.body, capture);
    if (payload === null) {
      const body: JsonObject = { ...prepared.upstream, ...capture };
      if (replay) {
        body.stream = false;
        delete body.stream_options;
      }
      payload = JSON.stringify(body);
    }
    this.translator = prepared.translator({ engine, tokens: recording.kind === 'none' ? 'untouched' : recording.kind === 'client' ? 'expose' : 'strip' });

    let response: UpstreamResponse;
    try {
      response = await upstream.send(prepared.kind.path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...upstream.authorization(req) },
        body: payload,
        signal: this.controller.signal,
      });
    } catch (error) {
      if (this.controller.signal.aborted) return this.aborted();
      if (error instanceof UpstreamSilent) return this.refuse('timeout', 504, error.at('before answering'));
      return this.refuse('connection', 502, `the upstream ${upstream.describe()} could not be reached (${describeFetchError(error)})`);
    }
    try {
      if (response.status < 200 || response.status > 299) return await this.relayError(response);
      const type = (response.header('content-type') ?? '').toLowerCase();
      if (type.includes('text/event-stream')) {
        // Relayed, it would reach a client that asked for one JSON answer as events of its API, which its SDK cannot read.
        if (!prepared.stream && !this.translator.passthrough) {
          response.cancel();
          return this.refuse('malformed_response', 502, `the upstream answered with an event stream (content-type ${type}) to a request for a whole answer (stream false)`);
        }
        return await this.relayStream(response);
      }
      return await this.relayBody(response, replay || (prepared.stream && !this.translator.passthrough));
    } catch (error) {
      if (this.controller.signal.aborted) return this.aborted({ status: response.status });
      // Read whole before anything is sent: the client hears why, and the call is recorded as the upstream's bad answer.
      if (error instanceof AnswerTooLarge && !this.input.res.headersSent) return this.refuse('malformed_response', 502, error.message);
      const silent = response.endedBySilence() ?? (error instanceof UpstreamSilent ? error : null);
      if (this.input.res.headersSent) {
        cut(this.input.res);
        return this.fail(silent ? 'timeout' : 'connection', silent ? silent.at('in the middle of its answer') : `reading the upstream's answer failed (${describeFetchError(error)})`, { status: response.status });
      }
      if (silent) return this.refuse('timeout', 504, silent.at('in the middle of its answer'));
      return this.refuse('connection', 502, `the upstream's answer broke off (${describeFetchError(error)})`);
    }
  }

  private async relayError(response: UpstreamResponse): Promise<ExchangeOutcome> {
    const { res } = this.input;
    const text = scrubRelayed(await response.text(this.input.upstream.maxResponseBytes), this.hidden);
    const json = parseJson(text);
    const answer = this.translator.error(response.status, json, text);
    const type = this.translator.passthrough ? (response.header('content-type') ?? 'application/json') : 'application/json';
    res.writeHead(response.status, { 'content-type': type, 'content-length': Buffer.byteLength(answer), ...this.headers });
    res.end(answer);
    const received = this.translator.passthrough ? (json ?? text) : (parseJson(answer) ?? answer);
    // Scrubbed before the message quotes the body cut short, which would keep part of the key.
    return this.fail('http', `the upstream answered HTTP ${response.status}: ${upstreamErrorMessage(json, scrub(text, this.secret))}`, { status: response.status, response: received });
  }

  private async relayBody(response: UpstreamResponse, asStream: boolean): Promise<ExchangeOutcome> {
    const { res, prepared } = this.input;
    const text = scrubRelayed(await response.text(this.input.upstream.maxResponseBytes), this.hidden);
    const json = parseJson(text);
    const parsed = isRecord(json) ? prepared.kind.parse(json) : null;
    if (!parsed || !parsed.ok) {
      const problem = parsed ? parsed.failure.message : `the body is not a JSON object (it starts ${JSON.stringify(scrub(text, this.secret).slice(0, 80))})`;
      const message = `the upstream answered HTTP ${response.status}, but ${problem}`;
      if (!this.translator.passthrough) return this.refuse('malformed_response', 502, message);
      // A chat or completions client gets what the upstream sent, as it would without the gateway.
      res.writeHead(response.status, { 'content-type': response.header('content-type') ?? 'application/json', ...this.headers });
      res.end(isRecord(json) ? this.translator.body(json, text) : text);
      return this.fail('malformed_response', message, { status: response.status, response: json ?? text });
    }
    const upstreamBody = json as JsonRecord;
    if (asStream) {
      startEventStream(res, this.headers);
      const chunks = prepared.kind.chunksOf(upstreamBody);
      for (const chunk of chunks) await write(res, this.translator.chunk(chunk, JSON.stringify(chunk)));
      res.end(this.translator.done());
      const received = this.translator.received(upstreamBody);
      return this.finish({ ok: true, response: parsed.response, wire: { ...this.wireBase, status: response.status, response: withStreamRecord(received, { events: chunks.length + 1, replayed: true }) } });
    }
    const answer = this.translator.body(upstreamBody, text);
    res.writeHead(response.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer), ...this.headers });
    res.end(answer);
    return this.finish({ ok: true, response: parsed.response, wire: { ...this.wireBase, status: response.status, response: this.translator.received(upstreamBody) } });
  }

  private async relayStream(response: UpstreamResponse): Promise<ExchangeOutcome> {
    const { res, prepared, upstream } = this.input;
    const end = await relayStream(response, { res, headers: this.headers, translator: this.translator, kind: prepared.kind, maxResponseBytes: upstream.maxResponseBytes, secret: this.secret, hidden: this.hidden, signal: this.controller.signal });
    if (end.kind === 'aborted') return this.aborted({ status: response.status, response: end.received });
    if (end.kind === 'failed') return this.fail(end.failure.kind, end.failure.message, { status: response.status, response: end.received });
    const parsed = prepared.kind.parse(end.body);
    const wire = { ...this.wireBase, status: response.status, response: withStreamRecord(this.translator.received(end.body), { events: end.events, bytes: end.bytes }) };
    if (!parsed.ok) return this.fail(parsed.failure.kind, parsed.failure.message, wire);
    return this.finish({ ok: true, response: parsed.response, wire });
  }
}

/** Runs one exchange; errors the gateway cannot answer as a model call (bugs) propagate to the server. */
export function runExchange(input: ExchangeInput): Promise<ExchangeOutcome> {
  return new Exchange(input).run();
}
