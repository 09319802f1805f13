// An OpenAI-compatible model server on loopback that solves counter tasks (two increments, then
// "done") and breaks on purpose: 5xx, 429 with Retry-After, a hang, a stream cut mid-way, or a body
// that is not JSON. Which requests fail is decided by the request's own content, so the faults do
// not depend on timing: `transient` breaks every other copy of the same request (a client retry
// gets through), `permanent` breaks every request.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { JsonObject } from '../../src/core/index.ts';
import { chatCompletionEvents } from '../../src/model/mock-stream.ts';

export const ModelFault = z.enum(['http_500', 'http_429', 'hang', 'truncated_stream', 'invalid_json']);
export type ModelFault = z.infer<typeof ModelFault>;

export interface FaultModelOptions {
  fault: ModelFault;
  /** `transient`: every other identical request fails; `permanent`: all do. */
  pattern: 'transient' | 'permanent';
}

export interface FaultModelServer {
  url: string;
  /** Requests answered with a fault, and all requests received. */
  stats: { faults: number; requests: number };
  close(): Promise<void>;
}

const ChatBody = z.object({
  messages: z.array(z.object({ role: z.string(), content: z.unknown().optional() }).passthrough()),
  stream: z.boolean().optional(),
});

export function counterCompletion(messages: z.infer<typeof ChatBody>['messages']): JsonObject {
  const user = messages.find((m) => m.role === 'user');
  const id = /counter (\w)/.exec(typeof user?.content === 'string' ? user.content : '')?.[1] ?? 'a';
  const turn = messages.filter((m) => m.role === 'assistant').length;
  const message: JsonObject =
    turn < 2
      ? { role: 'assistant', content: null, tool_calls: [{ id: `call_${turn}`, type: 'function', function: { name: 'increment', arguments: JSON.stringify({ id }) } }] }
      : { role: 'assistant', content: 'done' };
  return {
    id: `chatcmpl-chaos-${turn}`,
    object: 'chat.completion',
    created: 0,
    model: 'chaos',
    choices: [{ index: 0, message, logprobs: null, finish_reason: turn < 2 ? 'tool_calls' : 'stop' }],
    usage: { prompt_tokens: 20, completion_tokens: 8, total_tokens: 28 },
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFaultModel(options: FaultModelOptions): Promise<FaultModelServer> {
  const seen = new Map<string, number>();
  const stats = { faults: 0, requests: 0 };
  const hung = new Set<ServerResponse>();

  const answer = (response: ServerResponse, body: z.infer<typeof ChatBody>, broken: boolean): void => {
    const full = counterCompletion(body.messages);
    if (broken && options.fault === 'http_500') return void response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"chaos: internal error","type":"api_error"}}');
    if (broken && options.fault === 'http_429') return void response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"error":{"message":"chaos: slow down","type":"rate_limit"}}');
    if (broken && options.fault === 'hang') {
      hung.add(response);
      response.once('close', () => hung.delete(response));
      return;
    }
    if (body.stream) {
      const events = chatCompletionEvents(full, { includeUsage: true });
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      if (broken && options.fault === 'truncated_stream') {
        response.write(events.slice(0, Math.ceil(events.length / 2)).join(''));
        return void response.destroy();
      }
      if (broken && options.fault === 'invalid_json') return void response.end(`${events[0]}data: {"id":"chaos","choices":[{"delta":{"content":"x\n\n`);
      return void response.end(events.join(''));
    }
    const text = JSON.stringify(full);
    if (broken && options.fault === 'truncated_stream') {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(text.length) });
      response.write(text.slice(0, text.length >> 1));
      return void response.destroy();
    }
    if (broken && options.fault === 'invalid_json') return void response.writeHead(200, { 'content-type': 'application/json' }).end(text.slice(0, text.length >> 1));
    response.writeHead(200, { 'content-type': 'application/json' }).end(text);
  };

  const server: Server = createServer((request, response) => {
    void readBody(request).then((text) => {
      const parsed = ChatBody.safeParse(JSON.parse(text));
      if (!parsed.success) return void response.writeHead(400).end(JSON.stringify({ error: { message: `chaos model: ${parsed.error.message}` } }));
      stats.requests++;
      const key = createHash('sha256').update(JSON.stringify(parsed.data.messages)).digest('hex');
      const copy = seen.get(key) ?? 0;
      seen.set(key, copy + 1);
      const broken = options.pattern === 'permanent' || copy % 2 === 0;
      if (broken) stats.faults++;
      answer(response, parsed.data, broken);
    }).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(400).end(JSON.stringify({ error: { message: `chaos model: ${String(error)}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hung) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
