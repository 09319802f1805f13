import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { parseInput, type FinishReason, type JsonObject, type JsonValue } from '../core/index.ts';
import { isObject } from './http.ts';
import { chatCompletionEvents, messageEvents } from './mock-stream.ts';
import { resolveToolCalls, Script, scriptedFinishReason, scriptExhaustedMessage, turnIndex, type ScriptInput, type ScriptTurn } from './script.ts';

export interface MockModelServerOptions {
  script: Script | ScriptInput;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
}

export interface MockModelServer {
  /** Base URL ending in `/v1`, for the OpenAI adapter; the Anthropic adapter takes it without `/v1`. */
  url: string;
  port: number;
  /** Every JSON body received, in order. */
  requests: unknown[];
  close(): Promise<void>;
}

type Api = 'openai' | 'anthropic';

/**
 * A model server that plays a script over real HTTP: OpenAI `POST /v1/chat/completions`,
 * Anthropic `POST /v1/messages`, `GET /v1/models`, answering `stream: true` requests with SSE
 * events as the real APIs do. The turn is the number of assistant messages in the request. A
 * turn's fault fires once per route (the first request for that turn), so a client's retry gets
 * the turn's real answer, as with a transient failure.
 */
export async function startMockModelServer(options: MockModelServerOptions): Promise<MockModelServer> {
  const script = parseInput(Script, options.script, 'mock model server script');
  const requests: unknown[] = [];
  const faultsFired = new Set<string>();
  const hanging = new Set<() => void>();
  const app = new Hono();

  const hang = (c: Context): Promise<Response> =>
    new Promise<Response>((resolve) => {
      const release = (): void => {
        hanging.delete(release);
        resolve(c.body(null, 503));
      };
      hanging.add(release);
      c.req.raw.signal.addEventListener('abort', release, { once: true });
    });

  const handle = (api: Api) => async (c: Context): Promise<Response> => {
    const text = await c.req.text();
    let body: JsonValue;
    try {
      body = JSON.parse(text) as JsonValue;
    } catch (error) {
      return errorResponse(c, api, 400, `${c.req.path}: the request body is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    requests.push(body);
    if (!isObject(body) || !Array.isArray(body.messages)) return errorResponse(c, api, 400, `${c.req.path}: expected a JSON object with a messages array`);
    const index = turnIndex(body.messages);
    const turn = script.turns[index];
    if (!turn) return errorResponse(c, api, 400, scriptExhaustedMessage(script, index));
    const faultKey = `${api}:${index}`;
    const fault = turn.fault && !faultsFired.has(faultKey) ? turn.fault : undefined;
    if (fault) faultsFired.add(faultKey);
    if (fault === 'http_500') return errorResponse(c, api, 500, `scripted fault http_500 at turn ${index}`);
    if (fault === 'hang') return hang(c);
    const promptTokens = Math.ceil(JSON.stringify(body.messages).length / 4);
    const answer = api === 'openai' ? chatCompletion(script, turn, { index, promptTokens }) : anthropicMessage(script, turn, { index, promptTokens });
    if (body.stream === true) {
      const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
      const events = api === 'openai' ? chatCompletionEvents(answer, { includeUsage }) : messageEvents(answer);
      return eventStream(faulty(events, fault, api));
    }
    if (fault === 'malformed_json') return new Response('{"id":"mock","choices":[{"index":0,"message":{"role":"assist', { status: 200, headers: { 'content-type': 'application/json' } });
    if (fault === 'cut_stream') return cutResponse(JSON.stringify(answer));
    return c.json(answer);
  };

  app.post('/v1/chat/completions', handle('openai'));
  app.post('/v1/messages', handle('anthropic'));
  app.get('/v1/models', (c) => c.json({ object: 'list', data: [{ id: script.model, object: 'model', owned_by: 'gauntlet-mock' }] }));
  app.notFound((c) =>
    c.json({ error: { message: `no route ${c.req.method} ${c.req.path}; the mock serves POST /v1/chat/completions, POST /v1/messages and GET /v1/models`, type: 'not_found' } }, 404),
  );

  const server = await listen(app, options.port ?? 0, options.host ?? '127.0.0.1');
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/v1`,
    port: address.port,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const release of [...hanging]) release();
        server.close((error) => (error ? reject(error) : resolve()));
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}

function listen(app: Hono, port: number, hostname: string): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname }, () => resolve(server));
    server.once('error', reject);
  });
}

