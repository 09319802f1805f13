// Helpers for this module's tests: a scripted `fetch` and fixture loading. Not exported publicly.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { JsonObject, JsonValue, ModelRequest } from '../core/index.ts';

export interface RecordedFetch {
  url: string;
  headers: Record<string, string>;
  body: JsonValue;
}

/** One reply of the fake server: a status and body, an event stream, a thrown error, or no answer at all. */
export type FakeReply =
  | { status?: number; json: unknown; headers?: Record<string, string> }
  | { status?: number; text: string; headers?: Record<string, string> }
  /** A `text/event-stream` body, delivered in 7-byte pieces so events, lines and UTF-8 characters straddle reads. */
  | { sse: string }
  | { error: Error }
  /** Never answers; rejects when the request's signal aborts (as real fetch does). */
  | 'hang'
  /** Never answers and ignores the signal, like a broken fetch implementation. */
  | 'hang-deaf';

export function fakeFetch(replies: FakeReply[]): { fetch: typeof fetch; calls: RecordedFetch[] } {
  const calls: RecordedFetch[] = [];
  const queue = [...replies];
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => (headers[key] = value));
    calls.push({ url: String(input), headers, body: JSON.parse(String(init?.body)) as JsonValue });
    const reply = queue.shift();
    if (reply === undefined) throw new Error(`fakeFetch: no reply queued for call ${calls.length}`);
    if (reply === 'hang-deaf') return new Promise<Response>(() => {});
    if (reply === 'hang') {
      return new Promise<Response>((_resolve, reject) => {
        const signal = init?.signal;
        if (signal) signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    if ('error' in reply) throw reply.error;
    if ('sse' in reply) return new Response(trickle(reply.sse, 7), { status: 200, headers: { 'content-type': 'text/event-stream' } });
    const text = 'json' in reply ? JSON.stringify(reply.json) : reply.text;
    return new Response(text, { status: reply.status ?? 200, headers: { 'content-type': 'application/json', ...reply.headers } });
  };
  return { fetch: fetchImpl as typeof fetch, calls };
}

/** `text` as a byte stream in pieces of `size` bytes. */
export function trickle(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

export function readFixtureText(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms), set: (ms) => void (time = ms) };
}

export function readFixture(name: string): JsonObject {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8')) as JsonObject;
}

export function fixturePath(name: string): string {
  return new URL(`../../test/fixtures/model/${name}`, import.meta.url).pathname;
}

/** A request with the schema's defaults filled in; messages are kept as the same objects. */
export function request(input: Partial<ModelRequest> & Pick<ModelRequest, 'messages'>): ModelRequest {
  return { tools: [], sampling: {}, ...input };
}

export const noSleep = async (_ms: number): Promise<void> => {};

export const signal = new AbortController().signal;

/** A validator that checks the string formats we generate, without a formats plugin. */
export function createValidator(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('email', /^[^\s@]+@[^\s@]+\.[^\s@]+$/);
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('uri', /^https?:\/\/\S+$/);
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  return ajv;
}

/** Answers one request; `attempt` counts requests from 1. */
export type ServerHandler = (response: ServerResponse, attempt: number) => void;

/** A server on 127.0.0.1 that reads each request body, then lets `handler` answer; closed (connections too) after `body`. */
export async function withServer(handler: ServerHandler, body: (base: string) => Promise<void>): Promise<void> {
  let attempts = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => handler(res, ++attempts));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await body(base);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
