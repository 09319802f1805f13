// Reading client bodies, writing answers, and errors in each client API's own shape.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InputError, JsonValue } from '../../core/index.ts';
import { prematureClose } from './transport.ts';

/** The APIs a client may speak to the gateway; errors are written in the one it spoke. */
export type ClientApi = 'chat' | 'completions' | 'responses' | 'messages' | 'gateway';

export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/**
 * Deeper than any honest request (tool schemas nest a few dozen levels); far deeper bodies
 * overflow the stack of whatever walks them (reading messages, sending upstream, storing the
 * record), which would be a 500 or a call the store cannot read back.
 */
export const MAX_JSON_DEPTH = 128;

/** Response header saying who recorded the call: `true` (the gateway), `false` (nobody) or `client`. */
export const RECORDED_HEADER = 'x-gauntlet-recorded';
export { RECORDED_BY_HEADER } from '../../core/index.ts';
/** Request header naming the rollout, for clients whose base URL cannot carry `/rollouts/ID`. */
export const ROLLOUT_HEADER = 'x-gauntlet-rollout';

/** An answer the gateway writes itself (never a model's): a bad body, an unknown route, an unreachable upstream. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'GatewayError';
  }

  static fromInput(error: InputError): GatewayError {
    return new GatewayError(400, error.message, error.where);
  }
}

const OPENAI_TYPES: Record<number, string> = { 400: 'invalid_request_error', 404: 'not_found_error', 409: 'conflict_error', 413: 'invalid_request_error', 502: 'upstream_error' };
const ANTHROPIC_TYPES: Record<number, string> = { 400: 'invalid_request_error', 404: 'not_found_error', 409: 'invalid_request_error', 413: 'request_too_large', 502: 'api_error', 529: 'overloaded_error' };

/** `{"error": {message, type, param, code}}` (OpenAI, vLLM) or `{"type": "error", "error": {type, message}}` (Anthropic). */
export function errorBody(api: ClientApi, status: number, message: string, param: string | null = null): JsonValue {
  if (api === 'messages') return { type: 'error', error: { type: ANTHROPIC_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message } };
  return { error: { message, type: OPENAI_TYPES[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error'), param, code: null } };
}

export function sendJson(res: ServerResponse, status: number, body: JsonValue | string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, api: ClientApi, error: GatewayError, headers: Record<string, string> = {}): void {
  sendJson(res, error.status, errorBody(api, error.status, error.message, error.param), headers);
}

export function startEventStream(res: ServerResponse, headers: Record<string, string>): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
}

/** Writes to the client, waiting while its socket is full (a slow reader must not make the gateway buffer a whole answer). */
export function write(res: ServerResponse, text: string): Promise<void> | undefined {
  if (text === '' || res.destroyed || res.write(text)) return undefined;
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Ends the client's connection without ending its answer, as the upstream ended ours: what was
 * written is flushed first, then the socket closes with the chunked body unfinished.
 */
export function cut(res: ServerResponse): void {
  // Headers not yet on the wire go first (the upstream had answered 200 before it broke off); a no-op once they are.
  res.flushHeaders();
  if (res.socket) res.socket.end();
  else res.destroy();
}

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBytes(req)).toString('utf8');
}

/**
 * The body's bytes, up to MAX_BODY_BYTES: a client cannot make the gateway hold more. Read with
 * listeners: an async iterator per request costs more than the rest of reading a small body.
 */
export function readBytes(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      settled = true;
      reject(new GatewayError(413, `the request body is larger than ${MAX_BODY_BYTES} bytes`));
      // Left as an async iterator leaves a request it stops reading: destroyed, its socket kept for the 413.
      void (async () => {
        for await (const _rest of req) break;
      })();
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    req.on('close', () => {
      if (settled) return;
      settled = true;
      reject(prematureClose());
    });
  });
}

/** A JSON object body, or a 400 saying what it was instead. */
export function parseJsonObject(text: string): { [key: string]: JsonValue } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new GatewayError(400, `the request body is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new GatewayError(400, 'the request body must be a JSON object');
  const body = value as { [key: string]: JsonValue };
  if (nestsTooDeep(body, MAX_JSON_DEPTH)) {
    const at = tooDeepAt(body, MAX_JSON_DEPTH);
    throw new GatewayError(400, `the request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels (at ${at})`, at);
  }
  return body;
}

type Container = { [key: string]: unknown } | unknown[];

function isContainer(value: unknown): value is Container {
  return value !== null && typeof value === 'object';
}

/** Without recursion (the point is a body too deep to recurse over); a few microseconds for a long conversation. */
function nestsTooDeep(root: Container, max: number): boolean {
  const values: Container[] = [root];
  const depths: number[] = [1];
  for (let value = values.pop(); value !== undefined; value = values.pop()) {
    const depth = depths.pop() as number;
    if (depth > max) return true;
    // Indexed and for-in, not Object.values: no array made per object walked.
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (!isContainer(item)) continue;
        values.push(item);
        depths.push(depth + 1);
      }
    } else {
      for (const key in value) {
        const item = value[key];
        if (!isContainer(item)) continue;
        values.push(item);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** The path of the first value below `max` levels, for the error (only walked once a body is refused). */
function tooDeepAt(root: Container, max: number): string {
  let path = '';
  let value: Container = root;
  for (let depth = 1; depth <= max; depth++) {
    const entries: [string, unknown][] = Array.isArray(value) ? value.map((item, i) => [`[${i}]`, item]) : Object.entries(value).map(([key, item]) => [path === '' ? key : `.${key}`, item]);
    const next = entries.find(([, item]) => isContainer(item) && nestsTooDeep(item, max - depth));
    if (!next) break;
    path += next[0];
    value = next[1] as Container;
  }
  return path;
}