/** The events a fault leaves: a cut stream stops half-way, a malformed one gets a data line that is not JSON. */
function faulty(events: string[], fault: ScriptTurn['fault'], api: Api): { events: string[]; cut: boolean } {
  const half = events.slice(0, Math.max(1, Math.floor(events.length / 2)));
  if (fault === 'cut_stream') return { events: half, cut: true };
  if (fault === 'malformed_json') {
    const broken = api === 'openai' ? 'data: {"id":"mock","choices":[{"index":0,"delta":{"content":"cut\n\n' : 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_de\n\n';
    return { events: [...half, broken], cut: false };
  }
  return { events, cut: false };
}

function eventStream({ events, cut }: { events: string[]; cut: boolean }): Response {
  return streamed(events, { cut, contentType: 'text/event-stream' });
}

/** Half of a JSON body, then the connection drops. */
function cutResponse(text: string): Response {
  return streamed([text.slice(0, Math.floor(text.length / 2))], { cut: true, contentType: 'application/json' });
}

/** A body written part by part; `cut` errors it after the last part, so the server drops the connection mid-response. */
function streamed(parts: string[], options: { cut: boolean; contentType: string }): Response {
  const encoder = new TextEncoder();
  let next = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const part = parts[next++];
      if (part !== undefined) controller.enqueue(encoder.encode(part));
      else if (options.cut) controller.error(new Error('scripted fault cut_stream'));
      else controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': options.contentType, 'cache-control': 'no-cache' } });
}

function errorResponse(c: Context, api: Api, status: 400 | 500, message: string): Response {
  const type = status === 500 ? 'api_error' : 'invalid_request_error';
  return api === 'openai' ? c.json({ error: { message, type, code: status } }, status) : c.json({ type: 'error', error: { type, message } }, status);
}

interface TurnInfo {
  index: number;
  promptTokens: number;
}

function completionTokens(turn: ScriptTurn): number {
  return Math.ceil(((turn.reasoning ?? '').length + (turn.content ?? '').length) / 4) + (turn.toolCalls ?? []).length * 8;
}

function chatCompletion(script: Script, turn: ScriptTurn, info: TurnInfo): JsonObject {
  const completion = completionTokens(turn);
  return {
    id: `chatcmpl-mock-${info.index}`,
    object: 'chat.completion',
    created: 0,
    model: script.model,
    choices: [{ index: 0, message: turn.raw ?? openAIMessage(turn, info.index), logprobs: null, finish_reason: scriptedFinishReason(turn) }],
    usage: { prompt_tokens: info.promptTokens, completion_tokens: completion, total_tokens: info.promptTokens + completion },
  };
}

function openAIMessage(turn: ScriptTurn, index: number): JsonObject {
  const calls = resolveToolCalls(turn, index);
  const style = turn.reasoningStyle ?? 'inline_think';
  const reasoning = turn.reasoning;
  let content = turn.content ?? '';
  if (reasoning !== undefined && style === 'inline_think') content = `<think>\n${reasoning}\n</think>\n\n${content}`;
  const message: JsonObject = { role: 'assistant', content: content === '' && calls.length > 0 ? null : content };
  if (reasoning !== undefined && style === 'reasoning_content') message.reasoning_content = reasoning;
  if (reasoning !== undefined && style === 'reasoning_field') message.reasoning = reasoning;
  if (reasoning !== undefined && style === 'reasoning_details') {
    message.reasoning_details = [{ type: 'reasoning.text', id: 'reasoning-text-1', format: 'MiniMax-response-v1', index: 0, text: reasoning }];
  }
  if (calls.length > 0) {
    // argumentsText goes out verbatim, so a script can send malformed JSON.
    message.tool_calls = calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.argumentsText } }));
  }
  return message;
}

const STOP_REASONS: Record<FinishReason, string> = {
  stop: 'end_turn',
  tool_calls: 'tool_use',
  length: 'max_tokens',
  content_filter: 'refusal',
  error: 'end_turn',
  other: 'end_turn',
};

function anthropicMessage(script: Script, turn: ScriptTurn, info: TurnInfo): JsonObject {
  const content: JsonObject[] = [];
  if (turn.reasoning !== undefined) {
    const signature = turn.signature ?? `sig_${createHash('sha256').update(`${info.index}\u0000${turn.reasoning}`).digest('base64url').slice(0, 32)}`;
    content.push({ type: 'thinking', thinking: turn.reasoning, signature });
  }
  if (turn.content) content.push({ type: 'text', text: turn.content });
  for (const call of resolveToolCalls(turn, info.index)) content.push({ type: 'tool_use', id: call.id, name: call.name, input: call.arguments ?? {} });
  return {
    id: `msg_mock_${info.index}`,
    type: 'message',
    role: 'assistant',
    model: script.model,
    content,
    stop_reason: STOP_REASONS[scriptedFinishReason(turn)],
    stop_sequence: null,
    usage: { input_tokens: info.promptTokens, output_tokens: completionTokens(turn) },
  };
}
